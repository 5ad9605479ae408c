import pytest

from linkedin_crm.models import AuditEvent, WebhookSubscription

pytestmark = pytest.mark.django_db


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
