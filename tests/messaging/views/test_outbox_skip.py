import pytest

from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_next_is_only_ever_a_message_id(staff_client, released):
    response = staff_client.post(
        f"/outbox/{released.pk}/skip/", {"next": "1//evil.example"}, follow=False
    )
    assert response["Location"] == "/outbox/"
    other = MessageFactory(account=released.account, status="released")
    response = staff_client.post(f"/outbox/{other.pk}/skip/", {"next": "²"})
    assert response["Location"] == "/outbox/"
