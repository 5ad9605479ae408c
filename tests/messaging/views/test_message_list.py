import pytest

from tests.contacts.factories import ContactFactory
from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_message_list_filters_and_shows_counts(staff_client, account):
    MessageFactory(account=account, status="sent", body="Sent one")
    MessageFactory(account=account, status="queued", body="Queued one")
    MessageFactory(status="queued", body="Not mine")
    page = staff_client.get("/messages/", {"status": "sent"}).content.decode()
    assert "Sent one" in page and "Queued one" not in page and "Not mine" not in page
    assert "Sent: 1" in page and "Queued: 1" in page
    bad = staff_client.get("/messages/", {"status": "wizard", "created_after": "nope"})
    assert bad.status_code == 200 and "not valid" in bad.content.decode()


def test_message_list_caps_a_long_contact_search_and_says_so(staff_client, account):
    ann = ContactFactory(first_name="Ann", last_name="Lee")
    MessageFactory(account=account, contact=ann, body="To Ann")
    # A made-up name could hold "ann" (Joanne, Hanna): this one cannot.
    bo = ContactFactory(first_name="Bo", last_name="Yu", company="Tech Co", position="Chef")
    MessageFactory(account=account, contact=bo, body="To someone else")
    response = staff_client.get("/messages/", {"contact": "ann " * 10 + "zzz " * 1490})
    assert response.status_code == 200
    page = response.content.decode()
    assert "To Ann" in page and "To someone else" not in page
    assert "Contact: searched for the first 10 words only." in page


def test_a_bad_filter_value_is_marked_where_it_was_typed(staff_client, account):
    MessageFactory(account=account, body="Mine")
    page = staff_client.get("/messages/", {"created_after": "nope"}).content.decode()
    assert "so no messages are shown. Correct the fields marked below." in page
    assert '<div class="field has-error">' in page and "Enter a valid date." in page
    assert "Mine" not in page
