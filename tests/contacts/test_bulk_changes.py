"""Bulk changes in the worker below their pages (views/test_contact_bulk_in_worker.py and
views/test_contact_bulk_change.py test those): what the services refuse, a worker that dies
half-way and the resume, recovery, and the housekeeping."""

import datetime
import os
import socket
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django_q.models import OrmQ
from django_q.signals import post_spawn

from contacts import bulk_changes, importing, liveness, services
from contacts.models import Contact, ContactBulkChange, Tag
from linkedin_crm import webhooks
from linkedin_crm.models import AuditEvent, WebhookEvent, WebhookSubscription
from tests.contacts.factories import ContactFactory, TagFactory, UserFactory
from tests.contacts.worker import run_queued_tasks

pytestmark = pytest.mark.django_db

ACME = {"company": "Acme"}


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: no except clause of the run sees it; the database rolls back the
    chunk in flight, as it does for a connection that dies mid-transaction."""


@pytest.fixture
def acme():
    """Seven contacts at Acme, each tagged "Old", and one elsewhere."""
    old = TagFactory(name="Old")
    people = [ContactFactory(first_name=f"A{n}", company="Acme", tags=[old]) for n in range(7)]
    ContactFactory(first_name="Other", company="Globex", tags=[old])
    return people


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(bulk_changes, "BULK_CHUNK", 2)


@pytest.fixture
def subscriber(db):
    return WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/hooks",
        events=["contact.updated", "contact.opted_out"],
        secret=webhooks.new_secret(),
    )


def arguments(action: str) -> dict:
    return {
        "add_tag": lambda: {"tag": TagFactory(name="VIP")},
        "remove_tag": lambda: {"tag": Tag.objects.get(name="Old")},
        "set_stage": lambda: {"stage": "contacted"},
        "mark_dnc": lambda: {"reason": "Asked us to stop"},
        "delete": lambda: {},
    }[action]()


def enqueue(user, action: str, filter_params: dict = ACME, **kwargs) -> ContactBulkChange:
    return bulk_changes.contacts_bulk_enqueue(
        user=user, action=action, filter_params=filter_params, **kwargs
    )


def dead_worker() -> str:
    """A process of this host that is gone: this pid, but another start time (as a restarted
    container's process that got the dead one's pid)."""
    return f"{socket.gethostname()}:{os.getpid()}:1"


def killed_in_chunk(monkeypatch, change: ContactBulkChange, number: int) -> ContactBulkChange:
    """Run the change until its worker dies while writing chunk `number` (1-based): the chunks
    before committed with the cursor, the one in flight did not, and the row stays as the dead
    worker left it."""
    real = bulk_changes._bulk_apply
    chunks = Counter[str]()

    def dying(change, contacts):
        chunks["written"] += 1
        changed = real(change, contacts)  # written, but never committed
        if chunks["written"] == number:
            raise WorkerKilled
        return changed

    monkeypatch.setattr(bulk_changes, "_bulk_apply", dying)
    with pytest.raises(WorkerKilled):
        bulk_changes.contacts_bulk_run(change_id=change.pk)
    monkeypatch.setattr(bulk_changes, "_bulk_apply", real)
    ContactBulkChange.objects.filter(pk=change.pk).update(worker=dead_worker())
    change.refresh_from_db()
    return change


def once_each(ids: list) -> bool:
    return bool(ids) and set(Counter(ids).values()) == {1}


# --- a worker that dies, and the resume ----------------------------------------------------------


@pytest.mark.parametrize("action", ["add_tag", "remove_tag", "set_stage", "mark_dnc", "delete"])
def test_a_change_resumed_after_its_worker_died_does_the_rest_once(
    manager, acme, subscriber, small_chunks, monkeypatch, django_capture_on_commit_callbacks, action
):
    change = enqueue(manager, action, **arguments(action))
    change = killed_in_chunk(monkeypatch, change, 3)
    assert (change.status, change.rows, change.rows_done, change.last_pk) == (
        "running",
        7,
        4,
        acme[3].pk,
    )
    # The chunk in flight (contacts 5 and 6) left nothing: only the first four changed so far.
    assert change.changed == 4

    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_changes.contact_bulk_changes_recover() == 1
    change.refresh_from_db()
    assert (change.status, change.worker) == ("queued", "")
    assert [task.name() for task in OrmQ.objects.all()] == [change.task_name]
    run_queued_tasks()

    change.refresh_from_db()
    assert (change.status, change.rows, change.rows_done, change.changed) == ("done", 7, 7, 7)
    ids = sorted(str(person.pk) for person in acme)
    # Every contact's audit event and webhook event once: nothing twice for the resumed part.
    per_contact = AuditEvent.objects.exclude(action="contacts_delete")
    assert sorted(per_contact.values_list("object_id", flat=True)) == (
        ids if action in ("set_stage", "mark_dnc") else []
    )
    deleted = [  # one contact deleted is named as the event's object, more listed in its detail
        str(pk)
        for event in AuditEvent.objects.filter(action="contacts_delete")
        for pk in event.detail.get("ids", [event.object_id])
    ]
    assert sorted(deleted) == (ids if action == "delete" else [])
    notified = [str(event.payload["data"]["id"]) for event in WebhookEvent.objects.all()]
    assert sorted(notified) == ([] if action == "delete" else ids)
    assert once_each(notified + deleted)
    acme_now = Contact.objects.filter(company="Acme")
    match action:
        case "add_tag":
            assert acme_now.filter(tags__name="VIP").count() == 7
        case "remove_tag":
            assert not acme_now.filter(tags__name="Old").exists()
        case "set_stage":
            assert set(acme_now.values_list("stage", flat=True)) == {"contacted"}
        case "mark_dnc":
            assert acme_now.filter(do_not_contact=True, dnc_reason="Asked us to stop").count() == 7
        case "delete":
            assert not acme_now.exists()
    assert Contact.objects.filter(first_name="Other", stage="lead", do_not_contact=False).exists()


def test_a_delete_in_the_worker_records_each_chunk_it_committed(manager, acme, small_chunks):
    """The in-request delete records one event for all; the worker's, one per committed chunk,
    so the log never claims a contact a dead worker did not delete."""
    enqueue(manager, "delete")
    run_queued_tasks()
    events = AuditEvent.objects.filter(action="contacts_delete").order_by("pk")
    assert [event.counts for event in events] == [{"contacts": 2}] * 3 + [{"contacts": 1}]
    assert {(event.actor, event.via) for event in events} == {(manager, "page")}


def test_a_worker_that_starts_resumes_a_dead_ones_change(
    manager, acme, small_chunks, monkeypatch, django_capture_on_commit_callbacks
):
    change = killed_in_chunk(monkeypatch, enqueue(manager, "set_stage", stage="meeting"), 2)
    with django_capture_on_commit_callbacks(execute=True):
        post_spawn.send(sender="django_q", proc_name="Process-1")
    assert ContactBulkChange.objects.get(pk=change.pk).status == "queued"
    assert [task.name() for task in OrmQ.objects.all()] == [change.task_name]


def test_a_failing_import_recovery_does_not_keep_a_starting_worker_from_resuming_changes(
    manager, acme, small_chunks, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    change = killed_in_chunk(monkeypatch, enqueue(manager, "set_stage", stage="meeting"), 2)

    def broken(**kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(services, "import_batches_recover", broken)
    with django_capture_on_commit_callbacks(execute=True):
        post_spawn.send(sender="django_q", proc_name="Process-1")
    assert "Recovering stopped imports at worker start failed" in caplog.text
    assert ContactBulkChange.objects.get(pk=change.pk).status == "queued"
    assert "Queued 1 bulk change again" in caplog.text


def test_a_live_worker_is_left_alone_until_the_stall_timeout(manager, acme, settings):
    change = enqueue(manager, "set_stage", stage="meeting")
    now = timezone.now()
    ContactBulkChange.objects.filter(pk=change.pk).update(
        status="running", worker=liveness.current_process(), progress_at=now
    )
    assert bulk_changes.contact_bulk_changes_recover(now=now + datetime.timedelta(seconds=299)) == 0
    assert bulk_changes.contact_bulk_changes_recover(now=now + datetime.timedelta(seconds=301)) == 1


def test_a_queued_change_is_queued_again_only_once_the_queue_lost_its_task(
    manager, acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        change = enqueue(manager, "set_stage", stage="meeting")
    a_day_later = timezone.now() + datetime.timedelta(days=1)
    assert bulk_changes.contact_bulk_changes_recover(now=a_day_later) == 0  # its task waits
    OrmQ.objects.all().delete()  # taken off the queue by a worker that then died
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_changes.contact_bulk_changes_recover(now=a_day_later) == 1
    assert [task.name() for task in OrmQ.objects.all()] == [change.task_name]
    run_queued_tasks()
    assert Contact.objects.filter(stage="meeting").count() == 7


def test_a_chunk_after_recovery_gave_the_change_up_rolls_back(
    manager, acme, small_chunks, monkeypatch
):
    """A worker that was only slow, not dead: recovery (another process, here within the
    chunk) queued its change again meanwhile, so its chunk writes nothing."""
    change = enqueue(manager, "set_stage", stage="meeting")
    real = bulk_changes._bulk_apply

    def overtaken_in_the_second_chunk(change, contacts):
        changed = real(change, contacts)
        if ContactBulkChange.objects.get(pk=change.pk).rows_done == 2:
            ContactBulkChange.objects.filter(pk=change.pk).update(status="queued", worker="")
        return changed

    monkeypatch.setattr(bulk_changes, "_bulk_apply", overtaken_in_the_second_chunk)
    with pytest.raises(importing.BatchNotRunnable, match="was given up by recovery"):
        bulk_changes.contacts_bulk_run(change_id=change.pk)
    assert set(Contact.objects.filter(stage="meeting")) == set(acme[:2])
    assert AuditEvent.objects.count() == 2


def test_a_task_delivered_again_changes_nothing(manager, acme):
    change = enqueue(manager, "set_stage", stage="meeting")
    run_queued_tasks()
    for status in ("running", "done", "failed"):
        ContactBulkChange.objects.filter(pk=change.pk).update(status=status)
        with pytest.raises(importing.BatchNotRunnable, match="claimed or finished meanwhile"):
            bulk_changes.contacts_bulk_run(change_id=change.pk)
    assert AuditEvent.objects.count() == 7


# --- who may, and bad input ----------------------------------------------------------------------


def test_a_member_cannot_queue_a_delete(staff_user, acme):
    with pytest.raises(PermissionDenied, match="Can delete contact"):
        enqueue(staff_user, "delete")
    assert not ContactBulkChange.objects.exists()


def test_someone_not_staff_cannot_queue_any_change(acme):
    user = UserFactory(username="outsider", is_staff=False)
    with pytest.raises(PermissionDenied, match="active staff account"):
        enqueue(user, "set_stage", stage="meeting")
    assert not ContactBulkChange.objects.exists()


def test_a_requester_who_lost_the_permission_before_the_worker_ran_deletes_nothing(manager, acme):
    enqueue(manager, "delete")
    manager.groups.clear()
    run_queued_tasks()
    change = ContactBulkChange.objects.get()
    assert change.status == "failed" and change.finished_at
    assert change.failure == (
        "Deleting contacts needs the “Can delete contact” permission (Managers and Admins have "
        "it). Nothing was deleted."
    )
    assert Contact.objects.count() == 8 and not AuditEvent.objects.exists()


def test_a_requester_no_longer_active_changes_nothing(staff_user, acme):
    enqueue(staff_user, "set_stage", stage="meeting")
    staff_user.is_active = False
    staff_user.save()
    run_queued_tasks()
    change = ContactBulkChange.objects.get()
    assert change.status == "failed" and "active staff account" in change.failure
    assert not Contact.objects.filter(stage="meeting").exists()


@pytest.mark.parametrize(
    ("action", "kwargs", "message"),
    [
        ("explode", {}, "Unknown bulk action 'explode'."),
        ("add_tag", {}, "Name the tag."),
        ("add_tag", {"tag": Tag(name="Unsaved")}, "Name the tag."),
        ("set_stage", {"stage": "wizard"}, "Unknown stage 'wizard'."),
        ("mark_dnc", {"reason": "  "}, "Say why these people must not be contacted."),
        ("set_stage", {"stage": "meeting", "filter_params": {"stage": "wizard"}}, "not valid"),
        ("set_stage", {"stage": "meeting", "filter_params": {"tags": "999999"}}, "not valid"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_written(
    manager, acme, action, kwargs, message
):
    with pytest.raises(ValueError, match=message):
        enqueue(manager, action, **kwargs)
    assert not ContactBulkChange.objects.exists()


def test_a_filter_no_longer_valid_when_the_worker_runs_fails_the_change(manager, acme):
    vip = TagFactory(name="VIP")
    enqueue(manager, "set_stage", filter_params={"tags": str(vip.pk)}, stage="meeting")
    vip.delete()
    run_queued_tasks()
    change = ContactBulkChange.objects.get()
    assert change.status == "failed"
    assert change.failure.startswith("The filter is not valid any more")
    assert not Contact.objects.filter(stage="meeting").exists()


# --- what the row keeps ----------------------------------------------------------------------


def test_the_reason_leaves_the_row_when_the_change_finishes(manager, acme, staff_user):
    done = enqueue(manager, "mark_dnc", reason="Asked us to stop")
    failed = enqueue(staff_user, "mark_dnc", reason="Asked us to stop too")
    staff_user.is_active = False
    staff_user.save()
    run_queued_tasks()
    done.refresh_from_db()
    failed.refresh_from_db()
    assert (done.status, done.reason, failed.status, failed.reason) == ("done", "", "failed", "")
    assert Contact.objects.filter(dnc_reason="Asked us to stop").count() == 7


def test_the_housekeeping_deletes_finished_changes_after_a_day(manager, acme, settings):
    finished = enqueue(manager, "set_stage", stage="meeting")
    run_queued_tasks()
    waiting = enqueue(manager, "set_stage", stage="replied")
    later = timezone.now() + datetime.timedelta(hours=settings.IMPORT_UPLOAD_KEEP_HOURS + 1)
    services.import_uploads_clean(now=later)
    assert list(ContactBulkChange.objects.all()) == [waiting]
    assert not ContactBulkChange.objects.filter(pk=finished.pk).exists()
