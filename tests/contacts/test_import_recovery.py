"""Imports whose worker died: the heartbeat each chunk commits, recovery (stall timeout, a gone
process, a lost task), undo of what the committed chunks wrote, and a task delivered again."""

import datetime
import os
import socket

import pytest
import time_machine
from django.utils import timezone
from django_q.brokers.redis_broker import Redis
from django_q.models import OrmQ, Task
from django_q.signals import post_spawn
from django_q.signing import SignedPackage

from contacts import importing, liveness, services, tasks
from contacts.models import Connection, Contact, ImportBatch, ImportChange, Network
from tests.contacts.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: no except clause of the import runs; the database rolls back the
    chunk in flight, as it does for a connection that dies mid-transaction."""


@pytest.fixture
def network():
    user = UserFactory(username="ann", is_staff=True)
    return Network.objects.default_for(user)


@pytest.fixture
def known():
    """Four contacts the file updates (their company changes)."""
    return [
        ContactFactory(
            first_name=f"Known{n}",
            last_name="Person",
            profile_url=f"https://www.linkedin.com/in/person-{n}",
            company="Old Co",
        )
        for n in range(4)
    ]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(importing, "WRITE_BATCH", 2)


def export() -> bytes:
    """Rows 0–3 update the known contacts, rows 4–7 are new: chunks of two are two of creates,
    then two of updates."""
    rows = [
        f"{'Known' if n < 4 else 'New'}{n},Person,https://www.linkedin.com/in/person-{n},,"
        f"New Co,Role,05 Jan 2026\n"
        for n in range(8)
    ]
    return (HEADER + "".join(rows)).encode()


def queued_batch(network, settings, capture) -> ImportBatch:
    """A confirmed batch whose task is in django-q2's queue (the database broker)."""
    settings.IMPORT_ASYNC_ROWS = 1
    batch = services.import_preview(
        data=export(), file_name="big.csv", user=network.owner, network=network
    )
    with capture(execute=True):
        services.import_confirm(batch=batch, actor=network.owner)
    batch.refresh_from_db()
    assert batch.status == "queued"
    return batch


def kill_on_chunk(monkeypatch, number: int) -> None:
    """The worker dies while writing chunk `number` (1-based)."""
    written = {"chunks": 0}

    def dying(real):
        def write(*args, **kwargs):
            written["chunks"] += 1
            if written["chunks"] == number:
                real(*args, **kwargs)  # written, but never committed
                raise WorkerKilled
            return real(*args, **kwargs)

        return write

    monkeypatch.setattr(importing, "create_contacts", dying(importing.create_contacts))
    monkeypatch.setattr(importing, "update_contacts", dying(importing.update_contacts))


@pytest.fixture
def stopped(
    network, known, small_chunks, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """A batch whose worker died in its fourth chunk, at T0: two chunks of creates and one of
    updates committed."""
    batch = queued_batch(network, settings, django_capture_on_commit_callbacks)
    kill_on_chunk(monkeypatch, 4)
    with time_machine.travel(T0, tick=False), pytest.raises(WorkerKilled):
        services.import_run(batch_id=batch.pk)
    monkeypatch.undo()
    batch.refresh_from_db()
    return batch


def recover(at: datetime.datetime) -> int:
    with time_machine.travel(at, tick=False):
        return services.import_batches_recover()


def known_companies() -> list[str]:
    return list(
        Contact.objects.filter(first_name__startswith="Known")
        .order_by("first_name")
        .values_list("company", flat=True)
    )


def test_it_accounts_for_every_committed_chunk_and_nothing_of_the_one_in_flight(stopped):
    assert stopped.status == "running"
    assert (stopped.rows, stopped.rows_done, stopped.progress_at) == (8, 6, T0)
    assert stopped.worker == liveness.current_process()
    assert Contact.objects.filter(created_by_batch=stopped).count() == 4
    assert Contact.objects.count() == 8
    assert ImportChange.objects.filter(batch=stopped).count() == 2
    assert known_companies() == ["New Co", "New Co", "Old Co", "Old Co"]
    assert Connection.objects.filter(batch=stopped).count() == 6


def test_it_leaves_a_live_import_alone_until_the_stall_timeout(stopped, settings):
    assert settings.IMPORT_STALL_SECONDS == 300
    assert recover(T0 + datetime.timedelta(seconds=299)) == 0
    stopped.refresh_from_db()
    assert stopped.status == "running" and not stopped.failure
    assert recover(T0 + datetime.timedelta(seconds=301)) == 1
    stopped.refresh_from_db()
    assert stopped.status == "failed"
    assert stopped.failure == (
        "The worker stopped at row 6 of 8 (no progress for 5 minutes), so the import did not "
        "finish. What it imported before — 4 new contacts and 2 changed — is kept; undo removes "
        "exactly that."
    )
    assert stopped.finished_at == T0 + datetime.timedelta(seconds=301)
    assert recover(T0 + datetime.timedelta(hours=1)) == 0


def test_the_stall_timeout_is_a_setting(stopped, settings):
    settings.IMPORT_STALL_SECONDS = 3600
    assert recover(T0 + datetime.timedelta(minutes=59)) == 0
    assert recover(T0 + datetime.timedelta(minutes=61)) == 1


def test_a_worker_whose_process_is_gone_is_noticed_without_waiting(stopped):
    # The same pid with another start time: the pid was reused after the worker died.
    dead = f"{socket.gethostname()}:{os.getpid()}:1"
    ImportBatch.objects.filter(pk=stopped.pk).update(worker=dead)
    assert recover(T0 + datetime.timedelta(seconds=1)) == 1
    stopped.refresh_from_db()
    assert stopped.status == "failed"
    assert stopped.failure.startswith("The worker stopped at row 6 of 8 (its process is gone)")


def test_a_worker_on_another_host_is_left_to_the_timeout(stopped):
    ImportBatch.objects.filter(pk=stopped.pk).update(worker=f"elsewhere:{os.getpid()}:1")
    assert recover(T0 + datetime.timedelta(seconds=1)) == 0
    assert recover(T0 + datetime.timedelta(minutes=6)) == 1


def test_a_batch_from_before_the_heartbeat_is_judged_by_its_start(stopped):
    started = T0 - datetime.timedelta(minutes=10)
    ImportBatch.objects.filter(pk=stopped.pk).update(
        progress_at=None, worker="", started_at=started
    )
    assert recover(started + datetime.timedelta(minutes=4)) == 0
    assert recover(T0) == 1


def test_a_worker_that_starts_recovers_a_dead_ones_import(stopped):
    dead = f"{socket.gethostname()}:{os.getpid()}:1"
    ImportBatch.objects.filter(pk=stopped.pk).update(worker=dead)
    post_spawn.send(sender="django_q", proc_name="Process-1")
    stopped.refresh_from_db()
    assert stopped.status == "failed" and "its process is gone" in stopped.failure


def test_a_failing_recovery_does_not_stop_the_worker_from_starting(monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(services, "import_batches_recover", broken)
    post_spawn.send(sender="django_q", proc_name="Process-1")
    assert "Recovering stopped imports at worker start failed" in caplog.text


def test_a_chunk_after_recovery_gave_the_batch_up_rolls_back(
    network, known, small_chunks, settings, django_capture_on_commit_callbacks
):
    """A worker that was only slow, not dead, finds its batch failed at its next chunk and
    writes nothing more: recovery's counts stay exact."""
    batch = queued_batch(network, settings, django_capture_on_commit_callbacks)

    def stalls_after_the_creates(done: int) -> None:
        if done == 4:
            # As the housekeeping would, from another process, an hour later.
            assert recover(timezone.now() + datetime.timedelta(hours=1)) == 1

    plan = importing.ImportPlan.from_json(batch.plan)
    with pytest.raises(importing.BatchNotRunnable, match="was stopped by recovery"):
        importing.run_plan(batch, plan, progress=stalls_after_the_creates)
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.rows_done == 4
    assert "What it imported before — 4 new contacts and 0 changed" in batch.failure
    assert known_companies() == ["Old Co"] * 4
    assert not ImportChange.objects.exists()


def test_undo_of_a_stopped_import_removes_exactly_what_it_wrote(stopped, known):
    recover(T0 + datetime.timedelta(minutes=6))
    report = services.import_batch_undo(
        batch=ImportBatch.objects.get(pk=stopped.pk), actor=stopped.network.owner
    )
    assert report == {"deleted": 4, "kept": [], "restored": 2, "conflicts": []}
    assert sorted(Contact.objects.values_list("pk", flat=True)) == sorted(c.pk for c in known)
    assert known_companies() == ["Old Co"] * 4
    assert not Connection.objects.exists() and not ImportChange.objects.exists()
    stopped.refresh_from_db()
    assert stopped.status == "undone"


def test_undo_of_a_stalled_import_marks_it_failed_first(stopped, known):
    with time_machine.travel(T0 + datetime.timedelta(minutes=6), tick=False):
        report = services.import_batch_undo(batch=stopped, actor=stopped.network.owner)
    assert (report["deleted"], report["restored"]) == (4, 2)
    stopped.refresh_from_db()
    assert stopped.status == "undone" and stopped.failure.startswith("The worker stopped")
    assert Contact.objects.count() == 4 and known_companies() == ["Old Co"] * 4


def test_undo_of_an_import_still_running_is_refused_and_changes_nothing(stopped):
    with (
        time_machine.travel(T0 + datetime.timedelta(seconds=30), tick=False),
        pytest.raises(ValueError, match=r"“Importing” cannot be undone while it is importing"),
    ):
        services.import_batch_undo(batch=stopped, actor=stopped.network.owner)
    stopped.refresh_from_db()
    assert stopped.status == "running"
    assert Contact.objects.count() == 8


def test_undo_of_a_pending_batch_is_refused_with_a_clear_message(network, known):
    batch = services.import_preview(
        data=export(), file_name="c.csv", user=network.owner, network=network
    )
    with pytest.raises(ValueError) as refused:
        services.import_batch_undo(batch=batch, actor=batch.network.owner)
    assert str(refused.value) == (
        "A batch that is “Waiting for confirmation” cannot be undone: it was never confirmed, "
        "so nothing was imported. Cancel it."
    )
    batch.refresh_from_db()
    assert batch.status == "pending" and batch.plan is not None
    assert Contact.objects.count() == 4


def test_undo_of_a_queued_batch_waiting_for_the_worker_is_refused(
    network, known, settings, django_capture_on_commit_callbacks
):
    batch = queued_batch(network, settings, django_capture_on_commit_callbacks)
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(hours=1)),
        pytest.raises(ValueError, match="waiting for the worker"),
    ):
        services.import_batch_undo(batch=batch, actor=batch.network.owner)
    assert ImportBatch.objects.get(pk=batch.pk).status == "queued"


def test_a_task_delivered_again_for_a_stopped_import_fails_with_the_reason(stopped):
    with (
        time_machine.travel(T0 + datetime.timedelta(minutes=6), tick=False),
        pytest.raises(importing.BatchNotRunnable) as refused,
    ):
        services.import_run(batch_id=stopped.pk)
    assert "failed and is not imported again: The worker stopped at row 6 of 8" in str(
        refused.value
    )
    stopped.refresh_from_db()
    assert stopped.status == "failed" and stopped.rows_done == 6
    assert Contact.objects.count() == 8


def test_the_task_raises_so_that_django_q_records_a_failure_not_a_success(stopped):
    with (
        time_machine.travel(T0 + datetime.timedelta(minutes=6), tick=False),
        pytest.raises(importing.BatchNotRunnable, match="The worker stopped at row 6 of 8"),
    ):
        tasks.run_import(stopped.pk)


def test_a_task_delivered_again_while_its_import_runs_changes_nothing(stopped):
    with (
        time_machine.travel(T0 + datetime.timedelta(seconds=30), tick=False),
        pytest.raises(importing.BatchNotRunnable, match="is being imported by .*; it is not"),
    ):
        services.import_run(batch_id=stopped.pk)
    stopped.refresh_from_db()
    assert (stopped.status, stopped.rows_done) == ("running", 6)


def test_a_task_delivered_again_for_a_finished_import_does_not_claim_success(
    network, known, settings, django_capture_on_commit_callbacks
):
    batch = queued_batch(network, settings, django_capture_on_commit_callbacks)
    services.import_run(batch_id=batch.pk)
    with pytest.raises(importing.BatchNotRunnable, match="was imported already"):
        services.import_run(batch_id=batch.pk)
    assert ImportBatch.objects.get(pk=batch.pk).status == "done"


def test_a_queued_import_whose_task_waits_in_the_queue_is_left_alone(
    network, known, settings, django_capture_on_commit_callbacks
):
    batch = queued_batch(network, settings, django_capture_on_commit_callbacks)
    assert [package.name() for package in OrmQ.objects.all()] == [batch.task_name]
    assert recover(timezone.now() + datetime.timedelta(days=1)) == 0


def test_a_queued_import_whose_task_the_queue_lost_fails_after_the_timeout(
    network, known, settings, django_capture_on_commit_callbacks
):
    batch = queued_batch(network, settings, django_capture_on_commit_callbacks)
    OrmQ.objects.all().delete()  # taken off the queue by a worker that then died
    assert recover(batch.progress_at + datetime.timedelta(seconds=299)) == 0
    assert recover(batch.progress_at + datetime.timedelta(seconds=301)) == 1
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert batch.failure == (
        "No worker started this import in 5 minutes, and the task queue no longer holds it (its "
        "worker stopped); nothing was imported. Upload the file again to import it."
    )
    # Its task, should it turn up after all, imports nothing.
    with pytest.raises(importing.BatchNotRunnable, match="failed and is not imported again"):
        services.import_run(batch_id=batch.pk)
    assert Contact.objects.count() == 4


def test_a_queued_import_whose_task_ended_without_starting_it_fails_at_once(
    network, known, settings, django_capture_on_commit_callbacks
):
    batch = queued_batch(network, settings, django_capture_on_commit_callbacks)
    OrmQ.objects.all().delete()
    Task.objects.create(
        id="x" * 32,
        name=batch.task_name,
        func="contacts.tasks.run_import",
        started=timezone.now(),
        stopped=timezone.now(),
        success=False,
    )
    assert recover(timezone.now()) == 1
    assert "task ended without starting this import" in ImportBatch.objects.get().failure


class FakeRedis:
    def __init__(self, payloads: list[str]):
        self.payloads = payloads

    def lrange(self, key, start, end):
        return [payload.encode() for payload in self.payloads]  # redis-py answers bytes


@pytest.mark.parametrize(
    "queued, recovered", [(True, 0), (False, 1)], ids=["waiting", "taken by a dead worker"]
)
def test_with_redis_a_queued_import_fails_only_when_its_task_left_the_list(
    network, known, settings, monkeypatch, django_capture_on_commit_callbacks, queued, recovered
):
    batch = queued_batch(network, settings, django_capture_on_commit_callbacks)
    broker = Redis.__new__(Redis)
    broker.list_key = "django_q:linkedin_crm:q"
    other = SignedPackage.dumps({"name": "someone else's task"})
    mine = SignedPackage.dumps({"name": batch.task_name})
    broker.connection = FakeRedis([other, "not a signed package", *([mine] if queued else [])])
    monkeypatch.setattr(services, "get_broker", lambda: broker)
    assert recover(batch.progress_at + datetime.timedelta(minutes=6)) == recovered
