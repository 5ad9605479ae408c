import pytest

from linkedin_crm.models import WebhookDelivery
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


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
