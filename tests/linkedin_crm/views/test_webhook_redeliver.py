import pytest

from linkedin_crm import webhooks
from linkedin_crm.models import WebhookDelivery
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_a_delivery_of_another_webhook_is_not_found(admin_client, subscription, receiver):
    other = webhooks.subscription_create(
        url=receiver.url, events=["contact.created"], actor=admin_client.user
    )
    ContactFactory()
    delivery = WebhookDelivery.objects.get(subscription=other)
    url = f"/settings/webhooks/{subscription.pk}/deliveries/{delivery.pk}/redeliver/"
    assert admin_client.post(url).status_code == 404
