import pytest

from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_cancel_and_resolve_uncertain(staff_client, account):
    queued = MessageFactory(account=account)
    staff_client.post(f"/messages/{queued.pk}/cancel/")
    queued.refresh_from_db()
    assert queued.status == "cancelled"
    response = staff_client.post(f"/messages/{queued.pk}/cancel/", follow=True)
    assert "Only a queued or Outbox message can be cancelled." in response.content.decode()

    uncertain = MessageFactory(account=account, status="uncertain", last_error="read timeout")
    page = staff_client.get(f"/messages/{uncertain.pk}/").content.decode()
    assert "Was it sent?" in page
    staff_client.post(f"/messages/{uncertain.pk}/resolve/", {"outcome": "requeue"})
    uncertain.refresh_from_db()
    assert uncertain.status == "queued"
    other = MessageFactory(account=account, status="uncertain")
    staff_client.post(f"/messages/{other.pk}/resolve/", {"outcome": "sent"})
    other.refresh_from_db()
    assert other.status == "sent"
    response = staff_client.post(f"/messages/{other.pk}/resolve/", {"outcome": "boom"}, follow=True)
    assert "Choose whether it was sent" in response.content.decode()
