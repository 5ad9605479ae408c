"""messaging.bulk.messages_insert: the one fast way to queue many messages (bulk sends and
campaign steps), on SQLite and PostgreSQL alike."""

import datetime
import uuid

import pytest
from django.utils import timezone

from linkedin_crm.db import WRITE_BATCH
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
    ids = bulk.messages_insert(
        rows,
        account_id=account.pk,
        stream="campaign:7",
        held=True,
        scheduled_for=AT,
        next_attempt_at=AT,
        created_by_id=user.pk,
        created_at=AT,
    )
    for pk, contact in zip(ids, contacts, strict=True):
        stored = Message.objects.get(pk=pk)
        assert (stored.contact, stored.account, stored.created_by) == (contact, account, user)
        assert stored.body == f"Hi {contact.first_name}" and stored.channel == "api"
        assert (stored.stream, stored.held, stored.status) == ("campaign:7", True, "queued")
        assert stored.scheduled_for == stored.next_attempt_at == stored.created_at == AT
        assert (stored.attempts, stored.claim_token, stored.last_error) == (0, "", "")
        assert stored.claimed_at is stored.sent_at is stored.released_at is None
        assert stored.updated_at >= before
    keys = list(Message.objects.filter(pk__in=ids).values_list("idempotency_key", flat=True))
    assert len(set(keys)) == 3 and all(isinstance(key, uuid.UUID) for key in keys)


def test_inserted_messages_are_like_any_other(django_assert_num_queries):
    """What the ORM would have written: a message loads, and saves, as one it created."""
    account = LinkedInAccountFactory()
    contacts = ContactFactory.create_batch(2)
    ids = bulk.messages_insert(
        [{"contact_id": c.pk, "body": "Hello", "channel": "manual"} for c in contacts],
        account_id=account.pk,
    )
    made = Message.objects.create(contact=contacts[0], account=account, body="Hello")
    for pk in ids:
        stored = Message.objects.get(pk=pk)
        for name in ("status", "held", "stream", "attempts", "claim_token", "last_error"):
            assert getattr(stored, name) == getattr(made, name), name
        stored.body = "Changed"
        stored.save()
    assert set(Message.objects.filter(pk__in=ids).values_list("body", flat=True)) == {"Changed"}


def test_a_message_starts_queued():
    account = LinkedInAccountFactory()
    with pytest.raises(TypeError, match="queued messages only"):
        bulk.messages_insert(
            [{"contact_id": ContactFactory().pk, "body": "Hi"}],
            account_id=account.pk,
            status=Message.Status.SENT,
        )
    assert not Message.objects.exists()


def test_it_keeps_the_rows_order_over_many_statements():
    account = LinkedInAccountFactory()
    contact = ContactFactory()
    count = 2 * WRITE_BATCH + 7
    rows = [{"contact_id": contact.pk, "body": f"message {n}"} for n in range(count)]
    ids = bulk.messages_insert(rows, account_id=account.pk)
    stored = dict(Message.objects.values_list("pk", "body"))
    assert [stored[pk] for pk in ids] == [f"message {n}" for n in range(count)]


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
