import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from contacts import liveness
from contacts.models import Contact, ImportBatch, Network, Tag
from tests.contacts.factories import ContactFactory, NoteFactory
from tests.contacts.worker import run_queued_tasks

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"


def upload(client, name="current.csv", data=None, **fields):
    data = data if data is not None else (FIXTURES / name).read_bytes()
    network = fields.pop("network", None)
    if network is None:
        network = Network.objects.default_for(client.user).pk
    payload = {"file": SimpleUploadedFile(name, data, "text/csv"), "network": network, **fields}
    response = client.post("/imports/", payload)
    run_queued_tasks()
    return response


@pytest.fixture
def client(staff_client, staff_user):
    staff_client.user = staff_user
    return staff_client


def test_it_requires_staff(anon_client, non_staff_client):
    assert anon_client.get("/imports/").status_code == 302
    assert non_staff_client.get("/imports/").status_code == 403
    data = {"file": SimpleUploadedFile("c.csv", b"First Name\nA", "text/csv")}
    assert non_staff_client.post("/imports/", data).status_code == 403
    assert not Contact.objects.exists()


def test_upload_shows_a_preview_and_changes_nothing(client):
    ContactFactory(
        first_name="Fitzgerald",
        last_name="Orme",
        company="Tallowby & Sons",
        profile_url="https://www.linkedin.com/in/fitz-orme",
        position="Intern",
    )
    response = upload(client, tags="Conference 2025, Berlin")
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/imports/{batch.pk}/"
    assert Contact.objects.count() == 1
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Preview: what importing will do" in page
    assert 'id="count-created">5<' in page and 'id="count-updated">1<' in page
    assert "<del>Intern</del> → <ins>Apprentice</ins>" in page
    assert "Confirm import" in page
    assert set(batch.tags.values_list("name", flat=True)) == {"Conference 2025", "Berlin"}


def test_confirm_imports_and_shows_the_result(client):
    upload(client)
    batch = ImportBatch.objects.get()
    response = client.post(f"/imports/{batch.pk}/confirm/", follow=True)
    assert "Imported: 6 new, 0 updated, 0 unchanged." in response.content.decode()
    assert Contact.objects.count() == 6
    assert "Undo import" in response.content.decode()


def test_confirm_is_post_only_and_only_once(client):
    upload(client)
    batch = ImportBatch.objects.get()
    assert client.get(f"/imports/{batch.pk}/confirm/").status_code == 405
    client.post(f"/imports/{batch.pk}/confirm/")
    response = client.post(f"/imports/{batch.pk}/confirm/", follow=True)
    assert "confirmed already" in response.content.decode()
    assert Contact.objects.count() == 6


def test_cancel_deletes_the_pending_batch(client):
    upload(client)
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/cancel/")
    assert not ImportBatch.objects.exists() and not Contact.objects.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The submitted file is empty."),
        ("headerless.csv", "First Name"),
        ("not_a_csv.xlsx.csv", "Excel"),
        ("image.png.csv", "PNG"),
        ("doc.pdf.csv", "PDF"),
        ("no_name_no_url.csv", "no name or profile URL column"),
    ],
)
def test_a_rejected_file_is_a_form_error_and_changes_nothing(client, name, message):
    ContactFactory()
    response = upload(client, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()
    assert Contact.objects.count() == 1


def test_an_oversized_file_is_refused_before_parsing(client, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    big = (FIXTURES / "current.csv").read_bytes() + b"\n" + b"x," * 800_000
    response = upload(client, data=big)
    assert "This file is 1.5 MB, over the 1 MB limit." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_file_just_over_the_limit_is_refused_as_it_arrives(client, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    data = (FIXTURES / "current.csv").read_bytes()
    data += b"\n" * (1024 * 1024 + 1 - len(data))
    response = upload(client, data=data, tags="Berlin")
    page = response.content.decode()
    assert "This file is 1.0 MB, over the 1 MB limit. A LinkedIn export of 30,000" in page
    # The fields after the file were never read: the form is shown afresh, not as invalid.
    assert "This field is required" not in page
    assert not ImportBatch.objects.exists() and not Tag.objects.exists()


def test_bad_form_input_is_reported(client):
    response = upload(client, network="999999", tags="x" * 61)
    content = response.content.decode()
    assert "Select a valid choice" in content and "at most 60 characters" in content
    assert not ImportBatch.objects.exists() and not Tag.objects.exists()
    response = client.post("/imports/", {})
    assert "This field is required" in response.content.decode()


def test_the_batch_page_notices_the_same_file(client):
    upload(client)
    client.post(f"/imports/{ImportBatch.objects.get().pk}/confirm/")
    upload(client)
    second = ImportBatch.objects.filter(status="pending").get()
    page = client.get(f"/imports/{second.pk}/").content.decode()
    assert "This very file (same content) was imported before" in page
    assert 'id="count-unchanged">6<' in page


def test_the_batch_page_lists_problems_with_line_numbers(client):
    upload(client, "bad_emails.csv")
    batch = ImportBatch.objects.get()
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    first = batch.errors[0]
    assert f"Line {first['line']}:" in page


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


def test_progress_partial_reports_rows_and_refreshes_when_finished(client):
    upload(client)
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(status="running", rows_done=3)
    response = client.get(f"/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert b"3 of 6 rows" in response.content and b'value="50"' in response.content
    assert "HX-Refresh" not in response
    ImportBatch.objects.filter(pk=batch.pk).update(status="done", rows_done=6)
    response = client.get(f"/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"


def test_large_files_are_queued_with_a_progress_bar(client, settings):
    settings.IMPORT_ASYNC_ROWS = 2
    upload(client)
    batch = ImportBatch.objects.get()
    response = client.post(f"/imports/{batch.pk}/confirm/", follow=True)
    assert b'<progress id="import-progress"' in response.content
    assert ImportBatch.objects.get().status == "queued"


def imported_then_running(client, *, quiet_for: datetime.timedelta) -> ImportBatch:
    """An import whose six new contacts are committed while it still shows as running, with its
    last progress `quiet_for` ago: as a worker leaves it when it dies before marking it done."""
    upload(client)
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/confirm/")
    ImportBatch.objects.filter(pk=batch.pk).update(
        status="running",
        progress_at=timezone.now() - quiet_for,
        worker=liveness.current_process(),
        finished_at=None,
    )
    return ImportBatch.objects.get()


def test_the_batch_page_shows_a_stalled_import_and_writes_nothing(client):
    batch = imported_then_running(client, quiet_for=datetime.timedelta(minutes=10))
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "The worker importing this file stopped" in page
    assert f'href="/imports/{batch.pk}/undo/"' in page
    response = client.get(f"/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert b"Stalled:" in response.content and "HX-Refresh" not in response
    batch.refresh_from_db()
    assert batch.status == "running" and batch.failure == "" and batch.finished_at is None


def test_the_batch_page_of_a_live_import_offers_no_undo(client):
    batch = imported_then_running(client, quiet_for=datetime.timedelta(seconds=5))
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "stopped" not in page and f"/imports/{batch.pk}/undo/" not in page
    assert "Importing…" in page


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


def test_a_refused_file_creates_no_network_and_the_same_form_then_imports(staff_client):
    """A newcomer's first upload is refused: nothing is created (not their network, not the
    tags), and sending the form again as it was shown, network left on "mine", works."""
    bad = SimpleUploadedFile("doc.pdf.csv", (FIXTURES / "doc.pdf.csv").read_bytes())
    response = staff_client.post("/imports/", {"file": bad, "network": "", "tags": "Fresh"})
    assert "This looks like a PDF document" in response.content.decode()
    assert not Network.objects.exists() and not Tag.objects.exists()
    good = SimpleUploadedFile("current.csv", (FIXTURES / "current.csv").read_bytes())
    response = staff_client.post("/imports/", {"file": good, "network": "", "tags": "Fresh"})
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.network.owner.username == "alice" and batch.network.is_default
    # With the network there now, leaving the choice on "mine" still means it.
    good = SimpleUploadedFile("current.csv", (FIXTURES / "current.csv").read_bytes())
    assert staff_client.post("/imports/", {"file": good, "network": ""}).status_code == 302
    assert Network.objects.count() == 1
