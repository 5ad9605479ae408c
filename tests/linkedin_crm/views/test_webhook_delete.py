import pytest

from linkedin_crm.models import AuditEvent, WebhookDelivery, WebhookSubscription
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


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
