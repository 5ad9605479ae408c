import pytest

from contacts.models import Stage
from tests.contacts.views.contact_audit import events

pytestmark = pytest.mark.django_db


def test_it_sets_the_stage_and_records_who_did(staff_client, staff_user, contact):
    staff_client.post(f"/contacts/{contact.pk}/stage/", {"stage": "meeting"})
    contact.refresh_from_db()
    assert contact.stage == Stage.MEETING
    who = staff_user.username
    assert events(contact) == [("stage_change", who, {"from": "lead", "to": "meeting"})]
    # The same stage again is no change, and no event.
    staff_client.post(f"/contacts/{contact.pk}/stage/", {"stage": "meeting"})
    assert len(events(contact)) == 1


def test_it_refuses_an_unknown_stage(staff_client, contact):
    response = staff_client.post(f"/contacts/{contact.pk}/stage/", {"stage": "wizard"}, follow=True)
    assert "Choose one of the listed stages." in response.content.decode()
    contact.refresh_from_db()
    assert contact.stage == Stage.LEAD
    assert events(contact) == []
