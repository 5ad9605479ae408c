"""The table of the database cache (settings.CACHES), where django-allauth counts sign-in
attempts for every web process. Made by `migrate`, so that every way the app is set up (make
run, make demo, the tests, a production deploy) has it. Created whatever the cache is now, so
that dropping REDIS_URL later finds it in place."""

from django.core.management import call_command
from django.db import migrations

CACHE_TABLE = "django_cache"  # settings.CACHES["default"]["LOCATION"] without REDIS_URL


def create_cache_table(apps, schema_editor):
    # Does nothing when the table exists.
    call_command(
        "createcachetable", CACHE_TABLE, database=schema_editor.connection.alias, verbosity=0
    )


class Migration(migrations.Migration):
    dependencies = [("linkedin_crm", "0002_roles")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
