"""The fanned-out dispatch in a real django-q2 cluster: one task per account, two worker
processes, and a worker killed (SIGKILL) while LinkedIn (the sandbox, over HTTP) holds one of its
requests. Nothing is sent twice and nothing is lost (docs/queue.md, "At most once")."""

import datetime
import os
import signal
import time
from collections import Counter

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.models import OrmQ

from messaging.dispatch import reap_stuck_sends
from messaging.fan_out import dispatch_fan_out
from messaging.models import LinkedInAccount, Message
from tests.integration.conftest import processes_talking_to, start_worker, wait_for, worker_env
from tests.integration.test_send_queue import automatic_account
from tests.messaging.factories import MessageFactory

ACCOUNTS = 4
PER_ACCOUNT = 8
BATCH = 4


@pytest.fixture
def qcluster_env(linkedin_sandbox):
    return {
        "LINKEDIN_SANDBOX": "1",
        "LINKEDIN_SANDBOX_URL": linkedin_sandbox.base_url,
        "LINKEDIN_READ_TIMEOUT": "5",
        "DISPATCH_BATCH_SIZE": str(BATCH),
        "TEST_Q_WORKERS": "2",
    }


def markers() -> dict[int, datetime.datetime | None]:
    return dict(LinkedInAccount.objects.values_list("pk", "dispatch_enqueued_at"))


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_a_fanned_out_dispatch_sends_nothing_twice_and_loses_nothing(
    linkedin_sandbox, qcluster_env, qcluster
):
    linkedin_sandbox.daily_limit = 10_000
    accounts = [automatic_account(linkedin_sandbox) for _ in range(ACCOUNTS)]
    past = timezone.now() - datetime.timedelta(minutes=1)
    messages = [
        m
        for account in accounts
        for m in MessageFactory.create_batch(PER_ACCOUNT, account=account, next_attempt_at=past)
    ]
    # Every answer takes 0.4 s, LinkedIn holding the request: a kill lands mid-send.
    linkedin_sandbox.add_faults([{"delay": 0.4}] * (ACCOUNTS * PER_ACCOUNT))

    assert dispatch_fan_out()["enqueued"] == ACCOUNTS  # the scheduled tick, as the cluster runs it
    wait_for(lambda: len(linkedin_sandbox.sent_messages()) >= 3, what="the first sends")
    port = int(linkedin_sandbox.base_url.rsplit(":", 1)[1])
    victims: list[int] = []

    def a_worker_is_sending() -> bool:
        victims[:] = processes_talking_to(port, group=qcluster.pid)
        return bool(victims)

    wait_for(a_worker_is_sending, interval=0.01, what="a worker with a request in flight")
    assert qcluster.pid not in victims
    os.kill(victims[0], signal.SIGKILL)

    # The other worker (and the one the cluster starts in the dead one's place) finish every
    # other account's turns. The dead turn's account keeps its marker, so the tick leaves it
    # alone; its task stays unacknowledged in the queue (delivered again only after `retry`).
    wait_for(
        lambda: sum(m is not None for m in markers().values()) == 1 and OrmQ.objects.count() == 1,
        what="the other turns to end",
    )
    (killed,) = [pk for pk, marker in markers().items() if marker is not None]
    assert Message.objects.filter(status="sending", account_id=killed).exists()
    assert not Message.objects.exclude(account_id=killed).exclude(status="sent").exists()

    # Time passes: the reaper turns the dead turn's sends uncertain, and the tick takes the
    # account's turn for lost and gives it a new one, which sends what it left queued.
    later = timezone.now() + datetime.timedelta(
        seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS + 1
    )
    reaped = reap_stuck_sends(now=later)
    assert 1 <= reaped <= BATCH
    assert dispatch_fan_out(now=later)["enqueued"] == 1
    wait_for(
        lambda: (
            not Message.objects.filter(status__in=["queued", "sending"]).exists()
            and markers()[killed] is None
        ),
        what="the new turn to send the rest",
    )
    time.sleep(0.5)  # a request LinkedIn held when the worker died is counted by now

    final = Counter(Message.objects.values_list("status", flat=True))
    assert final == {"sent": len(messages) - reaped, "uncertain": reaped}  # none lost
    received = Counter(m["idempotency_key"] for m in linkedin_sandbox.sent_messages())
    assert max(received.values()) == 1  # none twice
    by_status = {
        status: {
            str(k)
            for k in Message.objects.filter(status=status).values_list("idempotency_key", flat=True)
        }
        for status in ("sent", "uncertain")
    }
    assert by_status["sent"] <= set(received)  # what we call sent, LinkedIn has
    assert set(received) <= by_status["sent"] | by_status["uncertain"]
    # The one LinkedIn held when the worker died is among the uncertain: never resent.
    assert by_status["uncertain"] & set(received)


@pytest.mark.django_db(transaction=True)
def test_four_workers_running_turns_of_one_account_at_once_keep_its_cap(linkedin_sandbox, tmp_path):
    # The marker keeps an account to one turn at a time, but nothing rests on it: here four
    # processes run turns of the same account together, in batches, and the claim alone holds
    # the cap and sends each message once.
    linkedin_sandbox.daily_limit = 10_000
    account = automatic_account(linkedin_sandbox, daily_limit=100)
    other = automatic_account(linkedin_sandbox, daily_limit=30)
    past = timezone.now() - datetime.timedelta(minutes=1)
    MessageFactory.create_batch(400, account=account, next_attempt_at=past)
    MessageFactory.create_batch(50, account=other, next_attempt_at=past)

    env = {**worker_env(linkedin_sandbox, tmp_path), "DISPATCH_BATCH_SIZE": "7"}
    workers = [start_worker(12, env, pause=0.05, turns=True) for _ in range(4)]
    for worker in workers:
        _, errors = worker.communicate(timeout=240)
        assert worker.returncode == 0, errors.decode()[-2000:]

    received = Counter(m["idempotency_key"] for m in linkedin_sandbox.sent_messages())
    assert max(received.values()) == 1  # no message twice
    sent = Counter(Message.objects.filter(status="sent").values_list("account_id", flat=True))
    assert sent == {account.pk: 100, other.pk: 30}
    assert sum(received.values()) == 130
    assert Message.objects.filter(status="queued").count() == 300 + 20
