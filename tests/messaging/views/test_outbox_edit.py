import pytest

from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_editing_changes_only_that_message(staff_client, released, account):
    other = MessageFactory(account=account, status="released", body="Other")
    staff_client.post(f"/outbox/{released.pk}/edit/", {"body": "Hi Zoë, edited"})
    released.refresh_from_db()
    other.refresh_from_db()
    assert released.body == "Hi Zoë, edited" and other.body == "Other"
    response = staff_client.post(f"/outbox/{released.pk}/edit/", {"body": "  "})
    assert response.status_code == 400
    assert "A message cannot be empty." in response.content.decode()
    released.refresh_from_db()
    assert released.body == "Hi Zoë, edited"
