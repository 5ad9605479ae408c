"""The send queue under real concurrency and real crashes: worker processes against the test
database and the LinkedIn sandbox over HTTP (docs/queue.md: at most once, the cap holds)."""

import datetime
import random
import time
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from messaging.dispatch import reap_stuck_sends
from messaging.models import Message
from tests.integration.conftest import kill_process_group, start_worker, wait_for, worker_env
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

ALWAYS = {
    "window_days": list(range(7)),
    "window_start": datetime.time(0),
    "window_end": datetime.time(23, 59, 59),
}


def automatic_account(sandbox, **fields):
    defaults = {
        "access_token": sandbox.issue_token("sbx-maya-okafor"),
        "mode": "automatic",
        "scopes": ["openid", "profile", "email", "w_member_social"],
        "min_interval_seconds": 0,
        "jitter_seconds": 0,
        "timezone": "UTC",
        **ALWAYS,
    }
    return LinkedInAccountFactory(**{**defaults, **fields})


@pytest.mark.django_db(transaction=True)
def test_four_workers_never_exceed_the_cap_nor_send_twice(linkedin_sandbox, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "Concurrency is proved on PostgreSQL (row locks between processes); "
            "CI runs this suite on PostgreSQL too."
        )
    linkedin_sandbox.daily_limit = 10_000  # LinkedIn's own limit is not what is tested here
    account = automatic_account(linkedin_sandbox, daily_limit=100)
    past = timezone.now() - datetime.timedelta(minutes=1)
    MessageFactory.create_batch(1000, account=account, next_attempt_at=past)

    env = worker_env(linkedin_sandbox, tmp_path)
    workers = [start_worker(15, env, pause=0.05) for _ in range(4)]
    for worker in workers:
        _, errors = worker.communicate(timeout=240)
        assert worker.returncode == 0, errors.decode()[-2000:]

    received = linkedin_sandbox.sent_messages()
    keys = Counter(m["idempotency_key"] for m in received)
    assert len(received) == 100
    assert max(keys.values()) == 1  # no message twice
    assert Message.objects.filter(status="sent").count() == 100
    assert Message.objects.filter(status="queued").count() == 900
    sent_keys = {
        str(k)
        for k in Message.objects.filter(status="sent").values_list("idempotency_key", flat=True)
    }
    assert sent_keys == set(keys)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_leaves_an_uncertain_message_that_is_never_resent(
    linkedin_sandbox, tmp_path, settings
):
    account = automatic_account(linkedin_sandbox)
    message = MessageFactory(
        account=account, next_attempt_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    # LinkedIn takes the request and answers slowly: the worker dies while waiting.
    linkedin_sandbox.add_faults([{"delay": 3.0}])
    env = worker_env(linkedin_sandbox, tmp_path)
    worker = start_worker(1, env)
    # Kill it once LinkedIn has the request but has not answered: between claim and result.
    wait_for(
        lambda: len(linkedin_sandbox.sent_messages()) == 1, timeout=60, what="the request to arrive"
    )
    kill_process_group(worker)
    message.refresh_from_db()
    assert message.status == "sending"

    later = timezone.now() + datetime.timedelta(
        seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS + 1
    )
    assert reap_stuck_sends(now=later) == 1
    message.refresh_from_db()
    assert message.status == "uncertain"

    # More workers come and go: the uncertain message is never sent again.
    worker = start_worker(3, env)
    worker.communicate(timeout=120)
    assert [m["idempotency_key"] for m in linkedin_sandbox.sent_messages()] == [
        str(message.idempotency_key)
    ]
    message.refresh_from_db()
    assert message.status == "uncertain"


@pytest.mark.django_db(transaction=True)
def test_random_kills_lose_nothing_and_send_nothing_twice(linkedin_sandbox, tmp_path, settings):
    rng = random.Random(20261126)
    # One message per second (the minimum interval), so that a kill can land anywhere in a
    # long run of claims and sends.
    account = automatic_account(linkedin_sandbox, daily_limit=500, min_interval_seconds=1)
    past = timezone.now() - datetime.timedelta(minutes=1)
    messages = MessageFactory.create_batch(50, account=account, next_attempt_at=past)
    # Slow, uneven answers so that kills land before, during and after sends.
    linkedin_sandbox.add_faults([{"delay": rng.uniform(0.0, 0.6)} for _ in range(80)])
    env = worker_env(linkedin_sandbox, tmp_path)

    deadline = time.monotonic() + 240
    kills = 0
    while Message.objects.filter(status="queued").exists() and time.monotonic() < deadline:
        ready = tmp_path / f"ready-{time.monotonic_ns()}"
        worker = start_worker(400, {**env, "READY_FILE": str(ready)}, pause=0.05)
        while not ready.exists() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(1.0, 3.0))
        if worker.poll() is None:
            kill_process_group(worker)
            kills += 1
        worker.wait()
    assert kills >= 3
    assert not Message.objects.filter(status="queued").exists(), "the workers did not finish"

    later = timezone.now() + datetime.timedelta(
        seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS + 1
    )
    reap_stuck_sends(now=later)
    time.sleep(0.5)  # let delayed requests that were already in LinkedIn's hands arrive

    final = Counter(Message.objects.values_list("status", flat=True))
    assert set(final) <= {"sent", "failed", "uncertain", "cancelled"}, final
    assert sum(final.values()) == len(messages)  # none lost
    received = Counter(m["idempotency_key"] for m in linkedin_sandbox.sent_messages())
    assert max(received.values()) == 1  # none twice
    sent = {
        str(k)
        for k in Message.objects.filter(status="sent").values_list("idempotency_key", flat=True)
    }
    assert sent <= set(received)  # what we call sent, LinkedIn has
    not_received = {
        str(k)
        for k in Message.objects.exclude(status="uncertain")
        .exclude(status="sent")
        .values_list("idempotency_key", flat=True)
    }
    assert not (not_received & set(received)), "a message LinkedIn has is marked failed/cancelled"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("flush_seconds", ["60", "0"])
def test_a_worker_killed_before_writing_its_batchs_answers_sends_nothing_twice(
    linkedin_sandbox, tmp_path, settings, flush_seconds
):
    # An account's batch is sent first and its answers recorded together (at the latest every
    # MESSAGE_OUTCOME_FLUSH_SECONDS): a worker that dies in between leaves messages LinkedIn
    # accepted `sending`, and those become uncertain, never sent again.
    account = automatic_account(linkedin_sandbox)
    past = timezone.now() - datetime.timedelta(minutes=1)
    messages = MessageFactory.create_batch(3, account=account, next_attempt_at=past)
    # Two quick answers, then LinkedIn takes the third request and answers slowly.
    linkedin_sandbox.add_faults([{"delay": 0.01}, {"delay": 0.01}, {"delay": 3.0}])
    env = {**worker_env(linkedin_sandbox, tmp_path), "MESSAGE_OUTCOME_FLUSH_SECONDS": flush_seconds}
    worker = start_worker(1, env)
    wait_for(
        lambda: len(linkedin_sandbox.sent_messages()) == 3, timeout=60, what="the third request"
    )
    kill_process_group(worker)
    answered = {m["idempotency_key"] for m in linkedin_sandbox.sent_messages()[:2]}
    by_key = {str(m.idempotency_key): m for m in messages}
    for message in messages:
        message.refresh_from_db()
    recorded = {key: by_key[key].status for key in answered}
    if flush_seconds == "0":  # written after each answer: only the message in flight is open
        assert set(recorded.values()) == {"sent"}
    else:  # the batch's answers were never written
        assert set(recorded.values()) == {"sending"}
    assert Counter(m.status for m in messages)["sending"] == (1 if flush_seconds == "0" else 3)

    later = timezone.now() + datetime.timedelta(
        seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS + 1
    )
    reap_stuck_sends(now=later)
    worker = start_worker(3, env)
    worker.communicate(timeout=120)
    received = Counter(m["idempotency_key"] for m in linkedin_sandbox.sent_messages())
    assert sorted(received.values()) == [1, 1, 1]  # none twice
    for message in messages:
        message.refresh_from_db()
        expected = (
            "sent"
            if flush_seconds == "0" and str(message.idempotency_key) in answered
            else "uncertain"
        )
        assert message.status == expected
        statuses = list(message.events.order_by("pk").values_list("status", flat=True))
        assert statuses == ["sending", expected]
