"""The ``billow`` command: Django's manage.py with Billow's commands (demo, run, bill, reconcile).

``billow run`` starts the job consumer (Huey); every other word is a Django management command.
"""

from __future__ import annotations

import os
import sys

ALIASES = {"run": "run_huey"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if len(argv) > 1 and argv[1] in ALIASES:
        argv[1] = ALIASES[argv[1]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
