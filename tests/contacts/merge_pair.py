"""The two records of one person that the merge tests merge (the service's in test_merge.py, the
pages' in views/test_contact_merge.py and views/test_contact_duplicates.py)."""

import datetime

from contacts.models import Contact
from tests.contacts.factories import (
    ConnectionFactory,
    ContactFactory,
    NetworkFactory,
    NoteFactory,
    TagFactory,
)


def ann_lee_twice() -> tuple[Contact, Contact]:
    """Ann Lee of Acme, kept with her position and the later connection to a shared network;
    dropped with her e-mail, an old profile URL, the earlier connection to that network, one to
    a network of its own, a note and a tag."""
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
