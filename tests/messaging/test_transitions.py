"""The message state machine (messaging/transitions.py): what change() does, and a property
test that drives the real services, dispatcher and LinkedIn sandbox through random sequences of
actions and checks that every status change observed in the database is one TRANSITIONS
declares, and has its event.

Every status change in every `db` test is also checked by the trigger of tests/status_guard.py
(installed by tests/conftest.py): it refuses one not made through change()."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging import dispatch, services, transitions
from messaging.models import Message, MessageEvent
from messaging.transitions import TRANSITIONS, Action, Increment
from tests.contacts.factories import ContactFactory, UserFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory
from tests.status_guard import observed_changes

pytestmark = pytest.mark.django_db
Status = Message.Status
WEDNESDAY = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)


# --- change() ------------------------------------------------------------------------------------


def test_it_changes_only_messages_in_a_source_state_and_writes_their_events():
    user = UserFactory()
    queued, released, sent = (
        MessageFactory(status=Status.QUEUED),
        MessageFactory(status=Status.RELEASED),
        MessageFactory(status=Status.SENT),
    )
    changed = transitions.change(
        Action.CANCEL, [queued.pk, released.pk, sent.pk], actor=user, note="no longer", at=WEDNESDAY
    )
    assert sorted(changed) == sorted([queued.pk, released.pk])
    assert dict(Message.objects.values_list("pk", "status")) == {
        queued.pk: "cancelled",
        released.pk: "cancelled",
        sent.pk: "sent",
    }
    assert Message.objects.get(pk=queued.pk).last_error == "no longer"
    events = MessageEvent.objects.values_list("message_id", "status", "note", "actor", "at")
    assert sorted(events) == sorted(
        (pk, "cancelled", "no longer", user.pk, WEDNESDAY) for pk in (queued.pk, released.pk)
    )
    # Again: nothing left to change, no event.
    assert transitions.change(Action.CANCEL, [queued.pk], note="twice") == []
    assert MessageEvent.objects.count() == 2


def test_a_queryset_is_checked_in_the_update_itself():
    dnc = MessageFactory(status=Status.RELEASED, contact=ContactFactory(do_not_contact=True))
    other = MessageFactory(status=Status.RELEASED)
    changed = transitions.change(
        Action.SKIP, Message.objects.filter(contact__do_not_contact=True).order_by("-id")
    )
    assert changed == [dnc.pk]
    assert Message.objects.get(pk=other.pk).status == "released"


def test_values_per_message_conditions_and_increments():
    first, second, elsewhere = MessageFactory.create_batch(3, status=Status.SENDING, attempts=1)
    Message.objects.filter(pk__in=[first.pk, second.pk]).update(claim_token="t1")
    changed = transitions.change(
        Action.RECORD_FAILED,
        [first.pk, second.pk, elsewhere.pk],
        notes={first.pk: "one", second.pk: "two"},
        values={"attempts": Increment(2)},
        values_each={"last_error": {first.pk: "one", second.pk: "two"}},
        where={"claim_token": "t1"},
    )
    assert sorted(changed) == [first.pk, second.pk]
    rows = Message.objects.order_by("pk").values_list("status", "last_error", "attempts")
    assert list(rows) == [("failed", "one", 3), ("failed", "two", 3), ("sending", "", 1)]
    assert sorted(MessageEvent.objects.values_list("note", flat=True)) == ["one", "two"]


def test_many_messages_in_several_statements(django_assert_max_num_queries):
    messages = MessageFactory.create_batch(5, status=Status.QUEUED)
    ids = [m.pk for m in messages] + list(range(10**6, 10**6 + 3000))  # some that do not exist
    changed = transitions.change(Action.CANCEL, ids, note="bulk")
    assert sorted(changed) == sorted(m.pk for m in messages)
    assert MessageEvent.objects.count() == 5


def test_an_edit_keeps_the_status_and_has_its_event():
    message = MessageFactory(status=Status.RELEASED, body="Old")
    assert transitions.change(Action.EDIT, [message.pk], note="edited", values={"body": "New"})
    message.refresh_from_db()
    assert (message.status, message.body) == ("released", "New")
    assert list(message.events.values_list("status", "note")) == [("released", "edited")]


def test_the_guard_refuses_a_status_change_made_another_way():
    """tests/status_guard.py is installed: an ORM update of the status fails the test that
    makes it. (Were it not installed, this update would go through.)"""
    message = MessageFactory(status=Status.QUEUED)
    refused = pytest.raises(IntegrityError, match="outside messaging.transitions.change")
    with refused, transaction.atomic():
        Message.objects.filter(pk=message.pk).update(status=Status.SENT)
    # Other columns change freely.
    Message.objects.filter(pk=message.pk).update(body="Still queued")


def test_every_status_is_reachable_and_the_final_ones_are_final():
    reachable = {Status.QUEUED} | {t.target for t in TRANSITIONS.values()}
    assert reachable == set(Status.values) - {Status.DRAFT}
    for final in (Status.SENT, Status.FAILED, Status.CANCELLED):
        assert not any(final in t.sources for t in TRANSITIONS.values()), final


# --- the property: random sequences of actions ------------------------------------------------

ACTIONS = [
    "queue",
    "tick",
    "tick with a fault",
    "claim and die",
    "reap",
    "cancel",
    "skip",
    "mark sent",
    "edit",
    "send from outbox",
    "confirm sent",
    "send again",
    "do not contact",
    "next hour",
]
FAULTS = [{"status": 500}, {"status": 503}, {"status": 429}, {"status": 400}, {"status": 401}]
# What the services refuse with, each with a sentence for the person.
REFUSALS = (ValueError, PermissionDenied, dispatch.CapReached)


@pytest.fixture
def world(sandbox_settings):
    owner = UserFactory(is_staff=True)
    token = sandbox_settings.issue_token("sbx-maya-okafor")
    automatic = LinkedInAccountFactory(
        owner=owner,
        access_token=token,
        mode="automatic",
        scopes=["openid", "profile", "email", "w_member_social"],
        min_interval_seconds=0,
        jitter_seconds=0,
        daily_limit=4,
        access_token_expires_at=WEDNESDAY + datetime.timedelta(days=50),
    )
    assisted = LinkedInAccountFactory(owner=owner, mode="assisted", daily_limit=3)
    people = [ContactFactory(member_urn=f"urn:li:person:p{n}" if n % 3 else "") for n in range(5)]
    return {"owner": owner, "accounts": [automatic, assisted], "people": people}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 50), st.integers(0, 50)),
        min_size=1,
        max_size=14,
    )
)
def test_every_observed_status_change_is_in_the_table(
    steps, world, sandbox_settings, sandbox_client
):
    allowed = transitions.allowed_changes()
    savepoint = transaction.savepoint()
    try:
        sandbox_settings.clear_faults()
        clock = [WEDNESDAY]
        for name, a, b in steps:
            act(name, a, b, world, sandbox_settings, sandbox_client, clock)
        changes = observed_changes()
        assert {(old, new) for _, old, new in changes} <= allowed, changes
        for message in Message.objects.all():
            # The events, where the status changed, are the changes the database saw.
            seen, previous = [], Status.QUEUED
            for status in message.events.order_by("at", "id").values_list("status", flat=True):
                if status != previous:
                    seen.append(status)
                previous = status
            assert seen == [new for pk, _, new in changes if pk == message.pk], message.pk
    finally:
        transaction.savepoint_rollback(savepoint)


def act(name, a, b, world, sandbox, client, clock):
    owner, accounts, people = world["owner"], world["accounts"], world["people"]
    messages = list(Message.objects.order_by("pk"))
    message = messages[a % len(messages)] if messages else None
    now = clock[0]
    try:
        match name:
            case "queue":
                services.messages_queue(
                    contacts=[people[a % len(people)]],
                    account=accounts[b % 2],
                    body="Hello {{ first_name }}",
                    created_by=owner,
                    now=now,
                )
            case "tick" | "tick with a fault":
                if name == "tick with a fault":
                    sandbox.add_faults([FAULTS[b % len(FAULTS)]])
                dispatch.dispatch_tick(now=now, client=client)
            case "claim and die":  # a worker that claims and dies before sending
                dispatch.claim(accounts[0].pk, now=now)
            case "reap":
                dispatch.reap_stuck_sends(now=now + datetime.timedelta(hours=1))
            case "next hour":
                clock[0] = now + datetime.timedelta(hours=1)
            case "do not contact":
                people[a % len(people)].mark_do_not_contact("asked")
            case _ if message is None:
                return
            case "cancel":
                services.message_cancel(message=message, actor=owner)
            case "skip":
                services.outbox_skip(message=message, actor=owner)
            case "mark sent":
                services.outbox_mark_sent(message=message, actor=owner, now=now)
            case "edit":
                services.outbox_edit(message=message, body=f"Edited {b}", actor=owner)
            case "send from outbox":
                dispatch.outbox_send(message=message, actor=owner, client=client, now=now)
            case "confirm sent" | "send again":
                services.message_resolve_uncertain(
                    message=message, sent=name == "confirm sent", actor=owner
                )
    except REFUSALS:
        pass
