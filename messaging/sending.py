"""Sending a claimed message and recording what LinkedIn answered (docs/queue.md).

The dispatcher (dispatch.py) claims; this module sends, outside any transaction, and decides
the next state from the answer: sent, failed and uncertain are recorded for a batch together
(Outcomes), a retry or a requeue at once.
"""

import datetime
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from messaging import dispatch_sql as sql
from messaging import services, transitions
from messaging.linkedin import (
    AmbiguousError,
    AuthError,
    LinkedInClient,
    LinkedInError,
    PermanentError,
    RetryableError,
)
from messaging.models import LinkedInAccount, Message
from messaging.transitions import Action, Increment

Status = Message.Status


@dataclass(slots=True)
class Claimed:
    """What sending one claimed message needs (cheaper than loading Message and Contact rows)."""

    pk: int
    recipient_urn: str
    body: str
    idempotency_key: str
    attempts: int  # this attempt included
    claim_token: str

    @classmethod
    def from_message(cls, message: Message) -> "Claimed":
        return cls(
            message.pk,
            message.contact.member_urn,
            message.body,
            str(message.idempotency_key),
            message.attempts,
            message.claim_token,
        )


def uuid_text(value: object) -> str:
    """A UUID column's value as text with hyphens (as str(uuid.UUID) writes it): SQLite keeps
    32 hex digits, PostgreSQL gives a UUID."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def next_utc_midnight(now: datetime.datetime) -> datetime.datetime:
    # LinkedIn's own daily limits reset at midnight UTC.
    tomorrow = now.astimezone(datetime.UTC).date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(tomorrow, datetime.time(0), tzinfo=datetime.UTC)


class Outcome(StrEnum):
    """What became of one attempt to send, as the dispatcher counts it (TickResult)."""

    SENT = "sent"
    RETRIED = "retried"  # back in the queue, to try again later
    UNCERTAIN = "uncertain"
    FAILED = "failed"


class Outcomes:
    """What LinkedIn answered for an account's claimed messages, written together by flush():
    one change() for the sent ones of each claim, one for the failed and one for the uncertain
    ones, with their events and, when some were sent, the account's last_sent_at, in one
    transaction.

    Deferring the write keeps every message at most once: until it is written, a message sent
    is still `sending`; a worker that dies first leaves it so, the reaper makes it `uncertain`,
    and nothing resends it. What a crash costs is precision (a person decides about messages
    that LinkedIn had in fact accepted), so the dispatcher writes at least every
    MESSAGE_OUTCOME_FLUSH_SECONDS, and when the account's batch ends or fails.
    """

    def __init__(
        self, account: LinkedInAccount, now: datetime.datetime, *, actor: User | None = None
    ):
        self.account_id = account.pk
        self.now = now
        self.actor = actor
        # By (action, claim token): {message id: external id at LinkedIn, or the error}.
        self.pending: dict[tuple[Action, str], dict[int, str]] = {}
        self.started: float | None = None
        self.flush_seconds = settings.MESSAGE_OUTCOME_FLUSH_SECONDS

    def add(self, message: Claimed, action: Action, detail: str = "") -> None:
        self.pending.setdefault((action, message.claim_token), {})[message.pk] = detail[:500]
        if self.started is None:
            self.started = time.monotonic()

    def overdue(self) -> bool:
        return self.started is not None and time.monotonic() - self.started >= self.flush_seconds

    def flush(self) -> None:
        if not self.pending:
            return
        with transaction.atomic():
            for (action, token), details in self.pending.items():
                if action == Action.RECORD_SENT:
                    values = {"last_error": "", "sent_at": self.now}
                    each = {"external_id": details}
                    notes = {}
                else:
                    values, each, notes = {}, {"last_error": details}, details
                changed = transitions.change(
                    action,
                    list(details),
                    actor=self.actor,
                    notes=notes,
                    at=self.now,
                    values=values,
                    values_each=each,
                    where={"claim_token": token},
                )
                if changed and action == Action.RECORD_SENT:
                    sql.execute(sql.SET_LAST_SENT_AT, [sql.db_datetime(self.now), self.account_id])
        self.pending, self.started = {}, None


def send_claimed(
    message: Claimed,
    *,
    account: LinkedInAccount,
    client: LinkedInClient,
    now: datetime.datetime,
    outcomes: Outcomes,
    refreshed: bool = False,
) -> Outcome:
    """Send a claimed (`sending`) message and say what became of it. Sent, uncertain and
    failed are recorded in `outcomes` (written by its flush()); a retry is written at once."""
    try:
        sent = client.send_message(
            account.access_token,
            recipient_urn=message.recipient_urn,
            body=message.body,
            idempotency_key=message.idempotency_key,
        )
    except RetryableError as exc:
        return _retry_later(message, account, exc, now, outcomes)
    except AmbiguousError as exc:
        outcomes.add(message, Action.RECORD_UNCERTAIN, f"Outcome unknown: {exc}. Decide by hand.")
        return Outcome.UNCERTAIN
    except AuthError:
        if (
            not refreshed
            and account.refresh_token
            and services.account_refresh(account=account, client=client, now=now)
        ):
            return send_claimed(
                message,
                account=account,
                client=client,
                now=now,
                outcomes=outcomes,
                refreshed=True,
            )
        if account.status != LinkedInAccount.Status.NEEDS_RECONNECT:
            services.account_mark_needs_reconnect(
                account=account, reason="LinkedIn refused the token (401); reconnect the account."
            )
        requeue([message], now=now, next_attempt_at=now, note="account needs reconnecting")
        return Outcome.RETRIED
    except PermanentError as exc:
        outcomes.add(message, Action.RECORD_FAILED, str(exc))
        return Outcome.FAILED
    except LinkedInError as exc:  # a new subclass nobody classified: be safe, a person decides
        outcomes.add(message, Action.RECORD_UNCERTAIN, str(exc))
        return Outcome.UNCERTAIN
    outcomes.add(message, Action.RECORD_SENT, sent.external_id)
    return Outcome.SENT


def _retry_later(
    message: Claimed,
    account: LinkedInAccount,
    exc: RetryableError,
    now: datetime.datetime,
    outcomes: Outcomes,
) -> Outcome:
    if exc.status == 429:
        # LinkedIn's limit for this member is used up: hold the account until LinkedIn's day
        # ends (or as long as it asked), without counting the attempt.
        hold = (
            now + datetime.timedelta(seconds=exc.retry_after)
            if exc.retry_after
            else (next_utc_midnight(now))
        )
        LinkedInAccount.objects.filter(pk=account.pk).update(hold_until=hold)
        account.hold_until = hold
        requeue([message], now=now, next_attempt_at=hold, note="LinkedIn rate limit (429)")
        return Outcome.RETRIED
    if message.attempts >= settings.MESSAGE_MAX_ATTEMPTS:
        outcomes.add(
            message, Action.RECORD_FAILED, f"Gave up after {message.attempts} attempts: {exc}"
        )
        return Outcome.FAILED
    delay = min(
        settings.MESSAGE_RETRY_BASE_SECONDS * 2 ** (message.attempts - 1),
        settings.MESSAGE_RETRY_MAX_SECONDS,
    )
    if exc.retry_after:
        delay = max(delay, exc.retry_after)
    delay += random.uniform(0, delay / 4)  # noqa: S311 — jitter spreads retries out
    transitions.change(
        Action.RETRY,
        [message.pk],
        note=f"retry: {exc}",
        at=now,
        values={
            "next_attempt_at": now + datetime.timedelta(seconds=delay),
            "last_error": str(exc)[:500],
            "claimed_at": None,
            "claim_token": "",
        },
    )
    return Outcome.RETRIED


def requeue(
    messages: Sequence[Claimed],
    *,
    now: datetime.datetime,
    next_attempt_at: datetime.datetime,
    note: str,
) -> int:
    """Put claimed messages back in the queue without counting the attempt (nothing was sent)."""
    if not messages:
        return 0
    changed = transitions.change(
        Action.REQUEUE,
        [m.pk for m in messages],
        note=note,
        at=now,
        values={
            "next_attempt_at": next_attempt_at,
            "claimed_at": None,
            "claim_token": "",
            "attempts": Increment(-1),
        },
    )
    return len(changed)
