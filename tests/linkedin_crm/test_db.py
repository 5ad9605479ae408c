import datetime

import pytest
from django.db import DatabaseError, connection

from campaigns.models import Enrollment
from linkedin_crm.db import chunks, insert_rows, max_query_parameters
from messaging.models import MessageEvent
from tests.campaigns.factories import CampaignFactory
from tests.contacts.factories import ContactFactory
from tests.messaging.factories import MessageFactory


def test_it_cuts_a_sequence_into_slices_of_the_size():
    assert list(chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert list(chunks((1, 2, 3, 4), 2)) == [(1, 2), (3, 4)]


def test_it_yields_one_slice_when_everything_fits():
    assert list(chunks([1, 2, 3], 5000)) == [[1, 2, 3]]


def test_it_yields_nothing_for_nothing():
    assert list(chunks([], 3)) == []


def test_it_refuses_a_size_below_one():
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks([1, 2], 0))


def _select_with(count: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 WHERE 1 IN ({', '.join(['%s'] * count)})", [1] * count)
        return cursor.fetchone()


@pytest.mark.django_db
def test_a_statement_may_carry_as_many_parameters_as_it_says_and_no_more():
    limit = max_query_parameters()
    assert limit >= 999  # SQLite 3.32 and later: 32,766; PostgreSQL: 65,535
    assert _select_with(limit) == (1,)
    if connection.vendor == "sqlite":
        with pytest.raises(DatabaseError):
            _select_with(limit + 1)
    # On PostgreSQL, Django's psycopg binds parameters on the client (unless the database's
    # OPTIONS ask for server_side_binding), so one more goes through: 65,535 is the bound that
    # holds either way.


# --- insert_rows ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_insert_rows_can_skip_rows_a_unique_constraint_refuses():
    from contacts.models import Contact, Tag

    through = Contact.tags.through
    vip = Tag.objects.create(name="VIP")
    ann, bo = ContactFactory.create_batch(2)
    ann.tags.add(vip)  # written meanwhile by someone else
    inserted = insert_rows(
        through,
        ["contact_id"],
        [(ann.pk,), (bo.pk,)],
        shared={"tag_id": vip.pk},
        returning=("contact_id",),
        ignore_conflicts=True,
    )
    assert inserted == [(bo.pk,)]
    assert sorted(through.objects.values_list("contact_id", flat=True)) == [ann.pk, bo.pk]
    with pytest.raises(DatabaseError):  # without it, the constraint refuses the statement
        insert_rows(through, ["contact_id"], [(bo.pk,)], shared={"tag_id": vip.pk})


@pytest.mark.django_db
def test_insert_rows_writes_per_row_and_shared_values_and_returns_the_asked_columns():
    campaign = CampaignFactory()
    people = ContactFactory.create_batch(3)
    at = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)
    inserted = insert_rows(
        Enrollment,
        ["contact_id", "sender_id", "variants", "skip_reason", "state", "last_step"],
        # A column of NULLs only (the sender), and JSON (the variants).
        [(c.pk, None, {"1": n}, "", "skipped", 0) for n, c in enumerate(people)],
        shared={"campaign_id": campaign.pk, "created_at": at},
        returning=("contact_id", "id"),
    )
    ids = dict(inserted)
    assert sorted(ids) == sorted(c.pk for c in people)
    for n, contact in enumerate(people):
        stored = Enrollment.objects.get(pk=ids[contact.pk])
        assert (stored.campaign, stored.contact, stored.sender) == (campaign, contact, None)
        assert (stored.variants, stored.state, stored.created_at) == ({"1": n}, "skipped", at)


@pytest.mark.django_db
def test_insert_rows_splits_by_the_parameter_limit_and_refuses_unknown_columns():
    message = MessageFactory()
    at = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)
    rows = [(message.pk, f"note {n}") for n in range(2500)]
    insert_rows(
        MessageEvent,
        ["message_id", "note"],
        rows,
        shared={"status": "queued", "at": at},
        batch=1000,
    )
    assert MessageEvent.objects.count() == 2500
    assert insert_rows(MessageEvent, ["message_id"], []) == []
    with pytest.raises(TypeError, match="no column colour"):
        insert_rows(MessageEvent, ["message_id", "colour"], [(message.pk, "red")])
    with pytest.raises(TypeError, match="per row and shared"):
        insert_rows(MessageEvent, ["status"], [("queued",)], shared={"status": "sent"})
    assert MessageEvent.objects.count() == 2500
