"""The webhooks page: Admins only; create, edit, turn off, delete, the delivery log, redeliver."""

import pytest
from django.test import Client

from linkedin_crm import webhooks
from linkedin_crm.models import AuditEvent, WebhookDelivery, WebhookSubscription
from tests.contacts.factories import ContactFactory, UserFactory, give_role
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def admin_client():
    admin = give_role(UserFactory(username="ada", is_staff=True), "Admin")
    client = Client()
    client.force_login(admin)
    client.user = admin
    return client


@pytest.fixture
def subscription(admin_client, receiver):
    return webhooks.subscription_create(
        url=receiver.url, events=["contact.created"], actor=admin_client.user
    )


def test_it_is_for_admins_only(anon_client, staff_client, admin_client):
    assert anon_client.get("/settings/webhooks/").status_code == 302
    # A Manager or Member is staff but not an Admin.
    assert staff_client.get("/settings/webhooks/").status_code == 403
    assert staff_client.post("/settings/webhooks/new/", {}).status_code == 403
    response = admin_client.get("/settings/webhooks/")
    assert response.status_code == 200 and b"No webhooks yet" in response.content
    assert b'href="/settings/webhooks/"' in response.content  # in the navigation


def test_an_admin_creates_one_and_sees_its_secret(admin_client, receiver):
    response = admin_client.post(
        "/settings/webhooks/new/",
        {
            "url": receiver.url,
            "description": "Zapier",
            "events": ["contact.created", "reply.received"],
        },
    )
    subscription = WebhookSubscription.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == f"/settings/webhooks/{subscription.pk}/"
    )
    assert subscription.events == ["contact.created", "reply.received"] and subscription.active
    page = admin_client.get(response["Location"]).content.decode()
    assert subscription.secret in page and subscription.secret.startswith("whsec_")
    assert "Webhook created." in page
    assert AuditEvent.objects.get().action == "webhook_create"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "not a url", "events": ["contact.created"]}, "Enter a valid URL."),
        ({"url": "http://127.0.0.1:9/hooks"}, "Choose at least one event."),
        (
            {"url": "http://127.0.0.1:9/hooks", "events": ["contact.deleted"]},
            "Select a valid choice",
        ),
        (
            {"url": "http://10.0.0.1/hooks", "events": ["contact.created"]},
            "10.0.0.1 is a private address",
        ),
    ],
)
def test_bad_input_shows_why_and_keeps_what_was_typed(admin_client, data, message):
    response = admin_client.post(
        "/settings/webhooks/new/", {**data, "description": "Typed by hand"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and 'value="Typed by hand"' in page
    assert not WebhookSubscription.objects.exists() and not AuditEvent.objects.exists()


def test_it_refuses_loopback_when_the_setting_does_not_allow_it(admin_client, settings, receiver):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = []
    response = admin_client.post(
        "/settings/webhooks/new/", {"url": receiver.url, "events": ["contact.created"]}
    )
    assert "127.0.0.1 is a loopback address" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_an_admin_turns_it_off_and_on(admin_client, subscription):
    url = f"/settings/webhooks/{subscription.pk}/edit/"
    assert admin_client.get(url).status_code == 200
    data = {"url": subscription.url, "events": ["contact.created"]}  # "active" unticked
    assert admin_client.post(url, data).status_code == 302
    subscription.refresh_from_db()
    assert not subscription.active
    ContactFactory()
    assert not WebhookDelivery.objects.exists()

    subscription.disable("Turned off for the test")
    response = admin_client.get(url)
    assert "Turned off for the test" in response.content.decode()
    admin_client.post(url, {**data, "active": "on"})
    subscription.refresh_from_db()
    assert subscription.active and subscription.disabled_reason == ""


def test_editing_with_no_events_changes_nothing(admin_client, subscription):
    response = admin_client.post(
        f"/settings/webhooks/{subscription.pk}/edit/", {"url": "https://example.org/x"}
    )
    assert "Choose at least one event." in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.url.startswith("http://127.0.0.1") and subscription.events == [
        "contact.created"
    ]


def test_deleting_asks_first(admin_client, subscription):
    url = f"/settings/webhooks/{subscription.pk}/delete/"
    ContactFactory()
    page = admin_client.get(url).content.decode()
    assert (
        "Delete the webhook to" in page and "Its 1 delivery still waiting will not be sent." in page
    )
    assert WebhookSubscription.objects.exists()
    assert admin_client.post(url)["Location"] == "/settings/webhooks/"
    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()
    assert AuditEvent.objects.filter(action="webhook_delete").exists()


def test_the_delivery_log_shows_status_codes_and_redelivers(admin_client, subscription, receiver):
    receiver.answer(500)
    ContactFactory()
    webhooks.deliver_due()
    delivery = WebhookDelivery.objects.get()
    page = admin_client.get(f"/settings/webhooks/{subscription.pk}/").content.decode()
    assert "contact.created" in page and delivery.event_id in page
    assert "500" in page and "HTTP 500: receiver error" in page

    url = f"/settings/webhooks/{subscription.pk}/deliveries/{delivery.pk}/redeliver/"
    assert admin_client.get(url).status_code == 405  # a GET never sends
    response = admin_client.post(url, follow=True)
    assert "will be delivered again shortly" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert webhooks.deliver_due().delivered == 1
    assert len(receiver.received) == 2


def test_a_delivery_of_another_webhook_is_not_found(admin_client, subscription, receiver):
    other = webhooks.subscription_create(
        url=receiver.url, events=["contact.created"], actor=admin_client.user
    )
    ContactFactory()
    delivery = WebhookDelivery.objects.get(subscription=other)
    url = f"/settings/webhooks/{subscription.pk}/deliveries/{delivery.pk}/redeliver/"
    assert admin_client.post(url).status_code == 404
