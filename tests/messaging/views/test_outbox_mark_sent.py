import pytest

from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_i_sent_it_and_skip(staff_client, released, account):
    staff_client.post(f"/outbox/{released.pk}/sent/")
    released.refresh_from_db()
    assert (released.status, released.channel) == ("sent", "manual") and released.sent_at
    skipped = MessageFactory(account=account, status="released")
    staff_client.post(f"/outbox/{skipped.pk}/skip/")
    skipped.refresh_from_db()
    assert skipped.status == "cancelled"
    response = staff_client.post(f"/outbox/{released.pk}/sent/", follow=True)
    assert "no longer in the Outbox" in response.content.decode()
