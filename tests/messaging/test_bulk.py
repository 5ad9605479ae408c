"""messaging.bulk.messages_insert: the one fast way to queue many messages (bulk sends and
campaign steps), on SQLite and PostgreSQL alike."""

import datetime
import uuid

import pytest
from django.utils import timezone

from messaging import bulk
from messaging.models import Message
from tests.contacts.factories import ContactFactory, UserFactory
from tests.messaging.factories import LinkedInAccountFactory

pytestmark = pytest.mark.django_db
AT = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)


def test_it_stores_per_row_and_shared_values_and_defaults_for_the_rest():
    account = LinkedInAccountFactory()
    user = UserFactory()
    contacts = ContactFactory.create_batch(3)
    rows = [
        {"contact_id": c.pk, "body": f"Hi {c.first_name}", "channel": Message.Channel.API}
        for c in contacts
    ]
    before = timezone.now()
    messages = bulk.messages_insert(
        rows,
        account_id=account.pk,
        stream="campaign:7",
        held=True,
        scheduled_for=AT,
        next_attempt_at=AT,
        created_by_id=user.pk,
        created_at=AT,
    )
    assert [m.contact_id for m in messages] == [c.pk for c in contacts]
    for message, contact in zip(messages, contacts, strict=True):
        stored = Message.objects.get(pk=message.pk)
        assert (stored.contact, stored.account, stored.created_by) == (contact, account, user)
        assert stored.body == f"Hi {contact.first_name}" and stored.channel == "api"
        assert (stored.stream, stored.held, stored.status) == ("campaign:7", True, "queued")
        assert stored.scheduled_for == stored.next_attempt_at == stored.created_at == AT
        assert (stored.attempts, stored.claim_token, stored.last_error) == (0, "", "")
        assert stored.claimed_at is stored.sent_at is stored.released_at is None
        assert stored.updated_at >= before
    keys = [m.idempotency_key for m in messages]
    assert len(set(keys)) == 3 and all(isinstance(key, uuid.UUID) for key in keys)


def test_the_returned_messages_are_what_the_database_holds():
    account = LinkedInAccountFactory()
    contacts = ContactFactory.create_batch(2)
    messages = bulk.messages_insert(
        [{"contact_id": c.pk, "body": "Hello", "channel": "manual"} for c in contacts],
        account_id=account.pk,
    )
    for message in messages:
        stored = Message.objects.get(pk=message.pk)
        for f in Message._meta.concrete_fields:
            assert getattr(message, f.attname) == getattr(stored, f.attname), f.name
        # A saved message like any other: its relations load, save() updates it.
        assert message.contact.pk == message.contact_id
        assert message.get_absolute_url() == stored.get_absolute_url()
        message.body = "Changed"
        message.save()
    assert Message.objects.count() == 2
    assert set(Message.objects.values_list("body", flat=True)) == {"Changed"}


def test_it_keeps_the_rows_order_over_many_statements():
    account = LinkedInAccountFactory()
    contact = ContactFactory()
    count = 2 * bulk.ROWS_PER_STATEMENT + 7
    rows = [{"contact_id": contact.pk, "body": f"message {n}"} for n in range(count)]
    messages = bulk.messages_insert(rows, account_id=account.pk)
    assert [m.body for m in messages] == [f"message {n}" for n in range(count)]
    stored = dict(Message.objects.values_list("pk", "body"))
    assert {m.pk: m.body for m in messages} == stored


def test_it_inserts_nothing_for_no_rows(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk.messages_insert([], account_id=1) == []


@pytest.mark.parametrize(
    ("rows", "shared", "problem"),
    [
        ([{"contact_id": 1, "colour": "red"}], {}, "unknown fields: colour"),
        ([{"contact_id": 1}], {"contact_id": 2}, "both per row and shared"),
        ([{"contact_id": 1, "idempotency_key": uuid.uuid4()}], {}, "idempotency keys itself"),
    ],
)
def test_it_refuses_fields_it_cannot_use(rows, shared, problem):
    with pytest.raises(TypeError, match=problem):
        bulk.messages_insert(rows, **shared)
    assert not Message.objects.exists()
