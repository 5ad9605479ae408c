"""Webhooks against a real local receiver: signing, retries, giving up, redelivery, the outbox's
transaction, the SSRF guard (linkedin_crm/webhooks.py)."""

import datetime
import json
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from contacts.models import Contact
from linkedin_crm import webhooks
from linkedin_crm.models import (
    AuditEvent,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from tests.contacts.factories import ContactFactory, UserFactory
from tests.webhook_receiver import DROP

State = WebhookDelivery.State
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def admin(db):
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


def subscribe(admin, receiver, *events):
    return webhooks.subscription_create(
        url=receiver.url, events=events or ["contact.created"], actor=admin
    )


def test_it_signs_what_standard_webhooks_verifies(admin, receiver):
    subscription = subscribe(admin, receiver)
    contact = ContactFactory(first_name="Ada", last_name="Lovelace")

    assert webhooks.deliver_due().delivered == 1

    [request] = receiver.received
    payload = Webhook(subscription.secret).verify(request.body, request.headers)
    assert payload["type"] == "contact.created"
    assert payload["data"]["id"] == contact.pk and payload["data"]["last_name"] == "Lovelace"
    event = WebhookEvent.objects.get()
    assert request.headers["webhook-id"] == event.id and event.id.startswith("msg_")
    assert request.path == "/hooks"
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.DELIVERED and delivery.last_status_code == 200
    # Under another secret the signature does not verify.
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(webhooks.new_secret()).verify(request.body, request.headers)


def test_its_signature_matches_the_reference_vector():
    signature = webhooks.signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_it_retries_after_a_500_with_the_same_event_id(admin, receiver):
    subscribe(admin, receiver)
    receiver.answer(500, 503)
    with time_machine.travel(START, tick=False) as clock:
        ContactFactory()
        report = webhooks.deliver_due()
        assert (report.delivered, report.failed) == (0, 1)
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == State.PENDING and delivery.attempts == 1
        assert delivery.last_status_code == 500 and "receiver error" in delivery.last_error
        assert delivery.next_attempt_at == START + datetime.timedelta(seconds=30)

        assert webhooks.deliver_due().delivered == 0  # not due yet
        clock.shift(30)
        webhooks.deliver_due()  # 503: the next try a minute later
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == START + datetime.timedelta(seconds=90)
        clock.shift(60)
        assert webhooks.deliver_due().delivered == 1

    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED and delivery.attempts == 3
    assert delivery.last_error == ""
    ids = {request.headers["webhook-id"] for request in receiver.received}
    assert len(receiver.received) == 3 and ids == {delivery.event_id}


def test_it_retries_after_a_dropped_connection(admin, receiver):
    subscribe(admin, receiver)
    receiver.answer(DROP)
    with time_machine.travel(START, tick=False) as clock:
        ContactFactory()
        assert webhooks.deliver_due().failed == 1
        delivery = WebhookDelivery.objects.get()
        assert delivery.last_status_code is None
        assert delivery.last_error.startswith("No answer: ")
        clock.shift(30)
        assert webhooks.deliver_due().delivered == 1
    assert len(receiver.received) == 2


def test_it_gives_up_after_a_day_and_turns_the_subscription_off(admin, receiver):
    subscription = subscribe(admin, receiver)
    receiver.answer(*[500] * 100)
    with time_machine.travel(START, tick=False) as clock:
        ContactFactory()
        delivery = WebhookDelivery.objects.get()
        tries = []
        while delivery.state == State.PENDING and len(tries) < 50:
            clock.move_to(delivery.next_attempt_at)
            tries.append(timezone.now() - START)
            webhooks.deliver_due()
            delivery.refresh_from_db()
        assert delivery.state == State.FAILED
        # Backoff: 30 s doubling up to 4 hours, for a day; the 15th try would be past it.
        seconds = [int(t.total_seconds()) for t in tries]
        assert seconds[:5] == [0, 30, 90, 210, 450]
        assert seconds[-3:] == [44130, 58530, 72930] and delivery.attempts == 14
        subscription.refresh_from_db()
        assert not subscription.active
        assert "could not be delivered in" in subscription.disabled_reason
        assert "HTTP 500" in subscription.disabled_reason

        # Off: later events are not written for it, nothing piles up.
        ContactFactory()
        assert WebhookDelivery.objects.count() == 1
        assert webhooks.deliver_due().delivered == 0 and len(receiver.received) == 14

        # Turned on again by an Admin: the reason goes, new events go out.
        receiver.answer()
        webhooks.subscription_update(subscription=subscription, active=True, actor=admin)
        assert subscription.disabled_reason == ""
        ContactFactory()
        assert webhooks.deliver_due().delivered == 1


def test_it_redelivers_an_event_with_its_id(admin, receiver):
    subscription = subscribe(admin, receiver)
    ContactFactory()
    webhooks.deliver_due()
    delivery = WebhookDelivery.objects.get()

    webhooks.delivery_redeliver(delivery=delivery, actor=admin)
    assert delivery.state == State.PENDING
    assert webhooks.deliver_due().delivered == 1

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.event_id
    assert Webhook(subscription.secret).verify(second.body, second.headers)
    assert AuditEvent.objects.filter(action="webhook_redeliver").count() == 1


def test_only_admins_manage_webhooks(staff_user, admin, receiver):
    with pytest.raises(PermissionDenied):
        webhooks.subscription_create(url=receiver.url, events=["reply.received"], actor=staff_user)
    subscription = subscribe(admin, receiver)
    with pytest.raises(PermissionDenied):
        webhooks.subscription_delete(subscription=subscription, actor=staff_user)
    assert WebhookSubscription.objects.count() == 1


def test_it_audits_create_update_and_delete(admin, receiver):
    subscription = subscribe(admin, receiver)
    webhooks.subscription_update(
        subscription=subscription, events=["contact.created", "reply.received"], actor=admin
    )
    webhooks.subscription_delete(subscription=subscription, actor=admin)
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["webhook_create", "webhook_update", "webhook_delete"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    ("events", "message"),
    [([], "Choose at least one event."), (["contact.deleted"], "Unknown event: contact.deleted.")],
)
def test_it_refuses_bad_events(admin, receiver, events, message):
    with pytest.raises(ValidationError, match=message):
        webhooks.subscription_create(url=receiver.url, events=events, actor=admin)
    assert not WebhookSubscription.objects.exists()


# --- the outbox ----------------------------------------------------------------------------------


def test_nobody_subscribed_costs_one_query_and_writes_nothing(db, django_assert_num_queries):
    def never():
        raise AssertionError("the data is not built when nobody listens")

    with django_assert_num_queries(1):
        assert webhooks.emit("message.sent", never) == 0
    ContactFactory()
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()


def test_an_event_of_a_rolled_back_change_is_never_written(admin, receiver):
    subscribe(admin, receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        ContactFactory()
        assert WebhookEvent.objects.count() == 1
        raise RuntimeError("the change fails after the event was written")
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()
    assert webhooks.deliver_due().delivered == 0 and receiver.received == []


@pytest.mark.django_db(transaction=True)
def test_nothing_is_delivered_before_the_commit(receiver):
    admin = UserFactory(username="ada", is_staff=True, is_superuser=True)
    subscribe(admin, receiver)

    def deliver_elsewhere(reports):
        # Another process's view: a worker with its own database connection.
        try:
            reports.append(webhooks.deliver_due(budget_seconds=5))
        finally:
            connection.close()

    with transaction.atomic():
        Contact.objects.create(first_name="Grace")
        reports = []
        worker = threading.Thread(target=deliver_elsewhere, args=(reports,))
        worker.start()
        worker.join()
        assert reports[0].delivered == 0 and receiver.received == []

    assert webhooks.deliver_due().delivered == 1
    assert json.loads(receiver.received[0].body)["data"]["first_name"] == "Grace"


# --- targets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/hook", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[::1]:8000/hook", "::1 is a loopback address"),
        ("http://localhost:8000/hook", "localhost resolves to "),
        ("http://0.0.0.0/", "0.0.0.0 is a reserved address"),
        ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
    ],
)
def test_it_refuses_private_targets(admin, settings, url, reason):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = []
    with pytest.raises(ValidationError) as refused:
        webhooks.subscription_create(url=url, events=["contact.created"], actor=admin)
    assert reason in refused.value.messages[0]
    assert "only sent to public addresses" in refused.value.messages[0]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "Enter an http:// or https:// URL."),
        ("http://no-such-host.invalid/hook", "The host no-such-host.invalid could not be found."),
    ],
)
def test_it_refuses_urls_it_cannot_send_to(admin, url, message):
    with pytest.raises(ValidationError, match=message):
        webhooks.subscription_create(url=url, events=["contact.created"], actor=admin)


def test_loopback_is_allowed_only_when_the_setting_says_so(admin, receiver, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = ["127.0.0.1/32"]
    subscribe(admin, receiver)  # allowed
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = ["10.0.0.0/8"]
    with pytest.raises(ValidationError, match="127.0.0.1 is a loopback address"):
        subscribe(admin, receiver)


def test_it_checks_the_target_again_before_each_delivery(admin, receiver, settings):
    subscribe(admin, receiver)
    ContactFactory()
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = []  # as if the name now resolved elsewhere
    assert webhooks.deliver_due().failed == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_error.startswith("Refused: 127.0.0.1 is a loopback address;")
    assert receiver.received == []
    assert timezone.now() < delivery.next_attempt_at


def test_secrets_are_stored_encrypted_and_rotated_with_the_tokens(
    admin, receiver, settings, capsys
):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    subscription = subscribe(admin, receiver)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM linkedin_crm_webhooksubscription")
        [(stored,)] = cursor.fetchall()
    assert subscription.secret.startswith("whsec_") and "whsec_" not in stored

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_encryption_keys")
    assert "Re-encrypted the signing secret of 1 webhook." in capsys.readouterr().out
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert WebhookSubscription.objects.get().secret == subscription.secret


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_does_not_fail_the_change(receiver, monkeypatch):
    admin = UserFactory(username="ada", is_staff=True, is_superuser=True)
    subscribe(admin, receiver)

    def broker_down(*args, **kwargs):
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(webhooks, "async_task", broker_down)
    Contact.objects.create(first_name="Grace")  # commits, and its event with it
    assert WebhookDelivery.objects.filter(state=State.PENDING).count() == 1
    assert webhooks.deliver_due().delivered == 1  # what the sweep then does


def test_old_events_are_pruned_unless_a_redelivery_is_still_retried(admin, receiver, settings):
    settings.WEBHOOK_EVENTS_KEEP_DAYS = 30
    subscribe(admin, receiver)
    with time_machine.travel(START, tick=False):
        old, retried = ContactFactory(), ContactFactory()
        webhooks.deliver_due()
    with time_machine.travel(START + datetime.timedelta(days=29), tick=False):
        recent = ContactFactory()
        webhooks.deliver_due()
    [old_event, retried_event, recent_event] = [
        WebhookEvent.objects.get(payload__data__id=contact.pk) for contact in (old, retried, recent)
    ]
    assert WebhookDelivery.objects.filter(state=State.DELIVERED).count() == 3
    at = START + datetime.timedelta(days=30, hours=12)
    with time_machine.travel(at, tick=False):
        receiver.answer(500)
        webhooks.delivery_redeliver(delivery=retried_event.deliveries.get(), actor=admin)
        webhooks.deliver_due()
        assert retried_event.deliveries.get().state == State.PENDING  # retried for a day
        assert webhooks.events_prune() == 1
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {
        retried_event.pk,
        recent_event.pk,
    }
    assert not WebhookDelivery.objects.filter(event_id=old_event.pk).exists()
    # Once the redelivery has given up, a day later, its event goes too.
    with time_machine.travel(at + datetime.timedelta(days=1, minutes=1), tick=False):
        assert webhooks.events_prune() == 1
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [recent_event.pk]


def test_the_prune_task_runs(db):
    from linkedin_crm.tasks import prune_webhook_events

    assert prune_webhook_events() == 0
