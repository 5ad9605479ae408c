"""A message's states and every way between them, declared once (docs/architecture.md).

TRANSITIONS is the whole state machine: an action, the states it may start from and the state
it ends in. change() is the only code that changes a message's status: one message or many, by
ids or a queryset, in one conditional UPDATE per chunk (`... WHERE status IN (sources)
RETURNING id`) so that a double click, two workers or a person and a worker acting at the same
moment change a message at most once, and an event for exactly the messages it changed,
written in one way. The dispatcher's claims and LinkedIn's answers go through it too: it is
written in SQL because a tick runs it for a hundred accounts (tests/perf/bench_dispatch.py).

A message is inserted `queued` (messaging/bulk.py); tests/messaging/test_transitions.py holds
a database trigger that refuses any other status change than through change().
"""

import datetime
import enum
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from linkedin_crm import webhooks
from linkedin_crm.db import chunks, db_value, insert_rows, max_query_parameters
from messaging.models import Message, MessageEvent

Status = Message.Status


class Action(enum.StrEnum):
    CLAIM = "claim"  # the dispatcher takes a due message to send through the API
    RELEASE = "release"  # the dispatcher puts a due message in its sender's Outbox
    SEND_FROM_OUTBOX = "send from outbox"  # a member presses Send on an Outbox message
    RECORD_SENT = "record sent"  # LinkedIn accepted it
    RECORD_FAILED = "record failed"  # LinkedIn refused it for good, or attempts ran out
    RECORD_UNCERTAIN = "record uncertain"  # the answer leaves it unknown whether it went
    RETRY = "retry"  # a retryable error: back in the queue, the attempt counted
    REQUEUE = "requeue"  # put back unsent (the account was held or lost its token)
    REAP = "reap"  # `sending` for too long: the worker died mid-send
    CANCEL = "cancel"  # a person, a campaign, do-not-contact or a lost authority
    SKIP = "skip"  # the member skips an Outbox message
    MARK_SENT_BY_HAND = "mark sent by hand"  # "I sent it", or the member's messages export
    CONFIRM_SENT = "confirm sent"  # a person decides an uncertain message went
    SEND_AGAIN = "send again"  # a person decides an uncertain message did not go
    EDIT = "edit"  # the member edits an Outbox message's text (the status stays)


class Transition(NamedTuple):
    sources: frozenset[str]
    target: str


def _t(sources, target) -> Transition:
    return Transition(frozenset(sources), target)


# Sent and failed are final; cancelled too. LinkedIn's answer may arrive after the reaper has
# called a message uncertain: it is better knowledge than the reaper's guess, so the record_*
# actions start from uncertain as well.
TRANSITIONS: dict[Action, Transition] = {
    Action.CLAIM: _t({Status.QUEUED}, Status.SENDING),
    Action.RELEASE: _t({Status.QUEUED}, Status.RELEASED),
    Action.SEND_FROM_OUTBOX: _t({Status.RELEASED}, Status.SENDING),
    Action.RECORD_SENT: _t({Status.SENDING, Status.UNCERTAIN}, Status.SENT),
    Action.RECORD_FAILED: _t({Status.SENDING, Status.UNCERTAIN}, Status.FAILED),
    Action.RECORD_UNCERTAIN: _t({Status.SENDING, Status.UNCERTAIN}, Status.UNCERTAIN),
    Action.RETRY: _t({Status.SENDING}, Status.QUEUED),
    Action.REQUEUE: _t({Status.SENDING}, Status.QUEUED),
    Action.REAP: _t({Status.SENDING}, Status.UNCERTAIN),
    Action.CANCEL: _t(Message.OPEN_STATUSES, Status.CANCELLED),
    Action.SKIP: _t({Status.RELEASED}, Status.CANCELLED),
    Action.MARK_SENT_BY_HAND: _t({Status.RELEASED}, Status.SENT),
    Action.CONFIRM_SENT: _t({Status.UNCERTAIN}, Status.SENT),
    Action.SEND_AGAIN: _t({Status.UNCERTAIN}, Status.QUEUED),
    Action.EDIT: _t({Status.RELEASED}, Status.RELEASED),
}

INITIAL = Status.QUEUED

# The webhook event (linkedin_crm/webhooks.py) announcing that messages reached a status.
WEBHOOK_EVENTS = {
    Status.SENT: webhooks.EventType.MESSAGE_SENT,
    Status.FAILED: webhooks.EventType.MESSAGE_FAILED,
    Status.UNCERTAIN: webhooks.EventType.MESSAGE_UNCERTAIN,
}


def allowed_changes() -> set[tuple[str, str]]:
    """Every (from, to) pair of statuses some action may make."""
    return {(source, t.target) for t in TRANSITIONS.values() for source in t.sources}


class Increment(NamedTuple):
    """Add `by` to a number column (attempts) instead of setting it."""

    by: int


def change(
    action: Action,
    messages: QuerySet | Sequence[int],
    *,
    actor=None,
    note: str = "",
    notes: Mapping[int, str] | None = None,
    at: datetime.datetime | None = None,
    values: Mapping[str, object] | None = None,
    values_each: Mapping[str, Mapping[int, object]] | None = None,
    where: Mapping[str, object] | None = None,
) -> list[int]:
    """Apply `action` to each of `messages` that is in one of its source states; returns the
    ids of the messages it changed, and writes one event for each of them (status, note or
    `notes[id]`, actor, at).

    `messages` are ids, or a queryset whose conditions are checked in the UPDATE itself (so a
    contact marked do-not-contact a moment ago is not claimed). `values` sets more columns on
    every message (Increment(n) adds to one), `values_each` sets a column per message
    ({column: {id: value}}), and `where` adds conditions (column = value), such as the claim
    token. Columns are attnames of Message."""
    sources, target = TRANSITIONS[action]
    at = at or timezone.now()
    changes = {"status": target, **(values or {})}
    if target == Status.CANCELLED and "last_error" not in changes:
        changes["last_error"] = note[:500]
    # No savepoint inside a caller's transaction: the dispatcher calls this for every account
    # of a tick, and a failure here fails the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        if isinstance(messages, QuerySet):
            changed = _update(changes, values_each or {}, sources, where or {}, subquery=messages)
        else:
            changed = []
            for chunk in chunks(list(messages), _ids_per_statement(values_each)):
                changed += _update(
                    changes, values_each or {}, sources, where or {}, ids=frozenset(chunk)
                )
        notes = notes or {}
        insert_rows(
            MessageEvent,
            ["message_id", "note"],
            [(pk, notes.get(pk, note)[:500]) for pk in changed],
            shared={"status": target, "actor_id": getattr(actor, "pk", None), "at": at},
        )
        if target in WEBHOOK_EVENTS:
            webhooks.emit_messages(WEBHOOK_EVENTS[target], changed)
    return changed


def _ids_per_statement(values_each) -> int:
    # Each id is a parameter, twice more for every per-message column (CASE id WHEN ? THEN ?).
    per_id = 1 + 2 * len(values_each or {})
    return max(1, min(1000, (max_query_parameters() - 50) // per_id))


FIELD = {f.attname: f for f in Message._meta.concrete_fields}


def _update(changes, values_each, sources, where, *, ids=(), subquery=None) -> list[int]:
    """One conditional UPDATE … RETURNING id: only rows still in a source state change, and
    the database says which did."""
    quote = connection.ops.quote_name
    sets, params = [], []
    for name, value in changes.items():
        column = quote(FIELD[name].column)
        if isinstance(value, Increment):
            sets.append(f"{column} = {column} + %s")
            params.append(value.by)
        else:
            sets.append(f"{column} = %s")
            params.append(_db(name, value))
    for name, by_id in values_each.items():
        relevant = [(pk, value) for pk, value in by_id.items() if not ids or pk in ids]
        if not relevant:
            continue
        column = quote(FIELD[name].column)
        whens = " ".join(["WHEN %s THEN %s"] * len(relevant))
        sets.append(f"{column} = CASE id {whens} ELSE {column} END")
        params += [v for pk, value in relevant for v in (pk, _db(name, value))]
    if "updated_at" not in changes:
        sets.append(f"{quote('updated_at')} = %s")
        params.append(_db("updated_at", timezone.now()))
    conditions = [f"{quote('status')} IN ({', '.join(['%s'] * len(sources))})"]
    params += sorted(sources)
    for name, value in where.items():
        conditions.append(f"{quote(FIELD[name].column)} = %s")
        params.append(_db(name, value))
    if subquery is not None:
        select, select_params = subquery.order_by().values("pk").query.sql_with_params()
        conditions.append(f"id IN ({select})")
        params += select_params
    else:
        conditions.append(f"id IN ({', '.join(['%s'] * len(ids))})")
        params += list(ids)
    statement = (
        f"UPDATE {quote(Message._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608 — our columns
        f"WHERE {' AND '.join(conditions)} RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()]


def _db(name: str, value):
    return db_value(FIELD[name], value, connection)


# --- the diagram in docs/architecture.md -------------------------------------------------------


def mermaid() -> str:
    """The state machine as a Mermaid state diagram: docs/architecture.md holds this text, and
    tests/test_docs.py checks it is still what TRANSITIONS says."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL}"]
    for action, (sources, target) in TRANSITIONS.items():
        for source in sorted(sources):
            lines.append(f"    {source} --> {target}: {action}")
    for final in (Status.SENT, Status.FAILED, Status.CANCELLED):
        lines.append(f"    {final} --> [*]")
    return "\n".join(lines)
