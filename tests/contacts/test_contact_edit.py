import pytest
from django.contrib.admin.models import LogEntry
from django.core import signing
from django.test import Client
from django.utils import timezone

from contacts import services
from contacts.forms import LoadedVersion
from contacts.models import Contact
from tests.contacts.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "first_name": "Ann",
        "last_name": "Lee",
        "profile_url": "",
        "email": "",
        "company": "Acme",
        "position": "CTO",
        "industry": "",
        "member_urn": "",
        "stage": "lead",
    }
    return {**data, **overrides}


def loaded_version(client, contact) -> str:
    """The version the edit page hands out, as a browser would carry it back."""
    return client.get(f"/contacts/{contact.pk}/edit/").context["form"]["version"].value()


def edit(client, contact, version=None, **overrides):
    version = loaded_version(client, contact) if version is None else version
    return client.post(f"/contacts/{contact.pk}/edit/", form_data(version=version, **overrides))


def ann(**fields) -> Contact:
    """A contact whose values are form_data()'s, so a form changes only what a test says."""
    return ContactFactory(
        **{
            "first_name": "Ann",
            "last_name": "Lee",
            "profile_url": None,
            "company": "Acme",
            "position": "CTO",
            **fields,
        }
    )


@pytest.fixture
def bob_client(other_staff_user):
    client = Client()
    client.force_login(other_staff_user)
    return client


def test_it_requires_staff(anon_client, non_staff_client):
    contact = ContactFactory()
    assert anon_client.get(f"/contacts/{contact.pk}/edit/").status_code == 302
    assert non_staff_client.post(f"/contacts/{contact.pk}/edit/", form_data()).status_code == 403
    assert non_staff_client.post("/contacts/new/", form_data()).status_code == 403
    assert Contact.objects.count() == 1


def test_it_creates_a_contact_with_a_canonical_url_and_lowercase_email(staff_client):
    tag = TagFactory(name="VIP")
    response = staff_client.post(
        "/contacts/new/",
        form_data(
            profile_url="http://uk.linkedin.com/in/Ann-Lee/?trk=x",
            email=" Ann@Example.COM ",
            tags=[tag.pk],
        ),
    )
    contact = Contact.objects.get()
    assert response["Location"] == f"/contacts/{contact.pk}/"
    assert contact.profile_url == "https://www.linkedin.com/in/ann-lee"
    assert contact.email == "ann@example.com"
    assert list(contact.tags.all()) == [tag]


def test_it_edits_and_keeps_search_in_step(staff_client):
    contact = ContactFactory(first_name="Old")
    response = edit(staff_client, contact, first_name="Jürgen")
    assert response.status_code == 302
    assert list(Contact.objects.search("JÜRGEN")) == [contact]


def test_it_refuses_a_duplicate_profile_url_with_a_link_to_the_existing_contact(staff_client):
    existing = ContactFactory(profile_url="https://www.linkedin.com/in/ann-lee")
    other = ContactFactory(first_name="Other")
    response = edit(staff_client, other, profile_url="https://de.linkedin.com/in/ANN-LEE/")
    assert response.status_code == 200
    assert f'href="/contacts/{existing.pk}/"' in response.content.decode()
    other.refresh_from_db()
    assert other.first_name == "Other"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"profile_url": "https://example.com/in/ann"}, "Enter a LinkedIn profile URL"),
        ({"email": "urn:li:member:123"}, "Enter a valid email address"),
        ({"member_urn": "123"}, "urn:li:person:"),
        ({"stage": "wizard"}, "Select a valid choice"),
        ({"first_name": "", "last_name": "", "profile_url": "", "email": ""}, "at least a name"),
        ({"first_name": "x" * 201}, "at most 200 characters"),
    ],
)
def test_it_shows_errors_for_bad_input_and_saves_nothing(staff_client, overrides, message):
    response = staff_client.post("/contacts/new/", form_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Contact.objects.exists()


def test_it_keeps_a_url_less_contact_url_less(staff_client):
    staff_client.post("/contacts/new/", form_data())
    staff_client.post("/contacts/new/", form_data(first_name="Bo"))
    assert list(Contact.objects.values_list("profile_url", flat=True)) == [None, None]


def test_an_empty_post_shows_errors(staff_client):
    response = staff_client.post("/contacts/new/", {})
    assert response.status_code == 200
    assert "Give at least a name" in response.content.decode()
    assert not Contact.objects.exists()


def test_it_saves_a_fresh_form_with_its_tags_and_records_who(staff_client, staff_user):
    vip = TagFactory(name="VIP")
    contact = ann()
    response = edit(staff_client, contact, company="Globex", tags=[vip.pk])
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.company == "Globex"
    assert list(contact.tags.all()) == [vip]
    entry = LogEntry.objects.get(object_id=str(contact.pk))
    assert entry.user == staff_user
    assert entry.get_change_message() == "Changed Company and Tags."


def test_it_refuses_a_stale_form_without_reverting_the_newer_change(staff_client, bob_client):
    contact = ann()
    alices_version = loaded_version(staff_client, contact)
    assert edit(bob_client, contact, company="Globex").status_code == 302

    response = edit(staff_client, contact, alices_version, position="Chief Typist")

    assert response.status_code == 409
    page = response.content.decode()
    assert "Nothing was saved: this contact was changed by Bob at" in page
    assert "company (now “Globex”)" in page
    assert "position" not in page.split("Nothing was saved")[1].split("</ul>")[0]
    assert 'value="Chief Typist"' in page  # what Alice typed is kept
    contact.refresh_from_db()
    assert (contact.company, contact.position) == ("Globex", "CTO")


def test_it_saves_the_reshown_form_once_its_user_has_seen_the_conflict(staff_client, bob_client):
    contact = ann()
    alices_version = loaded_version(staff_client, contact)
    edit(bob_client, contact, company="Globex")
    conflict = edit(staff_client, contact, alices_version, company="Initech")
    reshown = conflict.context["form"]["version"].value()
    assert reshown != alices_version

    assert edit(staff_client, contact, reshown, company="Initech").status_code == 302
    contact.refresh_from_db()
    assert contact.company == "Initech"


def test_it_says_someone_else_and_when_for_a_change_with_no_record_of_who(staff_client):
    vip = TagFactory(name="VIP")
    contact = ann()
    version = loaded_version(staff_client, contact)
    services.contacts_set_stage(contacts=Contact.objects.all(), stage="meeting")
    services.contacts_add_tag(contacts=Contact.objects.all(), tag=vip)
    contact.mark_do_not_contact("Asked us to stop")

    response = edit(staff_client, contact, version, company="Initech", tags=[])

    assert response.status_code == 409
    contact.refresh_from_db()
    changed_at = timezone.localtime(contact.updated_at)
    page = response.content.decode()
    assert f"changed by someone else at {changed_at:%H:%M} while you were editing" in page
    assert "stage (now “Meeting”)" in page
    assert "tags (now “VIP”)" in page
    assert "do not contact (now “yes”)" in page
    assert (contact.company, list(contact.tags.all())) == ("Acme", [vip])


def test_it_refuses_a_form_from_before_an_import_that_tagged_the_contact(staff_client):
    contact = ann()
    version = loaded_version(staff_client, contact)
    services.contacts_add_tag(contacts=Contact.objects.all(), tag=TagFactory(name="Conf"))
    response = edit(staff_client, contact, version)  # the form's tag list is empty
    assert response.status_code == 409
    assert contact.tags.count() == 1


def test_it_tells_the_editor_when_the_other_change_was_their_own(staff_client):
    contact = ann()
    first_tab = loaded_version(staff_client, contact)
    edit(staff_client, contact, company="Globex")
    response = edit(staff_client, contact, first_tab, company="Initech")
    assert response.status_code == 409
    assert "changed by you, in another window, at" in response.content.decode()


def test_only_one_of_two_saves_from_the_same_version_goes_through(staff_user):
    contact = ann()
    loaded = contact.updated_at
    first, second = Contact.objects.get(pk=contact.pk), Contact.objects.get(pk=contact.pk)
    first.company, second.position = "Globex", "CEO"
    services.contact_update(contact=first, fields=["company"], tags=[], version=loaded)
    with pytest.raises(services.ContactChanged):
        services.contact_update(contact=second, fields=["position"], tags=[], version=loaded)
    contact.refresh_from_db()
    assert (contact.company, contact.position) == ("Globex", first.position)


@pytest.mark.parametrize("version", ["", "garbage", "a:b:c", "tampered"])
def test_it_refuses_a_form_with_a_bad_version_clearly(staff_client, version):
    contact = ann()
    if version == "tampered":
        token = LoadedVersion.of(contact).token()
        version = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    response = edit(staff_client, contact, version, company="Initech")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved: this form does not say which version" in page
    assert "Your values differ from the saved contact in: company." in page
    assert 'value="Initech"' in page
    contact.refresh_from_db()
    assert contact.company == "Acme"
    # The form shown carries the current version: saving it again goes through.
    again = edit(staff_client, contact, response.context["form"]["version"].value(), company="X")
    assert again.status_code == 302


def test_it_refuses_a_version_token_signed_for_something_else(staff_client):
    contact = ann()
    forged = signing.dumps({"updated_at": "2020-01-01T00:00:00+00:00", "values": {}})
    assert edit(staff_client, contact, forged).status_code == 400


def test_it_says_so_when_the_contact_is_deleted_while_saving(staff_client, manager, monkeypatch):
    contact = ann()
    version = loaded_version(staff_client, contact)
    real_update = services.contact_update

    def deleted_first(**kwargs):
        services.contacts_delete(contacts=Contact.objects.filter(pk=contact.pk), actor=manager)
        return real_update(**kwargs)

    monkeypatch.setattr(services, "contact_update", deleted_first)
    response = edit(staff_client, contact, version)
    assert response.status_code == 302 and response["Location"] == "/contacts/"
    assert "Someone deleted this contact" in staff_client.get("/contacts/").content.decode()
    assert not Contact.objects.exists()


def test_a_stage_changed_on_the_form_is_recorded_with_who_changed_it(staff_client, staff_user):
    from linkedin_crm.models import AuditEvent

    contact = ann()
    edit(staff_client, contact, position="VP")
    assert not AuditEvent.objects.exists()  # the stage did not change
    edit(staff_client, contact, stage="meeting")
    event = AuditEvent.objects.get()
    assert (event.action, event.object_id, event.actor) == (
        "stage_change",
        str(contact.pk),
        staff_user,
    )
    assert event.detail == {"from": "lead", "to": "meeting"}
