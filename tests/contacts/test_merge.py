"""Merging two contacts below the pages (views/test_contact_merge.py and
views/test_contact_duplicates.py test those): what moves, what is kept, and the merged record's
identifiers on later imports."""

import datetime

import pytest

from contacts import services
from contacts.models import Connection, Contact, ContactAlias, MergeLog, Network, Note

pytestmark = pytest.mark.django_db

HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"


def test_it_moves_everything_and_keeps_the_earliest_connection(pair, manager):
    keep, drop = pair
    log = services.contacts_merge(
        survivor=keep, merged=drop, values={"email": "ann@acme.example"}, user=manager
    )
    assert not Contact.objects.filter(pk=drop.pk).exists()
    keep.refresh_from_db()
    assert keep.email == "ann@acme.example" and keep.position == "CTO"
    assert Note.objects.get().contact == keep
    assert list(keep.tags.values_list("name", flat=True)) == ["Alumni"]
    dates = sorted(keep.connections.values_list("connected_on", flat=True))
    assert dates == [datetime.date(2015, 5, 5), datetime.date(2020, 2, 2)]
    assert Connection.objects.count() == 2
    assert log.moved == {"connections": 1, "notes": 1} and log.merged_by == manager
    assert MergeLog.objects.get().merged_snapshot["email"] == "ann@acme.example"


def test_merged_identifiers_resolve_to_the_survivor_on_later_imports(pair, manager):
    keep, drop = pair
    services.contacts_merge(survivor=keep, merged=drop, values={}, user=manager)
    assert ContactAlias.objects.filter(contact=keep).count() == 2
    batch = services.import_file(
        data=(
            HEADER + "Ann,Lee,https://www.linkedin.com/in/ann-lee-old,,Acme,CTO,01 Jan 2015"
        ).encode(),
        file_name="x.csv",
        user=manager,
        network=Network.objects.default_for(manager),
    )
    assert batch.created == 0
    assert Contact.objects.count() == 1


def test_a_contact_cannot_be_merged_into_itself(pair, manager):
    keep, _ = pair
    with pytest.raises(ValueError, match="into itself"):
        services.contacts_merge(survivor=keep, merged=keep, values={}, user=manager)
