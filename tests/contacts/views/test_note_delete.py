import pytest

from contacts.models import Note
from tests.contacts.factories import NoteFactory

pytestmark = pytest.mark.django_db


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
