"""A stage change on the stage board (/contacts/board/<pk>/stage/)."""

import pytest

from contacts.models import Stage
from tests.contacts.views.board_page import BOARD, ada
from tests.contacts.views.contact_audit import events


@pytest.fixture
def contact(db):
    """Instead of the contact page's contact of conftest.py: the board's messages name Ada."""
    return ada()


def test_it_moves_a_card_through_the_contacts_service(staff_client, staff_user, contact):
    response = staff_client.post(
        f"/contacts/board/{contact.pk}/stage/",
        {"stage": "meeting"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "stage": "meeting",
        "label": "Meeting",
        "message": "Moved Ada Lovelace to “Meeting”.",
        "moved": 1,
    }
    contact.refresh_from_db()
    assert contact.stage == Stage.MEETING
    # Audited as on the contact page: who, from which stage to which.
    assert events(contact) == [("stage_change", "alice", {"from": "lead", "to": "meeting"})]


def test_it_comes_back_to_the_filtered_board_without_javascript(staff_client, contact):
    response = staff_client.post(
        f"/contacts/board/{contact.pk}/stage/", {"stage": "customer", "query": "q=ada&stage=lead"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{BOARD}?q=ada&stage=lead"
    page = staff_client.get(response["Location"]).content.decode()
    assert "Moved Ada Lovelace to “Customer”." in page
    contact.refresh_from_db()
    assert contact.stage == Stage.CUSTOMER


def test_it_refuses_an_unknown_stage_and_changes_nothing(staff_client, contact):
    url = f"/contacts/board/{contact.pk}/stage/"
    response = staff_client.post(url, {"stage": "wizard"}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Ada Lovelace was not moved: choose one of the listed stages."
    }
    response = staff_client.post(url, {"stage": ""}, follow=True)
    assert (
        "Ada Lovelace was not moved: choose one of the listed stages." in response.content.decode()
    )
    contact.refresh_from_db()
    assert contact.stage == Stage.LEAD
    assert events(contact) == []


def test_moving_to_the_same_stage_records_nothing(staff_client, contact):
    url = f"/contacts/board/{contact.pk}/stage/"
    response = staff_client.post(url, {"stage": "lead"}, headers={"Accept": "application/json"})
    assert response.json()["message"] == "Ada Lovelace is already in “Lead”."
    assert events(contact) == []


def test_moving_a_contact_that_is_gone_is_a_404(staff_client, contact):
    url = f"/contacts/board/{contact.pk + 1000}/stage/"
    assert staff_client.post(url, {"stage": "lead"}).status_code == 404


def test_a_move_is_post_only(staff_client, contact):
    response = staff_client.get(f"/contacts/board/{contact.pk}/stage/", {"stage": "meeting"})
    assert response.status_code == 405
    contact.refresh_from_db()
    assert contact.stage == Stage.LEAD
