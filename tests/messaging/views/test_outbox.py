import pytest

from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_outbox_lists_released_messages_of_my_accounts(staff_client, released):
    MessageFactory(status="released", body="Someone else's outbox")
    page = staff_client.get("/outbox/").content.decode()
    assert "Hi Zoë" in page and "Someone else" not in page
    assert "Copy and open LinkedIn profile" in page and "I sent it" in page
