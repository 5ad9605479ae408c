"""A trigram index on PostgreSQL for the contact search's `search_text LIKE '%word%'`.

Without it every search reads all 100,000 contacts to count the matches (70 ms at 100,000 on
the benchmark machine, tests/perf/bench_contact_list.py); SQLite scans the same rows in-process
in less. pg_trgm ships with PostgreSQL and is a trusted extension (PostgreSQL 13+), so the
database's owner may create it. Where it cannot be created the search still works, by a scan,
and the migration says so rather than failing the deploy.
"""

from django.db import DatabaseError, migrations, transaction

INDEX = "contact_search_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        print(
            f"\n  pg_trgm could not be created ({error}); the contact search works without "
            f"its index, only slower. Run CREATE EXTENSION pg_trgm as a superuser and migrate "
            f"contacts 0009 then 0010 to add it."
        )
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON contacts_contact "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0009_search_text_without_accents"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
