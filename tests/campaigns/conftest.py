"""What the campaign view, admin and command tests share: a sender, a three-person campaign
with two variants, and a conversation that tests/fixtures/linkedin_messages/current.csv answers."""

import datetime

import pytest

from tests.campaigns.factories import AudienceFactory, CampaignFactory, add_step
from tests.contacts.factories import ConnectionFactory, ContactFactory, TagFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory


@pytest.fixture
def account(staff_user):
    return LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")


@pytest.fixture
def campaign(staff_user, account):
    tag = TagFactory(name="Target")
    for name in ("Ann", "Ben", "Cat"):
        contact = ContactFactory(first_name=name, tags=[tag])
        ConnectionFactory(contact=contact, network=account.network)
    audience = AudienceFactory(owner=staff_user, query=f"tags={tag.pk}")
    campaign = CampaignFactory(owner=staff_user, audience=audience, senders=[account])
    add_step(campaign, 1, {"A": "Hi {{ first_name }}", "B": "Hello {{ first_name }}"})
    return campaign


@pytest.fixture
def conversation(staff_user):
    # The export is Alice Archer's (tests/fixtures/linkedin_messages/current.csv).
    account = LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")
    zoe = ContactFactory(
        first_name="Zoë", last_name="Müller", profile_url="https://www.linkedin.com/in/zoe-mueller"
    )
    bart = ContactFactory(
        first_name="Bartholomew", profile_url="https://www.linkedin.com/in/bartholomew-quince"
    )
    MessageFactory(
        account=account,
        contact=zoe,
        status="sent",
        sent_at=datetime.datetime(2025, 11, 18, 16, 5, tzinfo=datetime.UTC),
    )
    waiting = MessageFactory(
        account=account,
        contact=bart,
        status="released",
        released_at=datetime.datetime(2025, 11, 13, tzinfo=datetime.UTC),
    )
    return {"zoe": zoe, "bart": bart, "waiting": waiting}


@pytest.fixture
def colleagues_waiting_message(conversation):
    """Bartholomew also waits in a colleague's Outbox, a message Alice's export knows nothing
    of."""
    colleague = LinkedInAccountFactory(display_name="Colin Colleague")
    return MessageFactory(
        account=colleague,
        contact=conversation["bart"],
        status="released",
        released_at=datetime.datetime(2025, 11, 12, tzinfo=datetime.UTC),
    )
