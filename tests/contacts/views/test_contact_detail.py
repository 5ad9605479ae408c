import datetime

import pytest

from tests.contacts.factories import ConnectionFactory, NoteFactory, TagFactory

pytestmark = pytest.mark.django_db


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
