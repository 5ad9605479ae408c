"""A large import really runs in the django-q2 worker, reports its progress, and recovers when
the worker is killed."""

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import OrmQ, Task

from contacts import services
from contacts.models import Connection, Contact, ImportBatch, ImportChange, Network
from tests.contacts.factories import UserFactory
from tests.integration.conftest import kill_process_group, wait_for


def big_export(rows: int) -> bytes:
    lines = ["First Name,Last Name,URL,Email Address,Company,Position,Connected On"]
    for index in range(rows):
        lines.append(
            f"Person{index},Tester,https://www.linkedin.com/in/person-{index},,"
            f"Company {index % 50},Role,05 Jan 2026"
        )
    return "\n".join(lines).encode()


@pytest.mark.django_db(transaction=True)
def test_a_large_import_runs_in_the_worker(qcluster, settings):
    settings.IMPORT_ASYNC_ROWS = 100
    user = UserFactory(username="worker-test", is_staff=True)
    batch = services.import_preview(
        data=big_export(2500),
        file_name="big.csv",
        user=user,
        network=Network.objects.default_for(user),
    )
    batch = services.import_confirm(batch=batch, actor=user)
    assert batch.status == ImportBatch.Status.QUEUED
    assert not Contact.objects.exists()  # nothing happened in this process

    def finished() -> bool:
        return ImportBatch.objects.get(pk=batch.pk).is_finished

    wait_for(finished, timeout=90, what="the worker to finish the import")
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE, batch.failure
    assert (batch.created, batch.rows_done) == (2500, 2500)
    assert Contact.objects.count() == 2500 and Connection.objects.count() == 2500
    assert batch.plan is None


EXISTING = range(3_000, 30_000)


def known_contacts() -> None:
    """Rows 3,000–29,999 of big_export as contacts already known under an old company: the
    import creates 3,000 contacts (its first three chunks), then updates 27,000."""
    contacts = []
    for index in EXISTING:
        contact = Contact(
            first_name=f"Person{index}",
            last_name="Tester",
            profile_url=f"https://www.linkedin.com/in/person-{index}",
            company="Old Co",
            position="Role",
        )
        contact.refresh_derived_fields()
        contacts.append(contact)
    Contact.objects.bulk_create(contacts, batch_size=2000)


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_is_killed_fails_with_its_reason_and_undoes_exactly(
    start_qcluster, settings
):
    known_contacts()
    before = sorted(Contact.objects.values_list("pk", "company", "updated_at"))
    user = UserFactory(username="worker-test", is_staff=True)
    batch = services.import_preview(
        data=big_export(30_000),
        file_name="big.csv",
        user=user,
        network=Network.objects.default_for(user),
    )
    assert (batch.created, batch.updated) == (3_000, 27_000)
    cluster = start_qcluster()
    batch = services.import_confirm(batch=batch, actor=user)
    assert batch.status == ImportBatch.Status.QUEUED

    def rows_done() -> int:
        return ImportBatch.objects.get(pk=batch.pk).rows_done

    # Past the creates and a chunk of updates, and far from the end.
    wait_for(lambda: rows_done() >= 5_000, timeout=120, interval=0.02, what="5,000 rows")
    kill_process_group(cluster)

    batch.refresh_from_db()
    done = batch.rows_done
    assert batch.status == ImportBatch.Status.RUNNING, "killed too late: the import finished"
    assert 5_000 <= done < 30_000 and done % 1_000 == 0
    # Every committed chunk is accounted for, and nothing else was written: the creates point
    # at the batch, each update has its ImportChange, each row its connection.
    updated = done - 3_000
    assert Contact.objects.filter(created_by_batch=batch).count() == 3_000
    assert Contact.objects.count() == 30_000
    assert ImportChange.objects.filter(batch=batch).count() == updated
    assert Contact.objects.filter(created_by_batch=None).exclude(company="Old Co").count() == (
        updated
    )
    assert (
        not Contact.objects.filter(created_by_batch=None, company="Old Co")
        .filter(pk__in=ImportChange.objects.values("contact_id"))
        .exists()
    )
    assert Connection.objects.count() == Connection.objects.filter(batch=batch).count() == done
    # Shown as stalled on its page (its process is gone) but not changed by anyone yet.
    assert batch.is_stalled(timezone.now()) and batch.failure == ""

    # The restart: the database broker delivers the task again once its lock expires (three
    # minutes); here at once.
    OrmQ.objects.update(lock=timezone.now())
    start_qcluster()

    def failed() -> bool:
        return ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.FAILED

    wait_for(failed, timeout=60, what="the restarted worker to mark the import failed")
    wait_for(
        lambda: Task.objects.filter(name=batch.task_name).exists(),
        timeout=60,
        what="the task delivered again to be recorded",
    )
    assert Task.objects.get(name=batch.task_name).success is False
    batch.refresh_from_db()
    assert batch.failure == (
        f"The worker stopped at row {done:,} of 30,000 (its process is gone), so the import did "
        f"not finish. What it imported before — 3,000 new contacts and {updated:,} changed — is "
        "kept; undo removes exactly that."
    )
    assert batch.rows_done == done and Contact.objects.count() == 30_000

    call_command("undo_import", str(batch.pk), "--as", "worker-test")
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UNDONE
    assert batch.undo_report == {"deleted": 3_000, "kept": [], "restored": updated, "conflicts": []}
    after = sorted(Contact.objects.values_list("pk", "company", "updated_at"))
    assert [row[:2] for row in after] == [row[:2] for row in before]
    assert not Connection.objects.exists() and not ImportChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_preview_whose_worker_is_killed_fails_with_its_upload_kept_and_retries(
    start_qcluster, client
):
    """The upload request only stores the file; a worker killed while planning leaves no half
    plan, recovery fails the preview with the reason, and "Try again" plans it from the stored
    upload."""
    user = UserFactory(username="worker-test", is_staff=True)
    data = big_export(60_000)
    batch = services.import_preview_enqueue(
        data=data, file_name="big.csv", user=user, network=Network.objects.default_for(user)
    )
    assert batch.status == ImportBatch.Status.PLANNING
    cluster = start_qcluster()

    def planned_rows() -> int:
        return ImportBatch.objects.get(pk=batch.pk).rows_done

    # The worker has read the file and compared some rows, far from the end.
    wait_for(lambda: planned_rows() >= 2_000, timeout=120, interval=0.02, what="2,000 rows")
    kill_process_group(cluster)

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PLANNING, "killed too late: the preview finished"
    assert batch.plan is None and batch.created == 0 and batch.worker
    assert not Contact.objects.exists()
    client.force_login(user)
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Confirm import" not in page and "Comparing with your contacts" in page

    assert services.import_batches_recover() == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PLAN_FAILED and batch.plan is None
    assert batch.failure == (
        "The worker preparing this preview stopped (its process is gone); nothing was changed. "
        "The file is still stored: try again."
    )
    assert bytes(batch.upload.data) == data
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Try again" in page and "Confirm import" not in page

    client.post(f"/imports/{batch.pk}/retry/")
    # The database broker would also deliver the killed task again once its lock expires;
    # whichever delivery comes first plans it, the other finds it planned.
    OrmQ.objects.update(lock=timezone.now())
    start_qcluster()
    wait_for(
        lambda: ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.PENDING,
        timeout=120,
        what="the retried preview",
    )
    batch.refresh_from_db()
    assert (batch.created, batch.rows, batch.failure) == (60_000, 60_000, "")
    assert "Confirm import" in client.get(f"/imports/{batch.pk}/").content.decode()
    assert not Contact.objects.exists()
