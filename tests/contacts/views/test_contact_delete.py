import pytest

from contacts.models import Contact, Note
from tests.contacts.factories import NoteFactory

pytestmark = pytest.mark.django_db


def test_it_asks_before_deleting_a_contact(manager_client, contact):
    NoteFactory(contact=contact)
    response = manager_client.get(f"/contacts/{contact.pk}/delete/")
    assert "cannot be undone" in response.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()
    response = manager_client.post(f"/contacts/{contact.pk}/delete/")
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Note.objects.exists()
