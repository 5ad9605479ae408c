import pytest
from django.utils import timezone

from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(account):
    # A cap of its own, so the progress shown is this account's and not the default of 100.
    account.daily_limit = 27
    account.save(update_fields=["daily_limit"])
    return account


def test_outbox_lists_released_messages_of_my_accounts(staff_client, released):
    MessageFactory(status="released", body="Someone else's outbox")
    page = staff_client.get("/outbox/").content.decode()
    assert "Hi Zoë" in page and "Someone else" not in page
    assert "Copy and open LinkedIn profile" in page and "I sent it" in page


def test_it_shows_progress_against_the_cap_and_the_keys(staff_client, account, released):
    MessageFactory(account=account, status="sent", claimed_at=timezone.now())
    MessageFactory(account=account, status="released")
    page = staff_client.get("/outbox/").content.decode()
    assert "2 waiting · 1 of 27 sent today" in page
    assert '<progress class="cap-progress" value="1" max="27"' in page
    for key in ("j", "k", "c", "s", "x", "e"):
        assert f"<kbd>{key}</kbd>" in page
    assert 'aria-keyshortcuts="c"' in page and 'aria-keyshortcuts="s"' in page
