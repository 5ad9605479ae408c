"""Ids from the address or a form that no database holds: a clear 400 or nothing selected,
never a server error."""

import pytest

from linkedin_crm.ids import parse_ids
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
HUGE = "99999999999999999999"


def test_parse_ids_keeps_only_ids_a_database_can_hold():
    assert parse_ids(["1", " 2 ", "²", "x", "-3", "0", HUGE, str(2**63 - 1)]) == [1, 2, 2**63 - 1]


def test_a_number_too_large_is_a_400_with_a_sentence(staff_client):
    """SQLite stops such a query with an OverflowError (answered 400 with a sentence);
    PostgreSQL compares it and finds nothing, so the filter says the choice is not valid."""
    from django.db import connection

    for url in (f"/contacts/?tags={HUGE}", f"/contacts/?network={HUGE}"):
        response = staff_client.get(url)
        if connection.vendor == "sqlite":
            assert response.status_code == 400, url
            assert "too large to be an id" in response.content.decode()
        else:
            assert response.status_code == 200, url
            assert "Select a valid choice" in response.content.decode()


def test_odd_digits_select_nobody(staff_client):
    ContactFactory()
    response = staff_client.get("/contacts/message/", {"ids": f"²,{HUGE}"})
    assert response.status_code == 302  # back to the list: nobody was selected
    response = staff_client.post("/contacts/bulk/", {"selected": ["²", HUGE], "action": "tag"})
    assert response.status_code in (200, 302, 400)
