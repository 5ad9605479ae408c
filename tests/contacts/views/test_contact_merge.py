import pytest

from contacts.models import Contact
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_merge_page_merges_with_chosen_values(pair, manager_client):
    keep, drop = pair
    url = f"/contacts/merge/?ids={keep.pk}&ids={drop.pk}"
    page = manager_client.get(url).content.decode()
    assert "Merge two contacts" in page and "ann@acme.example" in page
    response = manager_client.post(
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
def test_the_merge_page_needs_two_contacts(manager_client, pair, data):
    response = manager_client.post("/contacts/merge/", data, follow=True)
    assert "Choose two different contacts to merge." in response.content.decode()
    assert Contact.objects.count() == 2


def test_the_merge_page_refuses_a_foreign_survivor(manager_client, pair):
    keep, drop = pair
    other = ContactFactory()
    response = manager_client.post(
        "/contacts/merge/", {"ids": [keep.pk, drop.pk], "survivor": other.pk}
    )
    assert response.status_code == 200 and b"Choose which contact to keep" in response.content
    assert Contact.objects.count() == 3


def test_the_merge_message_counts_what_moved_in_words(pair, manager_client):
    """Issue #13: "moved 1 notes", and "moved nothing" when nothing moved."""
    keep, drop = pair
    data = {
        "ids": [keep.pk, drop.pk],
        "survivor": keep.pk,
        "value_email": drop.pk,
        "value_position": keep.pk,
        "value_profile_url": drop.pk,
    }
    response = manager_client.post("/contacts/merge/", data, follow=True)
    page = response.content.decode()
    assert f"Merged into {keep}; moved 1 connection, 1 note." in page

    bare = ContactFactory(first_name="Ann", last_name="Lee", company="Acme")
    data = {**data, "ids": [keep.pk, bare.pk], "value_email": keep.pk, "value_profile_url": keep.pk}
    page = manager_client.post("/contacts/merge/", data, follow=True).content.decode()
    assert f"Merged into {keep}.<" in page and "moved nothing" not in page
