import pytest

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
    staff_client.post(f"/contacts/{contact.pk}/edit/", form_data(first_name="Jürgen"))
    assert list(Contact.objects.search("JÜRGEN")) == [contact]


def test_it_refuses_a_duplicate_profile_url_with_a_link_to_the_existing_contact(staff_client):
    existing = ContactFactory(profile_url="https://www.linkedin.com/in/ann-lee")
    other = ContactFactory(first_name="Other")
    response = staff_client.post(
        f"/contacts/{other.pk}/edit/",
        form_data(profile_url="https://de.linkedin.com/in/ANN-LEE/"),
    )
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
