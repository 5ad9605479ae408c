"""The real django-q2 cluster drains the queue on its schedule and reaches LinkedIn (the
sandbox, over HTTP)."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from messaging.models import Message
from tests.integration.conftest import wait_for
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory


@pytest.fixture
def qcluster_env(linkedin_sandbox):
    return {"LINKEDIN_SANDBOX": "1", "LINKEDIN_SANDBOX_URL": linkedin_sandbox.base_url}


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_queued_messages_on_schedule(linkedin_sandbox, qcluster_env, qcluster):
    call_command("setup_schedules")
    account = LinkedInAccountFactory(
        access_token=linkedin_sandbox.issue_token("sbx-lukas-brenner"),
        mode="automatic",
        scopes=["openid", "w_member_social"],
        min_interval_seconds=0,
        jitter_seconds=0,
        window_days=list(range(7)),
        window_start=datetime.time(0),
        window_end=datetime.time(23, 59, 59),
    )
    messages = MessageFactory.create_batch(
        3, account=account, next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    # The cluster's scheduler runs about every 30 s; the dispatch schedule is due at once.
    wait_for(
        lambda: len(linkedin_sandbox.sent_messages()) == 3,
        timeout=120,
        interval=1,
        what="the worker to send the queued messages",
    )
    wait_for(
        lambda: Message.objects.filter(status="sent").count() == 3,
        timeout=30,
        what="the results to be recorded",
    )
    received = {m["idempotency_key"] for m in linkedin_sandbox.sent_messages()}
    assert received == {str(m.idempotency_key) for m in messages}
