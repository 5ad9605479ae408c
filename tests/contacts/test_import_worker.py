"""Previews and undos in the worker: the upload request stores the file and queues its
preview; the worker writes the plan whole or not at all; a preview or undo whose worker died is
settled by recovery; stored uploads are cleaned up."""

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ

from contacts import liveness, services, tasks
from contacts.importing import BatchNotRunnable, plan_import
from contacts.linkedin_csv import parse_connections
from contacts.models import Contact, ContactExport, ImportBatch, ImportUpload, Network
from linkedin_crm.models import AuditEvent
from tests.contacts.factories import ContactFactory
from tests.contacts.worker import run_queued_tasks

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"
HEADER = b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
DEAD_WORKER = "no-such-host-here:1:1"


@pytest.fixture
def client(staff_client, staff_user):
    staff_client.user = staff_user
    return staff_client


def post_upload(client, data: bytes, name="Connections.csv", **fields):
    network = Network.objects.default_for(client.user).pk
    payload = {"file": SimpleUploadedFile(name, data, "text/csv"), "network": network, **fields}
    return client.post("/imports/", payload)


def current() -> bytes:
    return (FIXTURES / "current.csv").read_bytes()


def test_the_upload_request_stores_the_file_and_queues_its_preview(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client, current(), tags="Berlin")
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/imports/{batch.pk}/"
    assert batch.status == ImportBatch.Status.PLANNING and batch.plan is None
    assert bytes(batch.upload.data) == current()
    assert [task.name() for task in OrmQ.objects.all()] == [batch.plan_task_name]
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Waiting for the worker to read the file" in page and "Confirm import" not in page
    assert f'hx-get="/imports/{batch.pk}/progress/"' in page

    tasks.plan_import(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.rows, batch.rows_done) == ("pending", 6, 6, 6)
    assert batch.tags.get().name == "Berlin" and not Contact.objects.exists()
    response = client.get(f"/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Preview: what importing will do" in page and "Confirm import" in page
    # Confirmed, the file's bytes are no longer needed: the plan holds everything.
    client.post(f"/imports/{batch.pk}/confirm/")
    assert Contact.objects.count() == 6 and not ImportUpload.objects.exists()


def test_a_file_with_a_header_and_no_rows_fails_in_the_worker_with_the_reason(client):
    post_upload(client, HEADER)
    run_queued_tasks()
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.PLAN_FAILED and batch.plan is None
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "The file has a header row (line 1) but no connections." in page
    assert "Confirm import" not in page and "Try again" in page
    assert not Contact.objects.exists()


def test_the_planning_reports_its_progress_every_thousand_rows(client):
    rows = b"".join(b"P%d,T,https://www.linkedin.com/in/p-%d,,,,\n" % (i, i) for i in range(2500))
    parsed = parse_connections(HEADER + rows)
    seen = []
    plan_import(parsed, network=Network.objects.default_for(client.user), progress=seen.append)
    assert seen == [1000, 2000]


def test_a_preview_whose_worker_died_fails_keeps_the_upload_and_can_be_tried_again(client):
    post_upload(client, current())
    batch = ImportBatch.objects.get()
    # The worker claimed it and died before writing any plan.
    ImportBatch.objects.filter(pk=batch.pk).update(worker=DEAD_WORKER, rows=6, rows_done=2)
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Comparing with your contacts" in page  # on another host: not known to be dead yet
    later = timezone.now() + datetime.timedelta(minutes=10)
    assert services.import_batches_recover(now=later) == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PLAN_FAILED and batch.plan is None
    assert batch.failure == (
        "The worker preparing this preview stopped (no progress for 10 minutes); nothing was "
        "changed. The file is still stored: try again."
    )
    assert ImportUpload.objects.filter(batch=batch).exists()
    # The task delivered again after its worker died does not plan a failed preview.
    with pytest.raises(BatchNotRunnable, match="preview failed"):
        tasks.plan_import(batch.pk)

    response = client.post(f"/imports/{batch.pk}/retry/", follow=True)
    assert "Waiting for the worker to read the file" in response.content.decode()
    run_queued_tasks()
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.failure) == ("pending", 6, "")


def test_a_preview_claimed_by_a_process_that_is_gone_fails_at_once(client):
    post_upload(client, current())
    batch = ImportBatch.objects.get()
    host, _, _ = liveness.current_process().split(":")
    ImportBatch.objects.filter(pk=batch.pk).update(worker=f"{host}:999999999:1")
    # Delivered again, the task settles its dead predecessor first.
    with pytest.raises(BatchNotRunnable):
        tasks.plan_import(batch.pk)
    batch.refresh_from_db()
    assert batch.status == "unplanned" and "its process is gone" in batch.failure


def test_a_plan_is_not_written_over_a_preview_recovery_failed_meanwhile(client, monkeypatch):
    post_upload(client, current())
    batch = ImportBatch.objects.get()
    real_plan = services.plan_import

    def recovery_strikes(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        ImportBatch.objects.filter(pk=batch.pk).update(status="unplanned", failure="Stopped.")
        return plan

    monkeypatch.setattr(services, "plan_import", recovery_strikes)
    with pytest.raises(BatchNotRunnable, match="before its preview was written"):
        tasks.plan_import(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.plan, batch.created, batch.failure) == (
        "unplanned",
        None,
        0,
        "Stopped.",
    )


def test_a_preview_never_started_fails_once_the_queue_no_longer_holds_its_task(client):
    post_upload(client, current())  # queued on commit, which this test never reaches
    batch = ImportBatch.objects.get()
    assert services.import_batches_recover() == 0  # just queued: left alone
    later = timezone.now() + datetime.timedelta(minutes=6)
    assert services.import_batches_recover(now=later) == 1
    batch.refresh_from_db()
    assert "no worker started it in 6 minutes" in batch.failure


def test_retry_and_cancel_obey_the_network_rule_and_retry_needs_the_file(client, other_staff_user):
    post_upload(client, current())
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(status="unplanned", failure="Stopped.")
    bob = Client()
    bob.force_login(other_staff_user)
    assert bob.post(f"/imports/{batch.pk}/retry/").status_code == 403
    assert bob.post(f"/imports/{batch.pk}/cancel/").status_code == 403
    assert ImportBatch.objects.get().status == "unplanned"
    assert client.get(f"/imports/{batch.pk}/retry/").status_code == 405
    assert client.get(f"/imports/{batch.pk}/cancel/").status_code == 405
    assert client.post("/imports/999999/retry/").status_code == 404

    ImportUpload.objects.all().delete()
    response = client.post(f"/imports/{batch.pk}/retry/", follow=True)
    assert "The uploaded file is no longer stored" in response.content.decode()
    assert ImportBatch.objects.get().status == "unplanned"
    client.post(f"/imports/{batch.pk}/cancel/")
    assert not ImportBatch.objects.exists()


def test_only_a_failed_preview_can_be_tried_again(client):
    post_upload(client, current())
    run_queued_tasks()
    batch = ImportBatch.objects.get()
    response = client.post(f"/imports/{batch.pk}/retry/", follow=True)
    assert "Only a preview that failed can be tried again." in response.content.decode()
    assert ImportBatch.objects.get().status == "pending"


def test_a_preview_cancelled_while_the_worker_plans_is_not_written(client):
    post_upload(client, current())
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/cancel/")
    assert not ImportBatch.objects.exists() and not ImportUpload.objects.exists()
    with pytest.raises(ImportBatch.DoesNotExist):
        tasks.plan_import(batch.pk)


def test_an_undo_runs_in_the_worker_and_is_audited_under_who_asked(client, staff_user):
    ContactFactory(
        first_name="Fitzgerald",
        last_name="Orme",
        company="Tallowby & Sons",
        profile_url="https://www.linkedin.com/in/fitz-orme",
        position="Intern",
    )
    post_upload(client, current())
    run_queued_tasks()
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/confirm/")
    assert Contact.objects.count() == 6
    page = client.post(f"/imports/{batch.pk}/undo/", follow=True).content.decode()
    assert "Waiting for the worker to undo" in page and "<progress" in page
    assert ImportBatch.objects.get().status == "undoing" and Contact.objects.count() == 6
    # A second click queues nothing more.
    page = client.post(f"/imports/{batch.pk}/undo/", follow=True).content.decode()
    assert "A batch that is “Undoing” cannot be undone." in page
    run_queued_tasks()
    batch.refresh_from_db()
    assert batch.status == "undone" and batch.undo_report["deleted"] == 5
    assert list(Contact.objects.values_list("position", flat=True)) == ["Intern"]
    event = AuditEvent.objects.get(action="import_undo")
    assert (event.actor, event.via) == (staff_user, "page")


def test_an_undo_whose_worker_died_leaves_the_import_as_it_was_to_undo_again(client):
    post_upload(client, current())
    run_queued_tasks()
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/confirm/")
    client.post(f"/imports/{batch.pk}/undo/")
    host = liveness.current_process().split(":")[0]
    ImportBatch.objects.filter(pk=batch.pk).update(worker=f"{host}:999999999:1")
    assert services.import_batches_recover() == 1
    batch.refresh_from_db()
    assert (batch.status, batch.worker) == ("done", "")
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert (
        "The worker undoing this import stopped (its process is gone); nothing was undone." in page
    )
    assert Contact.objects.count() == 6 and not AuditEvent.objects.filter(action="import_undo")
    client.post(f"/imports/{batch.pk}/undo/")
    run_queued_tasks()
    assert ImportBatch.objects.get().status == "undone" and not Contact.objects.exists()


def test_an_undo_that_breaks_rolls_back_and_says_so(client, monkeypatch):
    post_upload(client, current())
    run_queued_tasks()
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/confirm/")
    ImportBatch.objects.filter(pk=batch.pk).update(failure="Stopped at row 3.", status="failed")
    client.post(f"/imports/{batch.pk}/undo/")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_record_undo", broken)
    with pytest.raises(RuntimeError):
        tasks.undo_import(batch.pk, "page")
    batch.refresh_from_db()
    assert batch.status == "failed" and "disk full" in batch.undo_report["error"]
    assert Contact.objects.count() == 6


def test_the_cleanup_drops_old_uploads_abandoned_previews_and_exports(client, staff_user):
    post_upload(client, current())
    kept = ImportBatch.objects.get()
    post_upload(client, current())
    run_queued_tasks()
    export = ContactExport.objects.create(requested_by=staff_user)
    day_later = timezone.now() + datetime.timedelta(hours=25)
    ImportBatch.objects.filter(pk=kept.pk).update(created_at=day_later)
    ImportUpload.objects.filter(batch=kept).update(created_at=day_later)
    assert services.import_uploads_clean(now=day_later) == 1
    assert list(ImportBatch.objects.all()) == [kept] and kept.upload
    assert not ContactExport.objects.filter(pk=export.pk).exists()
    assert tasks.clean_uploads() == 0


def test_a_large_confirm_leaves_the_freshness_check_to_the_worker(client, settings, staff_user):
    settings.IMPORT_ASYNC_ROWS = 2
    contact = ContactFactory(profile_url="https://www.linkedin.com/in/fitz-orme", position="Old")
    post_upload(client, current())
    run_queued_tasks()
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/confirm/")
    assert ImportBatch.objects.get().status == "queued"
    assert not AuditEvent.objects.filter(action="import").exists()
    contact.position = "Edited meanwhile"
    contact.save()
    with pytest.raises(services.StalePreview):
        tasks.run_import(batch.pk, "page")
    batch.refresh_from_db()
    assert batch.status == "failed" and "Upload the file again" in batch.failure
    assert Contact.objects.count() == 1 and not AuditEvent.objects.filter(action="import")


def test_a_large_import_is_recorded_by_the_worker_under_who_confirmed(client, settings, staff_user):
    settings.IMPORT_ASYNC_ROWS = 2
    post_upload(client, current())
    run_queued_tasks()
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/confirm/")
    tasks.run_import(batch.pk, "page")
    assert ImportBatch.objects.get().status == "done" and Contact.objects.count() == 6
    event = AuditEvent.objects.get(action="import")
    assert (event.actor, event.via, event.counts["created"]) == (staff_user, "page", 6)
