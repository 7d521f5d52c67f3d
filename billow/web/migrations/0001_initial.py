"""Create the database cache table when the default cache is Django's DatabaseCache.

allauth's rate limits (login_failed, signup, ...) count in the cache; every gunicorn worker and
machine must share it, so the default is a table in the main database. Creating it here means a
plain ``migrate`` leaves a working install (``createcachetable`` is idempotent).
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):  # type: ignore[no-untyped-def]
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
