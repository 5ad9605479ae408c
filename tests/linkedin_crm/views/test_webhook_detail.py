import pytest

from linkedin_crm import webhooks
from linkedin_crm.models import WebhookDelivery
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


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
