import pytest

pytestmark = pytest.mark.django_db


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
