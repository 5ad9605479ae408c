import datetime

import pytest

from contacts import services
from contacts.models import Connection, Contact, ContactAlias, MergeLog, Network, Note
from tests.contacts.factories import (
    ConnectionFactory,
    ContactFactory,
    NetworkFactory,
    NoteFactory,
    TagFactory,
    with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_user(staff_user):
    """Merging needs the Manager role (test_contact_permissions.py has the Member's refusals)."""
    return with_role(staff_user, "Manager")


HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"


@pytest.fixture
def pair():
    shared = NetworkFactory()
    keep = ContactFactory(
        first_name="Ann", last_name="Lee", company="Acme", email="", position="CTO"
    )
    drop = ContactFactory(
        first_name="Ann",
        last_name="Lee",
        company="Acme",
        email="ann@acme.example",
        position="",
        profile_url="https://www.linkedin.com/in/ann-lee-old",
    )
    ConnectionFactory(contact=keep, network=shared, connected_on=datetime.date(2022, 1, 1))
    ConnectionFactory(contact=drop, network=shared, connected_on=datetime.date(2015, 5, 5))
    ConnectionFactory(contact=drop, connected_on=datetime.date(2020, 2, 2))
    NoteFactory(contact=drop, body="From the old record")
    drop.tags.add(TagFactory(name="Alumni"))
    return keep, drop


def test_it_moves_everything_and_keeps_the_earliest_connection(pair, staff_user):
    keep, drop = pair
    log = services.contacts_merge(
        survivor=keep, merged=drop, values={"email": "ann@acme.example"}, user=staff_user
    )
    assert not Contact.objects.filter(pk=drop.pk).exists()
    keep.refresh_from_db()
    assert keep.email == "ann@acme.example" and keep.position == "CTO"
    assert Note.objects.get().contact == keep
    assert list(keep.tags.values_list("name", flat=True)) == ["Alumni"]
    dates = sorted(keep.connections.values_list("connected_on", flat=True))
    assert dates == [datetime.date(2015, 5, 5), datetime.date(2020, 2, 2)]
    assert Connection.objects.count() == 2
    assert log.moved == {"connections": 1, "notes": 1} and log.merged_by == staff_user
    assert MergeLog.objects.get().merged_snapshot["email"] == "ann@acme.example"


def test_merged_identifiers_resolve_to_the_survivor_on_later_imports(pair, staff_user):
    keep, drop = pair
    services.contacts_merge(survivor=keep, merged=drop, values={}, user=staff_user)
    assert ContactAlias.objects.filter(contact=keep).count() == 2
    batch = services.import_file(
        data=(
            HEADER + "Ann,Lee,https://www.linkedin.com/in/ann-lee-old,,Acme,CTO,01 Jan 2015"
        ).encode(),
        file_name="x.csv",
        user=staff_user,
        network=Network.objects.default_for(staff_user),
    )
    assert batch.created == 0
    assert Contact.objects.count() == 1


def test_the_merge_page_merges_with_chosen_values(pair, staff_client):
    keep, drop = pair
    url = f"/contacts/merge/?ids={keep.pk}&ids={drop.pk}"
    page = staff_client.get(url).content.decode()
    assert "Merge two contacts" in page and "ann@acme.example" in page
    response = staff_client.post(
        "/contacts/merge/",
        {
            "ids": [keep.pk, drop.pk],
            "survivor": drop.pk,
            "value_email": drop.pk,
            "value_position": keep.pk,
            "value_profile_url": drop.pk,
        },
    )
    assert response["Location"] == f"/contacts/{drop.pk}/"
    survivor = Contact.objects.get()
    assert survivor.pk == drop.pk and survivor.position == "CTO"
    assert survivor.profile_url == "https://www.linkedin.com/in/ann-lee-old"


@pytest.mark.parametrize(
    "data",
    [
        {"ids": ["1"]},
        {"ids": ["abc", "def"]},
        {},
    ],
)
def test_the_merge_page_needs_two_contacts(staff_client, pair, data):
    response = staff_client.post("/contacts/merge/", data, follow=True)
    assert "Choose two different contacts to merge." in response.content.decode()
    assert Contact.objects.count() == 2


def test_the_merge_page_refuses_a_foreign_survivor(staff_client, pair):
    keep, drop = pair
    other = ContactFactory()
    response = staff_client.post(
        "/contacts/merge/", {"ids": [keep.pk, drop.pk], "survivor": other.pk}
    )
    assert response.status_code == 200 and b"Choose which contact to keep" in response.content
    assert Contact.objects.count() == 3


def test_a_contact_cannot_be_merged_into_itself(pair, staff_user):
    keep, _ = pair
    with pytest.raises(ValueError, match="into itself"):
        services.contacts_merge(survivor=keep, merged=keep, values={}, user=staff_user)


def test_the_duplicates_page_groups_same_name_and_company_and_same_email(staff_client, pair):
    ContactFactory(first_name="X", email="dup@example.org")
    ContactFactory(first_name="Y", email="dup@example.org")
    ContactFactory(first_name="Lonely")
    response = staff_client.get("/contacts/duplicates/")
    assert response.context["total"] == 2
    content = response.content.decode()
    assert "Lonely" not in content and "dup@example.org" in content


def test_the_merge_message_counts_what_moved_in_words(pair, staff_client):
    """Issue #13: "moved 1 notes", and "moved nothing" when nothing moved."""
    keep, drop = pair
    data = {
        "ids": [keep.pk, drop.pk],
        "survivor": keep.pk,
        "value_email": drop.pk,
        "value_position": keep.pk,
        "value_profile_url": drop.pk,
    }
    response = staff_client.post("/contacts/merge/", data, follow=True)
    page = response.content.decode()
    assert f"Merged into {keep}; moved 1 connection, 1 note." in page

    bare = ContactFactory(first_name="Ann", last_name="Lee", company="Acme")
    data = {**data, "ids": [keep.pk, bare.pk], "value_email": keep.pk, "value_profile_url": keep.pk}
    page = staff_client.post("/contacts/merge/", data, follow=True).content.decode()
    assert f"Merged into {keep}.<" in page and "moved nothing" not in page
