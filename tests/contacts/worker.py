"""Run, in the test's process, the worker tasks that pages queue (on commit, which a test in a
transaction never reaches): the real task functions, as the django-q2 worker would call them."""

from contacts import tasks
from contacts.models import ContactBulkChange, ContactExport, ImportBatch


def run_queued_tasks() -> None:
    for pk in ImportBatch.objects.filter(status=ImportBatch.Status.PLANNING).values_list(
        "pk", flat=True
    ):
        tasks.plan_import(pk)
    for pk in ImportBatch.objects.filter(status=ImportBatch.Status.UNDOING).values_list(
        "pk", flat=True
    ):
        tasks.undo_import(pk, "page")
    for pk in ContactExport.objects.filter(status=ContactExport.Status.QUEUED).values_list(
        "pk", flat=True
    ):
        tasks.export_contacts(pk)
    for pk in ContactBulkChange.objects.filter(status=ContactBulkChange.Status.QUEUED).values_list(
        "pk", flat=True
    ):
        tasks.bulk_change(pk)
