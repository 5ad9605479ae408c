import pytest

from tests.contacts.views.contact_audit import events

pytestmark = pytest.mark.django_db


def test_it_marks_and_clears_do_not_contact_with_reason_and_date(staff_client, staff_user, contact):
    url = f"/contacts/{contact.pk}/do-not-contact/"
    staff_client.post(url, {"do_not_contact": "on", "reason": "Asked us to stop"})
    contact.refresh_from_db()
    assert contact.do_not_contact and contact.dnc_reason == "Asked us to stop" and contact.dnc_at
    assert not contact.can_be_messaged
    staff_client.post(url, {})
    contact.refresh_from_db()
    assert not contact.do_not_contact and contact.dnc_at is None
    # Who did both, without the reason (the audit log is kept for ever).
    who = staff_user.username
    assert events(contact) == [("do_not_contact", who, {}), ("contact_allowed", who, {})]


def test_it_requires_a_reason_for_do_not_contact(staff_client, contact):
    url = f"/contacts/{contact.pk}/do-not-contact/"
    response = staff_client.post(url, {"do_not_contact": "on", "reason": " "}, follow=True)
    assert "Say why" in response.content.decode()
    contact.refresh_from_db()
    assert not contact.do_not_contact
    assert events(contact) == []
