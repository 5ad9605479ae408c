"""Every way a contact is written keeps its search text in step, so that "müller", "muller"
and "mueller" find it whichever way it came in (linkedin_crm.search)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contacts import services
from contacts.models import Contact, Network
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
SPELLINGS = ["müller", "muller", "mueller", "MÜLLER"]
HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"


def found_by_every_spelling(contact: Contact) -> bool:
    return all(list(Contact.objects.search(typed)) == [contact] for typed in SPELLINGS)


def test_an_import_fills_it_for_new_and_updated_contacts(staff_user):
    network = Network.objects.default_for(staff_user)
    data = HEADER + "Jürgen,Müller,https://www.linkedin.com/in/jm,,Nordlicht,CTO,05 Jan 2026\n"
    services.import_file(data=data.encode(), file_name="a.csv", user=staff_user, network=network)
    contact = Contact.objects.get()
    assert found_by_every_spelling(contact)

    renamed = data.replace("Müller", "Mueller-Łęcki")
    batch = services.import_file(
        data=renamed.encode(), file_name="b.csv", user=staff_user, network=network
    )
    assert batch.updated == 1
    assert found_by_every_spelling(contact)
    assert list(Contact.objects.search("lecki")) == [contact]


def test_an_edit_through_the_page_fills_it(staff_client):
    contact = ContactFactory(first_name="Ann", last_name="Lee", company="Acme", position="CTO")
    version = staff_client.get(f"/contacts/{contact.pk}/edit/").context["form"]["version"]
    response = staff_client.post(
        f"/contacts/{contact.pk}/edit/",
        {
            "first_name": "Søren",
            "last_name": "Müller",
            "profile_url": "",
            "email": "",
            "company": "Acme",
            "position": "CTO",
            "industry": "",
            "member_urn": "",
            "stage": "lead",
            "version": version.value(),
        },
    )
    assert response.status_code == 302
    assert found_by_every_spelling(contact)
    assert list(Contact.objects.search("soren")) == [contact]


def test_a_merge_fills_it_with_the_chosen_values(manager):
    keep = ContactFactory(first_name="Ann", last_name="Lee", email="")
    drop = ContactFactory(first_name="Ann", last_name="Müller", email="")
    services.contacts_merge(
        survivor=keep, merged=drop, values={"last_name": "Müller"}, user=manager
    )
    assert found_by_every_spelling(keep)


def test_the_admin_change_page_fills_it(admin_client):
    contact = ContactFactory(first_name="Ann", last_name="Lee", profile_url=None, email="")
    response = admin_client.post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {
            "first_name": "Łukasz",
            "last_name": "Mueller",
            "profile_url": "",
            "email": "",
            "member_urn": "",
            "company": "",
            "position": "",
            "industry": "",
            "stage": "lead",
            "dnc_reason": "",
            "connections-TOTAL_FORMS": "0",
            "connections-INITIAL_FORMS": "0",
            "notes-TOTAL_FORMS": "0",
            "notes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert found_by_every_spelling(contact)
    assert list(
        admin_client.get("/admin/contacts/contact/", {"q": "lukasz"}).context["cl"].result_list
    ) == [contact]


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_refills_contacts_stored_before_and_back():
    try:
        apps = migrate(("contacts", "0008_contact_aliases_plural"))
        OldContact = apps.get_model("contacts", "Contact")
        # As the previous code stored it: case-folded, accents kept.
        old = OldContact.objects.create(
            first_name="Jürgen", last_name="Müller", search_text="jürgen müller"
        )
        plain = OldContact.objects.create(first_name="Ann", last_name="Lee", search_text="ann lee")

        migrate(("contacts", "0009_search_text_without_accents"))
        contact = Contact.objects.get(pk=old.pk)
        assert found_by_every_spelling(contact)
        assert Contact.objects.get(pk=plain.pk).search_text == "ann lee"

        migrate(("contacts", "0008_contact_aliases_plural"))
        assert OldContact.objects.get(pk=old.pk).search_text == "jürgen müller"
    finally:
        migrate(("contacts", "0009_search_text_without_accents"))


def test_a_word_of_accents_alone_narrows_nothing():
    contact = ContactFactory(first_name="Jürgen", last_name="Müller")
    # Pinned: a random company may be named after a Mueller.
    ContactFactory(first_name="Ann", last_name="Lee", company="Acme", position="CTO")
    assert list(Contact.objects.search("\u0301 mueller")) == [contact]
    assert Contact.objects.search("\u0301").count() == 2
