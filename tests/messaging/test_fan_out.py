"""The worker's tick spread over its processes: one django-q2 task per account (docs/queue.md).

The turns are taken off django-q2's queue (the database broker) and run as a worker would run
them; tests/integration/test_fan_out.py runs them in a real cluster and kills a worker."""

import datetime
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django_q.models import OrmQ

from messaging import fan_out, tasks
from messaging.models import LinkedInAccount, Message, MessageEvent
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
# A Wednesday, 10:00 UTC: inside the default window (Mon–Fri 09–17 UTC).
WEDNESDAY = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def automatic_account(sandbox, **fields):
    defaults = {
        "access_token": sandbox.issue_token("sbx-maya-okafor"),
        "mode": "automatic",
        "scopes": ["openid", "profile", "email", "w_member_social"],
        "min_interval_seconds": 0,
        "jitter_seconds": 0,
        "access_token_expires_at": WEDNESDAY + datetime.timedelta(days=50),
    }
    return LinkedInAccountFactory(**{**defaults, **fields})


def queue(account, count):
    return MessageFactory.create_batch(count, account=account, next_attempt_at=WEDNESDAY)


def queued_turns() -> list[dict]:
    return [package.task for package in OrmQ.objects.order_by("pk")]


def run_turns(client, *, now=WEDNESDAY, most=100) -> list[dict]:
    """Take each waiting task off the queue and run it, as a worker does, until none is left
    (turns handed on included). Returns each turn's counts."""
    results = []
    while package := OrmQ.objects.order_by("pk").first():
        task = package.task
        package.delete()
        assert task["func"] == "messaging.tasks.dispatch_turn"
        results.append(fan_out.dispatch_turn(*task["args"], now=now, client=client))
        assert len(results) <= most, "the turns never ended"
    return results


def marker(account):
    return LinkedInAccount.objects.get(pk=account.pk).dispatch_enqueued_at


def test_the_tick_gives_each_account_with_due_messages_one_turn(sandbox_settings):
    due = [automatic_account(sandbox_settings) for _ in range(2)]
    for account in due:
        queue(account, 2)
    paused = automatic_account(sandbox_settings, status="paused")
    queue(paused, 1)
    automatic_account(sandbox_settings)  # nothing queued
    later = automatic_account(sandbox_settings)
    MessageFactory(account=later, next_attempt_at=WEDNESDAY + datetime.timedelta(hours=1))

    assert fan_out.dispatch_fan_out(now=WEDNESDAY) == {
        "accounts_due": 2,
        "enqueued": 2,
        "cancelled": 0,
    }
    turns = queued_turns()
    assert [t["args"] for t in turns] == [(a.pk, WEDNESDAY) for a in due]
    assert all(t["save"] is False for t in turns)  # successes do not crowd django-q2's table
    assert [marker(a) for a in due] == [WEDNESDAY, WEDNESDAY]
    assert marker(paused) is None
    assert Counter(Message.objects.values_list("status", flat=True)) == {"queued": 6}  # not yet


def test_an_account_whose_turn_is_waiting_gets_no_second_one(sandbox_settings):
    account = automatic_account(sandbox_settings)
    queue(account, 1)
    fan_out.dispatch_fan_out(now=WEDNESDAY)
    minute = WEDNESDAY + datetime.timedelta(minutes=1)
    assert fan_out.dispatch_fan_out(now=minute)["enqueued"] == 0
    assert len(queued_turns()) == 1
    assert marker(account) == WEDNESDAY


def test_a_turn_lost_for_longer_than_the_reapers_timeout_is_replaced(sandbox_settings, settings):
    account = automatic_account(sandbox_settings)
    queue(account, 1)
    fan_out.dispatch_fan_out(now=WEDNESDAY)
    OrmQ.objects.all().delete()  # Redis handed the task to a worker that then died
    timeout = datetime.timedelta(seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS)
    assert fan_out.dispatch_fan_out(now=WEDNESDAY + timeout)["enqueued"] == 0
    later = WEDNESDAY + timeout + datetime.timedelta(seconds=1)
    assert fan_out.dispatch_fan_out(now=later)["enqueued"] == 1
    assert [t["args"] for t in queued_turns()] == [(account.pk, later)]


def test_the_turns_send_every_due_message_once_and_end(sandbox_settings, sandbox_client):
    accounts = [automatic_account(sandbox_settings) for _ in range(3)]
    messages = [m for account in accounts for m in queue(account, 4)]
    fan_out.dispatch_fan_out(now=WEDNESDAY)
    results = run_turns(sandbox_client)
    assert sum(r["sent"] for r in results) == 12
    assert Counter(Message.objects.values_list("status", flat=True)) == {"sent": 12}
    received = Counter(m["idempotency_key"] for m in sandbox_settings.sent_messages())
    assert set(received) == {str(m.idempotency_key) for m in messages}
    assert max(received.values()) == 1
    assert [marker(a) for a in accounts] == [None, None, None]  # turns ended
    # The next tick finds nothing due.
    assert fan_out.dispatch_fan_out(now=WEDNESDAY)["enqueued"] == 0


def test_a_turn_sends_one_batch_and_hands_on_behind_the_other_accounts(
    sandbox_settings, sandbox_client, settings
):
    settings.DISPATCH_BATCH_SIZE = 5
    big = automatic_account(sandbox_settings)
    queue(big, 12)
    small = automatic_account(sandbox_settings)
    queue(small, 2)
    fan_out.dispatch_fan_out(now=WEDNESDAY)
    first = OrmQ.objects.order_by("pk").first()
    first.delete()
    turn_at = WEDNESDAY + datetime.timedelta(seconds=7)
    result = fan_out.dispatch_turn(*first.task["args"], now=turn_at, client=sandbox_client)
    assert (result["claimed"], result["sent"]) == (5, 5)
    # Handed on: a new task for the same account, behind the small account's turn.
    assert [t["args"] for t in queued_turns()] == [(small.pk, WEDNESDAY), (big.pk, turn_at)]
    assert marker(big) == turn_at

    results = run_turns(sandbox_client, now=turn_at)
    assert [r["sent"] for r in results] == [2, 5, 2]
    assert Message.objects.filter(status="sent").count() == 14
    assert marker(big) is None and marker(small) is None


def test_the_cap_holds_over_the_turns(sandbox_settings, sandbox_client, settings):
    settings.DISPATCH_BATCH_SIZE = 4
    account = automatic_account(sandbox_settings, daily_limit=10)
    queue(account, 30)
    fan_out.dispatch_fan_out(now=WEDNESDAY)
    results = run_turns(sandbox_client)
    assert [r["sent"] for r in results] == [4, 4, 2]
    assert results[-1]["capped_accounts"] == [account.pk]
    assert len(sandbox_settings.sent_messages()) == 10
    assert Counter(Message.objects.values_list("status", flat=True)) == {"sent": 10, "queued": 20}
    assert marker(account) is None
    # The next tick gives it a turn, which finds the cap used up.
    fan_out.dispatch_fan_out(now=WEDNESDAY + datetime.timedelta(minutes=1))
    assert run_turns(sandbox_client)[0]["claimed"] == 0
    assert len(sandbox_settings.sent_messages()) == 10


def test_a_staggered_account_sends_one_message_a_turn(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings, min_interval_seconds=120)
    queue(account, 3)
    fan_out.dispatch_fan_out(now=WEDNESDAY)
    assert [r["sent"] for r in run_turns(sandbox_client)] == [1]
    assert marker(account) is None


def test_a_turn_whose_time_runs_out_puts_the_rest_back_unsent(
    sandbox_settings, sandbox_client, settings
):
    # LinkedIn answers slowly: after two sends the turn's second is up, and the three claims it
    # has not sent go back to the queue, the attempt not counted; the turn is handed on.
    settings.DISPATCH_BATCH_SIZE = 5
    settings.DISPATCH_TASK_SECONDS = 1
    sandbox_settings.add_faults([{"delay": 0.6}, {"delay": 0.6}])
    account = automatic_account(sandbox_settings)
    queue(account, 5)
    fan_out.dispatch_fan_out(now=WEDNESDAY)
    package = OrmQ.objects.get()
    package.delete()
    result = fan_out.dispatch_turn(*package.task["args"], now=WEDNESDAY, client=sandbox_client)
    assert (result["claimed"], result["sent"], result["retried"]) == (5, 2, 3)
    assert len(sandbox_settings.sent_messages()) == 2
    back = Message.objects.filter(status="queued")
    assert back.count() == 3
    assert set(back.values_list("attempts", flat=True)) == {0}
    notes = MessageEvent.objects.filter(message__in=back, status="queued").values_list(
        "note", flat=True
    )
    assert set(notes) == {"the worker's time for this account ran out"}
    assert len(queued_turns()) == 1  # handed on

    run_turns(sandbox_client)
    assert Counter(Message.objects.values_list("status", flat=True)) == {"sent": 5}
    received = Counter(m["idempotency_key"] for m in sandbox_settings.sent_messages())
    assert sorted(received.values()) == [1] * 5


def test_an_account_paused_since_the_tick_sends_nothing_and_its_turn_ends(
    sandbox_settings, sandbox_client
):
    account = automatic_account(sandbox_settings)
    queue(account, 2)
    fan_out.dispatch_fan_out(now=WEDNESDAY)
    LinkedInAccount.objects.filter(pk=account.pk).update(status="paused")
    assert run_turns(sandbox_client)[0]["claimed"] == 0
    assert sandbox_settings.sent_messages() == []
    assert marker(account) is None


def test_a_turn_of_a_deleted_account_does_nothing(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings)
    queue(account, 1)
    fan_out.dispatch_fan_out(now=WEDNESDAY)
    Message.objects.all().delete()
    account.delete()
    assert run_turns(sandbox_client) == [{}]


def test_a_turn_taken_for_lost_neither_hands_on_nor_clears_the_newer_marker(
    sandbox_settings, sandbox_client, settings
):
    settings.DISPATCH_BATCH_SIZE = 2
    account = automatic_account(sandbox_settings)
    queue(account, 6)
    fan_out.dispatch_fan_out(now=WEDNESDAY)
    old = OrmQ.objects.get()
    old.delete()
    # The queue was backed up past the timeout: the tick gave the account a new turn.
    later = WEDNESDAY + datetime.timedelta(seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS + 1)
    assert fan_out.dispatch_fan_out(now=later)["enqueued"] == 1
    result = fan_out.dispatch_turn(*old.task["args"], now=later, client=sandbox_client)
    assert result["sent"] == 2  # its batch is safe to send: the claim decides
    assert [t["args"] for t in queued_turns()] == [(account.pk, later)]  # no second chain
    assert marker(account) == later
    run_turns(sandbox_client, now=later)
    assert Message.objects.filter(status="sent").count() == 6
    assert marker(account) is None


def test_the_scheduled_task_fans_out_and_the_turn_task_sends(sandbox_settings):
    call_command("setup_schedules")  # the schedule runs messaging.tasks.dispatch
    account = automatic_account(sandbox_settings)
    queue(account, 2)
    with time_machine.travel(WEDNESDAY, tick=False):
        assert tasks.dispatch()["enqueued"] == 1
        task = OrmQ.objects.get().task
        assert task["func"] == "messaging.tasks.dispatch_turn"
        result = tasks.dispatch_turn(*task["args"])
    assert result["sent"] == 2
    assert len(sandbox_settings.sent_messages()) == 2
