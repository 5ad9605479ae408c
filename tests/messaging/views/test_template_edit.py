import pytest

from contacts.models import Contact
from messaging.models import MessageTemplate

pytestmark = pytest.mark.django_db


def test_template_crud_with_linting(staff_client):
    response = staff_client.post(
        "/messages/templates/new/", {"name": "Bad", "body": "Hi {{ frist_name }}"}
    )
    assert "frist_name" in response.content.decode() and not MessageTemplate.objects.exists()
    response = staff_client.post(
        "/messages/templates/new/", {"name": "Big", "body": "{{ company" + '|join:"xx"' * 17 + "}}"}
    )
    assert "“join” is not available" in response.content.decode()
    assert not MessageTemplate.objects.exists()
    staff_client.post("/messages/templates/new/", {"name": "Intro", "body": "Hi {{ first_name }}"})
    template = MessageTemplate.objects.get()
    staff_client.post(
        f"/messages/templates/{template.pk}/", {"name": "Intro", "body": "Hello {{ first_name }}"}
    )
    template.refresh_from_db()
    assert template.body == "Hello {{ first_name }}"
    assert (
        "Delete “Intro”?"
        in staff_client.get(f"/messages/templates/{template.pk}/delete/").content.decode()
    )
    staff_client.post(f"/messages/templates/{template.pk}/delete/")
    assert not MessageTemplate.objects.exists()
    assert Contact.objects.count() == 0
