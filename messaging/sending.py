"""Sending a claimed message and recording what LinkedIn answered (docs/queue.md).

The dispatcher (dispatch.py) claims; this module sends, outside any transaction, and decides
the next state from the answer: sent, failed and uncertain are recorded for a batch together
(Outcomes), a retry or a requeue at once.
"""

import datetime
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F

from messaging import dispatch_sql as sql
from messaging import services
from messaging.linkedin import (
    AmbiguousError,
    AuthError,
    LinkedInClient,
    LinkedInError,
    PermanentError,
    RetryableError,
)
from messaging.models import LinkedInAccount, Message, MessageEvent

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


def uuid_text(value) -> str:
    """A UUID column's value as text with hyphens (as str(uuid.UUID) writes it): SQLite keeps
    32 hex digits, PostgreSQL gives a UUID."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def next_utc_midnight(now: datetime.datetime) -> datetime.datetime:
    # LinkedIn's own daily limits reset at midnight UTC.
    tomorrow = now.astimezone(datetime.UTC).date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(tomorrow, datetime.time(0), tzinfo=datetime.UTC)


class Outcomes:
    """What LinkedIn answered for an account's claimed messages, written together by flush():
    one UPDATE for the sent ones, one per failed or uncertain one, one INSERT of the events
    and, when some were sent, the account's last_sent_at, in one transaction.

    Deferring the write keeps every message at most once: until it is written, a message sent
    is still `sending`; a worker that dies first leaves it so, the reaper makes it `uncertain`,
    and nothing resends it. What a crash costs is precision (a person decides about messages
    that LinkedIn had in fact accepted), so the dispatcher writes at least every
    MESSAGE_OUTCOME_FLUSH_SECONDS, and when the account's batch ends or fails.
    """

    def __init__(self, account: LinkedInAccount, now: datetime.datetime):
        self.account_id = account.pk
        self.at = sql.db_datetime(now)
        self.sent: dict[str, list[tuple]] = {}  # by claim token: (id, external id)
        self.unsent: list[tuple] = []
        self.events: list[tuple] = []
        self.started: float | None = None
        self.flush_seconds = settings.MESSAGE_OUTCOME_FLUSH_SECONDS

    def add(
        self, message: Claimed, status: str, *, error: str = "", external_id: str = "", actor=None
    ) -> None:
        error = error[:500]
        if status == Status.SENT:
            self.sent.setdefault(message.claim_token, []).append((message.pk, external_id))
        else:
            unsettled = (Status.SENDING, Status.UNCERTAIN, message.claim_token)
            self.unsent.append((status, error, message.pk, *unsettled))
        self.events.append((message.pk, status, error, getattr(actor, "pk", None), self.at))
        if self.started is None:
            self.started = time.monotonic()

    def overdue(self) -> bool:
        return self.started is not None and time.monotonic() - self.started >= self.flush_seconds

    def flush(self) -> None:
        if not self.events:
            return
        with transaction.atomic():
            for token, sent in self.sent.items():
                unsettled = (Status.SENDING, Status.UNCERTAIN)
                sql.record_sent(
                    sent, status=Status.SENT, at=self.at, unsettled=unsettled, token=token
                )
            if self.sent:
                sql.execute(sql.SET_LAST_SENT_AT, [self.at, self.account_id])
            if self.unsent:
                sql.execute_many(sql.RECORD_UNSENT, self.unsent)
            sql.insert_events(self.events)
        self.sent, self.unsent, self.events, self.started = {}, [], [], None


def send_claimed(
    message: Claimed,
    *,
    account: LinkedInAccount,
    client: LinkedInClient,
    now: datetime.datetime,
    outcomes: Outcomes,
    actor=None,
    refreshed: bool = False,
) -> str:
    """Send a claimed (`sending`) message; returns which counter of TickResult it adds to:
    sent, retried, uncertain or failed. Sent, uncertain and failed are recorded in `outcomes`
    (written by its flush()); a retry is written at once."""
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
        error = f"Outcome unknown: {exc}. Decide by hand."
        outcomes.add(message, Status.UNCERTAIN, error=error)
        return "uncertain"
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
                actor=actor,
                refreshed=True,
            )
        if account.status != LinkedInAccount.Status.NEEDS_RECONNECT:
            services.account_mark_needs_reconnect(
                account=account, reason="LinkedIn refused the token (401); reconnect the account."
            )
        requeue([message], now=now, next_attempt_at=now, note="account needs reconnecting")
        return "retried"
    except PermanentError as exc:
        outcomes.add(message, Status.FAILED, error=str(exc))
        return "failed"
    except LinkedInError as exc:  # a new subclass nobody classified: be safe, a person decides
        outcomes.add(message, Status.UNCERTAIN, error=str(exc))
        return "uncertain"
    outcomes.add(message, Status.SENT, external_id=sent.external_id, actor=actor)
    return "sent"


def _retry_later(
    message: Claimed, account: LinkedInAccount, exc: RetryableError, now, outcomes: Outcomes
) -> str:
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
        return "retried"
    if message.attempts >= settings.MESSAGE_MAX_ATTEMPTS:
        error = f"Gave up after {message.attempts} attempts: {exc}"
        outcomes.add(message, Status.FAILED, error=error)
        return "failed"
    delay = min(
        settings.MESSAGE_RETRY_BASE_SECONDS * 2 ** (message.attempts - 1),
        settings.MESSAGE_RETRY_MAX_SECONDS,
    )
    if exc.retry_after:
        delay = max(delay, exc.retry_after)
    delay += random.uniform(0, delay / 4)  # noqa: S311 — jitter spreads retries out
    updated = Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.QUEUED,
        next_attempt_at=now + datetime.timedelta(seconds=delay),
        last_error=str(exc)[:500],
        claimed_at=None,
        claim_token="",
    )
    if updated:
        MessageEvent.objects.create(
            message_id=message.pk, status=Status.QUEUED, note=f"retry: {exc}"[:500], at=now
        )
    return "retried"


def requeue(messages, *, now, next_attempt_at, note: str) -> int:
    """Put claimed messages back in the queue without counting the attempt (nothing was sent)."""
    if not messages:
        return 0
    with transaction.atomic():  # events only for the messages this really put back
        ids = list(
            Message.objects.filter(pk__in=[m.pk for m in messages], status=Status.SENDING)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=ids).update(
            status=Status.QUEUED,
            next_attempt_at=next_attempt_at,
            claimed_at=None,
            claim_token="",
            attempts=F("attempts") - 1,
        )
        MessageEvent.objects.bulk_create(
            MessageEvent(message_id=pk, status=Status.QUEUED, note=note, at=now) for pk in ids
        )
    return len(ids)
