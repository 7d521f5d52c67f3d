"""``billow demo``: migrate, seed, then serve with gunicorn and run the job consumer.

Ctrl-C (or SIGTERM) stops both child processes. ``--no-serve`` only migrates and seeds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from billow.demo.seed import DEMO_LOGINS, seed_demo


class Command(BaseCommand):
    help = "Seed the demo data and serve Billow (gunicorn + job consumer)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("BILLOW_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-serve", action="store_true", help="migrate and seed only")

    def handle(self, *args: Any, **opts: Any) -> None:
        # The demo pays through the sandbox gateway, which production refuses: this process
        # (seeding) and the children it starts (BILLOW_ALLOW_SANDBOX) allow it.
        settings.PAYMENTS_ALLOW_SANDBOX = True
        os.environ["BILLOW_ALLOW_SANDBOX"] = "1"
        # Demo staff log in with a password only (production requires staff MFA).
        settings.BILLOW_STAFF_MFA_REQUIRED = False
        os.environ["BILLOW_STAFF_MFA_REQUIRED"] = "0"
        call_command("migrate", interactive=False, verbosity=0)
        created = seed_demo()
        self.stdout.write(
            self.style.SUCCESS("Seeded demo data.") if created else "Demo data already present."
        )
        call_command("collectstatic", interactive=False, verbosity=0)
        host = opts["bind"]
        self.stdout.write(f"\nClient area:   http://{host}/")
        self.stdout.write(f"Staff admin:   http://{host}/admin/")
        for role, (login, password) in DEMO_LOGINS.items():
            self.stdout.write(f"  {role:<10} {login} / {password}")
        self.stdout.write(f"Database: {settings.DATABASES['default']['NAME']}\n")
        if opts["no_serve"]:
            return
        self._serve(host, opts["workers"])

    def _serve(self, bind: str, workers: int) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
        bindir = os.path.dirname(sys.executable)
        web = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [
                os.path.join(bindir, "gunicorn"),
                "config.wsgi:application",
                "--bind",
                bind,
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
            ],
            env=env,
            cwd=settings.BASE_DIR,
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "billow.cli", "run"], env=env, cwd=settings.BASE_DIR
        )
        children = [web, worker]

        def stop(*_: object) -> None:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

        def on_term(*_: object) -> None:
            stop()
            sys.exit(0)

        signal.signal(signal.SIGTERM, on_term)
        self.stdout.write("Serving; press Ctrl-C to stop.")
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping...")
        finally:
            stop()
