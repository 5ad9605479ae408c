"""Changing a contact's stage or tags in a row of the contact list."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry

from contacts.models import Contact, Tag
from linkedin_crm.models import AuditEvent
from tests.contacts.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _url(contact):
    return f"/contacts/{contact.pk}/inline/"


def _version(contact):
    contact.refresh_from_db()
    return contact.updated_at.isoformat()


def test_it_needs_staff(anon_client, non_staff_client, staff_client):
    contact = ContactFactory(stage="lead")
    data = {"version": _version(contact), "stage": "customer"}
    assert anon_client.post(_url(contact), data).status_code == 302
    assert non_staff_client.post(_url(contact), data).status_code == 403
    assert non_staff_client.get(_url(contact)).status_code == 403
    assert staff_client.put(_url(contact), data).status_code == 405
    assert Contact.objects.get().stage == "lead"


def test_a_get_draws_the_rows_tag_editor_and_writes_nothing(staff_client):
    contact = ContactFactory(first_name="Ann", last_name="Archer", tags=[TagFactory(name="VIP")])
    version = _version(contact)
    response = staff_client.get(
        _url(contact), HTTP_HX_CURRENT_URL="http://testserver/contacts/?q=ann", **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'name="version" value="{version}"' in html
    assert f'name="tags" id="tags-{contact.pk}" value="VIP"' in html
    assert 'name="next" value="/contacts/?q=ann"' in html  # back to the list as it was
    assert "Tags of Ann Archer" in html
    assert _version(contact) == version
    assert not AuditEvent.objects.exists()


def test_the_list_fetches_the_tag_editor_when_it_is_opened(staff_client):
    ContactFactory(tags=[TagFactory(name="VIP")])
    html = staff_client.get("/contacts/").content.decode()
    assert 'hx-trigger="toggle once from:closest details"' in html
    assert 'id="tags-' not in html  # no form is drawn until it is wanted


def test_the_tag_editor_of_a_missing_contact_is_a_404(staff_client):
    assert staff_client.get("/contacts/999999/inline/", **HTMX).status_code == 404


def test_the_tag_editor_never_sends_back_elsewhere(staff_client):
    contact = ContactFactory()
    response = staff_client.get(
        _url(contact), HTTP_HX_CURRENT_URL="https://evil.example/contacts/", **HTMX
    )
    assert 'name="next" value="/contacts/"' in response.content.decode()


def test_it_changes_the_stage_and_sends_back_the_row(staff_client, staff_user):
    contact = ContactFactory(first_name="Ann", stage="lead")
    response = staff_client.post(
        _url(contact), {"version": _version(contact), "stage": "meeting"}, **HTMX
    )
    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="contact-{contact.pk}"')
    assert '<option value="meeting" selected>' in row
    contact.refresh_from_db()
    assert contact.stage == "meeting"
    # Recorded as a stage change, and in the admin's history under who made it.
    event = AuditEvent.objects.get(action="stage_change")
    assert event.detail == {"from": "lead", "to": "meeting"} and event.actor == staff_user
    assert LogEntry.objects.get().user == staff_user


def test_it_sets_the_tags_typed_creating_new_ones(staff_client):
    vip = TagFactory(name="VIP")
    old = TagFactory(name="Old")
    contact = ContactFactory(tags=[old])
    response = staff_client.post(
        _url(contact), {"version": _version(contact), "tags": "vip,  Berlin , ,berlin"}, **HTMX
    )
    assert response.status_code == 200
    assert sorted(contact.tags.values_list("name", flat=True)) == ["Berlin", "VIP"]
    assert Tag.objects.filter(name="VIP").get() == vip  # matched, not duplicated
    assert Contact.objects.get().stage == contact.stage  # a tags edit leaves the stage


def test_a_change_made_since_the_row_was_drawn_refuses_the_edit(staff_client):
    contact = ContactFactory(first_name="Ann", stage="lead", tags=[TagFactory(name="Old")])
    drawn_at = _version(contact)
    Contact.objects.filter(pk=contact.pk).update(
        stage="contacted", updated_at=contact.updated_at + datetime.timedelta(seconds=5)
    )
    response = staff_client.post(
        _url(contact), {"version": drawn_at, "stage": "customer", "tags": "New one"}, **HTMX
    )
    assert response.status_code == 409
    row = response.content.decode()
    assert "Nothing was saved: someone else changed this contact at" in row
    # The row shows the saved stage, and keeps what was typed for tags.
    assert '<option value="contacted" selected>' in row
    assert 'value="New one"' in row
    contact.refresh_from_db()
    assert contact.stage == "contacted"
    assert list(contact.tags.values_list("name", flat=True)) == ["Old"]
    assert not Tag.objects.filter(name="New one").exists()  # nothing half-written


@pytest.mark.parametrize(
    "data, message",
    [
        ({"stage": "boss"}, "Choose one of the listed stages."),
        ({"stage": ""}, "Choose one of the listed stages."),
        ({}, "Nothing to change: send a stage or tags."),
        ({"tags": "x" * 61}, "A tag name is too long"),
    ],
)
def test_bad_input_is_refused_with_a_message(staff_client, data, message):
    contact = ContactFactory(stage="lead")
    response = staff_client.post(_url(contact), {"version": _version(contact), **data}, **HTMX)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Contact.objects.get().stage == "lead"
    assert not contact.tags.exists() and not Tag.objects.exists()


@pytest.mark.parametrize("version", ["", "yesterday"])
def test_a_row_without_a_version_is_refused(staff_client, version):
    contact = ContactFactory(stage="lead")
    response = staff_client.post(_url(contact), {"version": version, "stage": "customer"}, **HTMX)
    assert response.status_code == 400
    assert "does not say which version" in response.content.decode()
    assert Contact.objects.get().stage == "lead"


def test_without_htmx_it_goes_back_to_the_list_with_a_message(staff_client):
    contact = ContactFactory(first_name="Ann", last_name="Archer", stage="lead")
    response = staff_client.post(
        _url(contact),
        {"version": _version(contact), "stage": "customer", "next": "/contacts/?stage=lead"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/contacts/?stage=lead"
    assert "Saved Ann Archer." in response.content.decode()
    assert Contact.objects.get().stage == "customer"


def test_it_never_sends_back_elsewhere(staff_client):
    contact = ContactFactory(stage="lead")
    response = staff_client.post(
        _url(contact),
        {"version": _version(contact), "stage": "customer", "next": "https://evil.example/"},
    )
    assert response.url == "/contacts/"
