import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from contacts.models import Contact, Stage, Tag
from tests.contacts.factories import ContactFactory, NoteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_changelist_searches_unicode_and_shows_contacts(admin_client):
    ContactFactory(first_name="Zoë", last_name="MÜLLER")
    ContactFactory(first_name="Ann", last_name="Smith")
    response = admin_client.get("/admin/contacts/contact/", {"q": "müller"})
    assert response.status_code == 200
    assert "Zoë MÜLLER" in response.content.decode()
    assert "Ann Smith" not in response.content.decode()


def test_the_change_page_shows_notes_inline(admin_client):
    note = NoteFactory(body="Inline note body")
    response = admin_client.get(f"/admin/contacts/contact/{note.contact.pk}/change/")
    assert "Inline note body" in response.content.decode()


def test_the_add_tag_action_asks_for_the_tag_then_applies_it(admin_client):
    people = ContactFactory.create_batch(2)
    data = {"action": "add_tag", ACTION_CHECKBOX_NAME: [p.pk for p in people]}
    response = admin_client.post("/admin/contacts/contact/", data)
    assert response.status_code == 200 and b"This applies to 2 contacts" in response.content
    assert not Tag.objects.exists()
    response = admin_client.post("/admin/contacts/contact/", {**data, "apply": "1", "tag": "VIP"})
    assert response.status_code == 302
    assert Tag.objects.get().contacts.count() == 2


def test_the_add_tag_action_rejects_an_empty_tag(admin_client):
    person = ContactFactory()
    data = {"action": "add_tag", ACTION_CHECKBOX_NAME: [person.pk], "apply": "1", "tag": ""}
    response = admin_client.post("/admin/contacts/contact/", data)
    assert response.status_code == 200 and b"This field is required" in response.content
    assert not Tag.objects.exists()


def test_the_set_stage_and_do_not_contact_actions(admin_client):
    person = ContactFactory()
    base = {ACTION_CHECKBOX_NAME: [person.pk], "apply": "1"}
    admin_client.post(
        "/admin/contacts/contact/", {**base, "action": "set_stage", "stage": "customer"}
    )
    admin_client.post(
        "/admin/contacts/contact/", {**base, "action": "mark_do_not_contact", "reason": "GDPR"}
    )
    person.refresh_from_db()
    assert person.stage == Stage.CUSTOMER and person.do_not_contact and person.dnc_reason == "GDPR"


def test_the_tag_admin_counts_contacts(admin_client):
    ContactFactory(tags=[Tag.objects.create(name="VIP")])
    response = admin_client.get("/admin/contacts/tag/")
    assert response.status_code == 200 and "VIP" in response.content.decode()
    assert Contact.objects.count() == 1


def test_the_admin_imports_a_linkedin_export_as_an_undoable_batch(admin_client):
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from contacts.models import ImportBatch

    data = (Path(__file__).resolve().parents[1] / "fixtures/linkedin/current.csv").read_bytes()
    page = admin_client.get("/admin/contacts/contact/import/")
    assert "LinkedIn Connections CSV" in page.content.decode()
    response = admin_client.post(
        "/admin/contacts/contact/import/",
        {
            "import_file": SimpleUploadedFile("Connections.csv", data),
            "format": "0",
            "resource": "0",
        },
    )
    assert response.status_code == 200
    assert not Contact.objects.exists()  # the confirmation step changes nothing
    preview = response.content.decode()
    assert "Ollerenshaw" in preview and "Sales Director, DACH" in preview
    form = response.context["confirm_form"]
    response = admin_client.post(
        "/admin/contacts/contact/process_import/",
        {**form.initial, "resource": "0"},
    )
    assert response.status_code == 302
    assert Contact.objects.count() == 6
    batch = ImportBatch.objects.get()
    assert (batch.file_name, batch.created, batch.status) == ("Connections.csv", 6, "done")
    assert batch.uploaded_by.is_superuser
    # Importing the same file again from the admin changes nothing and says so.
    response = admin_client.post(
        "/admin/contacts/contact/import/",
        {
            "import_file": SimpleUploadedFile("Connections.csv", data),
            "format": "0",
            "resource": "0",
        },
    )
    response = admin_client.post(
        "/admin/contacts/contact/process_import/",
        {**response.context["confirm_form"].initial, "resource": "0"},
        follow=True,
    )
    assert "Import finished: 0 new, 0 updated, 0 deleted and 6 skipped" in (
        response.content.decode()
    )
    assert Contact.objects.count() == 6 and ImportBatch.objects.count() == 2


def test_the_admin_refuses_a_binary_file_with_the_readers_reason(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(
        "/admin/contacts/contact/import/",
        {"import_file": SimpleUploadedFile("x.csv", b"%PDF-1.4 junk"), "format": "0"},
    )
    assert response.status_code == 200
    assert "This looks like a PDF document" in response.content.decode()
    assert not Contact.objects.exists()


def test_the_admin_export_needs_the_permission_and_is_logged(admin_client, client):
    from linkedin_crm.models import AuditEvent

    ContactFactory(first_name="Exported")
    form = admin_client.get("/admin/contacts/contact/export/").context["form"]
    fields = {name: "on" for name in form.fields if name.startswith("contactresource_")}
    response = admin_client.post(
        "/admin/contacts/contact/export/", {"format": "0", "resource": "0", **fields}
    )
    assert response.status_code == 200
    assert b"Exported" in response.content
    assert AuditEvent.objects.get(action="export").via == "admin"
    client.force_login(UserFactory(username="plainstaff", is_staff=True))
    assert client.get("/admin/contacts/contact/export/").status_code == 403


def test_the_admin_import_keeps_to_the_upload_limit(admin_client, settings):
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    data = (Path(__file__).resolve().parents[1] / "fixtures/linkedin/current.csv").read_bytes()
    settings.IMPORT_MAX_BYTES = len(data) - 1
    response = admin_client.post(
        "/admin/contacts/contact/import/",
        {"import_file": SimpleUploadedFile("Connections.csv", data), "format": "0"},
    )
    assert response.status_code == 200
    assert "MB limit." in response.content.decode()
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "changelist",
    [
        "/admin/contacts/contact/",
        "/admin/contacts/tag/",
        "/admin/contacts/network/",
        "/admin/contacts/note/",
        "/admin/messaging/linkedinaccount/",
        "/admin/messaging/message/",
        "/admin/messaging/messagetemplate/",
    ],
)
def test_the_admin_searches_the_first_10_words_of_a_long_search(admin_client, changelist):
    ContactFactory(first_name="Ann", last_name="Lee")
    response = admin_client.get(changelist, {"q": "ann " * 1500})
    assert response.status_code == 200
    assert "Search: searched for the first 10 words only." in response.content.decode()


def test_a_member_who_may_only_view_contacts_cannot_run_the_bulk_actions(staff_user):
    """A Member reads the shared contacts in the admin; changing them in bulk there is a
    Manager's (their stage and do-not-contact are set on the pages, one by one)."""
    from django.test import Client

    from tests.contacts.factories import give_role

    give_role(staff_user, "Member")
    contact = ContactFactory(stage="lead")
    client = Client()
    client.force_login(staff_user)
    page = client.get("/admin/contacts/contact/")
    assert page.status_code == 200
    actions = [name for name, _ in page.context["action_form"].fields["action"].choices]
    assert "set_stage" not in actions and "mark_do_not_contact" not in actions
    client.post(
        "/admin/contacts/contact/",
        {"action": "mark_do_not_contact", "_selected_action": [contact.pk]},
    )
    contact.refresh_from_db()
    assert not contact.do_not_contact


def test_stage_and_do_not_contact_changed_on_the_change_form_are_audited(admin_client):
    from linkedin_crm.models import AuditEvent

    contact = ContactFactory(first_name="Ann", last_name="Lee", email="")
    data = {
        "first_name": "Ann",
        "last_name": "Lee",
        "profile_url": contact.profile_url,
        "email": "",
        "member_urn": "",
        "company": contact.company,
        "position": contact.position,
        "industry": "",
        "stage": "meeting",
        "do_not_contact": "on",
        "dnc_reason": "Asked on the phone",
        **{
            f"{prefix}-{name}": 0
            for prefix in ("connections", "notes")
            for name in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }
    response = admin_client.post(f"/admin/contacts/contact/{contact.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    events = AuditEvent.objects.filter(object_id=str(contact.pk)).order_by("id")
    assert [(e.action, e.via, e.actor_name, e.detail) for e in events] == [
        ("stage_change", "admin", "root", {"from": "lead", "to": "meeting"}),
        ("do_not_contact", "admin", "root", {}),
    ]
    # Saved again unchanged: nothing more to record.
    admin_client.post(f"/admin/contacts/contact/{contact.pk}/change/", data)
    assert events.count() == 2


def test_the_admin_names_its_models_in_good_english(admin_client):
    """Issue #13: "Linked in accounts", "Replys"."""
    page = admin_client.get("/admin/").content.decode()
    assert "LinkedIn accounts" in page and "Linked in" not in page
    assert "Replies" in page and "Replys" not in page
