import pytest

from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_another_members_message_is_not_found(staff_client):
    foreign = MessageFactory()
    assert staff_client.get(f"/messages/{foreign.pk}/").status_code == 404
    assert staff_client.post(f"/messages/{foreign.pk}/cancel/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "queued"
