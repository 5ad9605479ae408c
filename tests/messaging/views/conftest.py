"""What the message and LinkedIn account view tests share: a sender, a contact connected with
it, a small audience with the usual gaps, and a message waiting in the Outbox."""

import datetime

import pytest

from tests.contacts.factories import ConnectionFactory, ContactFactory
from tests.messaging.factories import MessageFactory


@pytest.fixture
def account(account):
    """The staff member's account of tests/messaging/conftest.py (with both tokens, which the
    account pages' disconnect test checks), under its owner's name and with no pause between
    sends."""
    account.display_name = "Alice Archer"
    account.min_interval_seconds = 0
    account.save(update_fields=["display_name", "min_interval_seconds"])
    return account


@pytest.fixture
def contact(account):
    contact = ContactFactory(first_name="Zoë", last_name="Müller", company="Nordlicht GmbH")
    ConnectionFactory(
        contact=contact, network=account.network, connected_on=datetime.date(2024, 3, 1)
    )
    return contact


@pytest.fixture
def audience(account):
    people = [
        ContactFactory(first_name="Ann", company="Acme"),
        ContactFactory(first_name="Ben", company=""),
        ContactFactory(first_name="Cat", company="Acme", do_not_contact=True),
        ContactFactory(first_name="Dan", company="Acme", profile_url=None, member_urn=""),
    ]
    for person in people:
        ConnectionFactory(contact=person, network=account.network)
    return people


@pytest.fixture
def released(account, contact):
    return MessageFactory(
        account=account, contact=contact, status="released", body="Hi Zoë, the prepared text"
    )
