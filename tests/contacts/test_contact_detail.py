import datetime

import pytest

from contacts.models import Contact, Note, Stage
from linkedin_crm.models import AuditEvent
from tests.contacts.factories import ConnectionFactory, ContactFactory, NoteFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact():
    return ContactFactory(first_name="Zoë", last_name="Müller", company="Acme")


def test_it_requires_staff(anon_client, non_staff_client, contact):
    assert anon_client.get(f"/contacts/{contact.pk}/").status_code == 302
    assert non_staff_client.get(f"/contacts/{contact.pk}/").status_code == 403


def test_it_shows_fields_connections_tags_and_notes(staff_client, contact):
    contact.tags.add(TagFactory(name="VIP"))
    ConnectionFactory(contact=contact, connected_on=datetime.date(2021, 9, 16))
    NoteFactory(contact=contact, body="Prefers e-mail")
    response = staff_client.get(f"/contacts/{contact.pk}/")
    content = response.content.decode()
    assert "Zoë Müller" in content
    assert "VIP" in content and "16 Sep 2021" in content and "Prefers e-mail" in content


def test_it_answers_404_for_a_missing_contact(staff_client):
    assert staff_client.get("/contacts/999999/").status_code == 404


def test_it_adds_a_note(staff_client, staff_user, contact):
    response = staff_client.post(f"/contacts/{contact.pk}/notes/", {"body": "  Called, no answer "})
    assert response.status_code == 302
    note = contact.notes.get()
    assert note.body == "Called, no answer" and note.author == staff_user


def test_it_refuses_an_empty_note(staff_client, contact):
    response = staff_client.post(f"/contacts/{contact.pk}/notes/", {"body": "   "})
    assert response.status_code == 400
    assert "A note cannot be empty." in response.content.decode()
    assert not contact.notes.exists()


def test_a_note_too_long_comes_back_with_what_was_typed(staff_client, contact):
    typed = "Long call notes. " * 600  # 10,200 characters
    response = staff_client.post(f"/contacts/{contact.pk}/notes/", {"body": typed})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ensure this value has at most 10000 characters (it has 10199)." in page
    assert f"{typed}</textarea>" in page
    assert not contact.notes.exists()


def test_it_deletes_a_note_only_of_that_contact(staff_client, contact):
    note = NoteFactory(contact=contact)
    stranger = NoteFactory()
    url = f"/contacts/{contact.pk}/notes/{stranger.pk}/delete/"
    assert staff_client.post(url).status_code == 404
    assert staff_client.post(f"/contacts/{contact.pk}/notes/{note.pk}/delete/").status_code == 302
    assert list(Note.objects.all()) == [stranger]


def test_note_actions_are_post_only(staff_client, contact):
    note = NoteFactory(contact=contact)
    assert staff_client.get(f"/contacts/{contact.pk}/notes/{note.pk}/delete/").status_code == 405
    assert Note.objects.filter(pk=note.pk).exists()


def events(contact) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(object_type="contact", object_id=str(contact.pk))
        .order_by("id")
        .values_list("action", "actor_name", "detail")
    )


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


def test_it_asks_before_deleting_a_contact(manager_client, contact):
    NoteFactory(contact=contact)
    response = manager_client.get(f"/contacts/{contact.pk}/delete/")
    assert "cannot be undone" in response.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()
    response = manager_client.post(f"/contacts/{contact.pk}/delete/")
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Note.objects.exists()
