"""Refill search_text the way search now reads it: without accents or special letters, and
with German spellings ("Mueller" also as "muller"), for the contacts stored before."""

from django.db import migrations

from contacts.identity import fold
from linkedin_crm.search import indexed_text

BATCH = 2000
# Contact.build_search_text's fields, in its order.
FIELDS = ["first_name", "last_name", "company", "position", "email"]


def _refill(apps, reduce) -> None:
    Contact = apps.get_model("contacts", "Contact")
    stale = []
    rows = Contact.objects.order_by("pk").values_list("pk", "search_text", *FIELDS)
    for pk, current, *values in rows.iterator(chunk_size=BATCH):
        wanted = reduce(" ".join(values))
        if wanted != current:
            stale.append(Contact(pk=pk, search_text=wanted))
        if len(stale) >= BATCH:
            Contact.objects.bulk_update(stale, ["search_text"])
            stale = []
    Contact.objects.bulk_update(stale, ["search_text"])


def without_accents(apps, schema_editor):
    _refill(apps, indexed_text)


def case_folded_only(apps, schema_editor):
    # What search_text held before: the previous search matched its query folded so.
    _refill(apps, fold)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0008_contact_aliases_plural")]

    operations = [migrations.RunPython(without_accents, case_folded_only, elidable=True)]
