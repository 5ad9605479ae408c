"""Webhooks delivered by a real django-q2 cluster: no event is lost when the worker is
SIGKILLed in the middle of a delivery and the queued tasks are lost with it."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import OrmQ
from standardwebhooks import Webhook

from contacts.models import Contact
from linkedin_crm import webhooks
from linkedin_crm.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.integration.conftest import kill_process_group, wait_for
from tests.webhook_receiver import HANG

EVENTS = 5


@pytest.mark.django_db(transaction=True)
def test_no_event_is_lost_when_the_worker_is_killed_mid_delivery(start_qcluster, receiver):
    subscription = WebhookSubscription.objects.create(
        url=receiver.url, events=["contact.created"], secret=webhooks.new_secret()
    )
    call_command("setup_schedules", stdout=io.StringIO())
    receiver.answer(HANG)  # the first POST never gets its answer
    cluster = start_qcluster()

    # Each contact in its own transaction: each commit queues a delivery task.
    for index in range(EVENTS):
        Contact.objects.create(first_name=f"Person{index}")
    assert WebhookEvent.objects.count() == EVENTS

    wait_for(lambda: len(receiver.received) == 1, timeout=60, what="the worker's first POST")
    kill_process_group(cluster)

    deliveries = WebhookDelivery.objects.all()
    assert not deliveries.filter(state=WebhookDelivery.State.DELIVERED).exists()
    assert deliveries.filter(attempts=1).count() == 1  # the one it was sending
    # As if the broker lost the queued tasks with the worker (Redis keeps none it handed out):
    # only the sweep schedule is left to deliver.
    OrmQ.objects.all().delete()
    # The killed worker's delivery is due again once its lease (a minute) runs out; here at once.
    deliveries.filter(attempts=1).update(next_attempt_at=timezone.now())

    receiver.answer()
    start_qcluster()

    def all_delivered() -> bool:
        return deliveries.filter(state=WebhookDelivery.State.DELIVERED).count() == EVENTS

    # The scheduler looks for due schedules about every 30 seconds.
    wait_for(all_delivered, timeout=120, what="the sweep to deliver every event")
    event_ids = set(WebhookEvent.objects.values_list("id", flat=True))
    received = {request.headers["webhook-id"] for request in receiver.received}
    assert received == event_ids
    verifier = Webhook(subscription.secret)
    for request in receiver.received[1:]:
        assert verifier.verify(request.body, request.headers)["type"] == "contact.created"
