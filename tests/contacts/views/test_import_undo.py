import datetime

import pytest

from contacts.models import Contact, ImportBatch
from tests.contacts.factories import NoteFactory
from tests.contacts.views.import_helpers import imported_then_running, upload
from tests.contacts.worker import run_queued_tasks

pytestmark = pytest.mark.django_db


def test_undo_asks_then_undoes_and_lists_kept_contacts(client):
    upload(client)
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/confirm/")
    NoteFactory(contact=Contact.objects.get(first_name="Aurelia"))
    page = client.get(f"/imports/{batch.pk}/undo/").content.decode()
    assert "Undo this import?" in page
    assert Contact.objects.count() == 6
    response = client.post(f"/imports/{batch.pk}/undo/", follow=True)
    assert "Waiting for the worker to undo" in response.content.decode()
    assert Contact.objects.count() == 6
    run_queued_tasks()
    content = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Undone: 5 deleted, 0 restored." in content and "Kept because they have notes" in content
    assert "Aurelia" in content
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Aurelia"]
    response = client.post(f"/imports/{batch.pk}/undo/", follow=True)
    assert "cannot be undone" in response.content.decode()


def test_undo_of_a_stalled_import_marks_it_failed_and_undoes_what_it_wrote(client):
    batch = imported_then_running(client, quiet_for=datetime.timedelta(minutes=10))
    page = client.get(f"/imports/{batch.pk}/undo/").content.decode()
    assert "Its worker stopped at row 6 of 6" in page
    assert "The 6 contacts it created will be deleted" in page
    assert "The 0 contacts it updated" in page
    assert ImportBatch.objects.get().status == "running"  # the GET wrote nothing
    client.post(f"/imports/{batch.pk}/undo/")
    run_queued_tasks()
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Undone: 6 deleted, 0 restored." in page
    batch.refresh_from_db()
    assert batch.status == "undone" and "no progress for 10 minutes" in batch.failure
    assert not Contact.objects.exists()


def test_undo_of_an_import_that_did_not_finish_shows_what_it_wrote(client):
    batch = imported_then_running(client, quiet_for=datetime.timedelta(minutes=10))
    ImportBatch.objects.filter(pk=batch.pk).update(status="failed", failure="Stopped.")
    page = client.get(f"/imports/{batch.pk}/undo/").content.decode()
    assert "This import did not finish" in page and "The 6 contacts it created" in page
    client.post(f"/imports/{batch.pk}/undo/")
    run_queued_tasks()
    assert "Undone: 6 deleted" in client.get(f"/imports/{batch.pk}/").content.decode()


def test_undo_is_refused_with_the_reason_for_a_live_or_pending_import(client):
    batch = imported_then_running(client, quiet_for=datetime.timedelta(seconds=5))
    page = client.get(f"/imports/{batch.pk}/undo/").content.decode()
    assert "cannot be undone while it is importing (row 6 of 6)" in page
    assert "<button" not in page.split("<main", 1)[-1].split("</main>")[0]
    response = client.post(f"/imports/{batch.pk}/undo/", follow=True)
    assert "cannot be undone while it is importing" in response.content.decode()
    assert ImportBatch.objects.get().status == "running" and Contact.objects.count() == 6

    upload(client, data=b"First Name,Last Name\nAnn,Other\n")
    pending = ImportBatch.objects.get(status="pending")
    response = client.post(f"/imports/{pending.pk}/undo/", follow=True)
    assert "it was never confirmed, so nothing was imported. Cancel it." in (
        response.content.decode()
    )
    assert ImportBatch.objects.get(pk=pending.pk).status == "pending"
