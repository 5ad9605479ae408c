"""On SQLite, an index holding each contact's stage, id and search text.

A search counts its matches by reading every contact's `search_text` (SQLite has no index for
`LIKE '%word%'`). Read from the wide table rows that took 19 ms at 100,000 contacts, and the
stage board's count per stage, which walked the stage index and fetched each row, 47 ms
(tests/perf/bench_board.py). From this index alone, narrow and already in stage order, both
take 11 ms, and a board column's newest matching cards are found without touching the table.

PostgreSQL answers the same searches from its trigram index (0010), and a B-tree entry there
must fit in a third of a page, which a long search text need not: SQLite only.
"""

from django.db import migrations

INDEX = "contact_stage_search_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON contacts_contact (stage, id, search_text)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0012_bulk_changes_in_worker"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
