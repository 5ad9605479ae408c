"""The send queue's dispatcher (DESIGN §6): one tick claims what each account may send now,
sends outside any transaction, and records the result.

At most once: a message is claimed by a conditional UPDATE (queued → sending) inside a
transaction that holds the account's row lock (SQLite: an IMMEDIATE transaction), so two
workers can neither claim the same message nor together exceed an account's daily cap. The
API call happens after that transaction commits; what LinkedIn answered decides the next state.
A message whose outcome is unknown becomes `uncertain` and is never resent automatically.
"""

import datetime
import logging
import random
import secrets
import zoneinfo
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from messaging import services
from messaging.linkedin import (
    AmbiguousError,
    AuthError,
    LinkedInClient,
    LinkedInError,
    PermanentError,
    RetryableError,
    client_from_settings,
)
from messaging.models import LinkedInAccount, Message, MessageEvent

logger = logging.getLogger(__name__)
Status = Message.Status


@dataclass
class TickResult:
    claimed: int = 0
    sent: int = 0
    released: int = 0
    retried: int = 0
    uncertain: int = 0
    failed: int = 0
    cancelled: int = 0
    capped_accounts: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def add(self, other: "TickResult") -> None:
        for name in ("claimed", "sent", "released", "retried", "uncertain", "failed", "cancelled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.capped_accounts += other.capped_accounts


# --- time: the account's day and window ------------------------------------------------------


def local_day_bounds(account: LinkedInAccount, now: datetime.datetime):
    """Start and end (UTC) of the calendar day `now` falls in, in the account's time zone.
    DST days are 23 or 25 hours long; zoneinfo gets them right."""
    tz = zoneinfo.ZoneInfo(account.timezone)
    local = now.astimezone(tz)
    start = datetime.datetime.combine(local.date(), datetime.time(0), tzinfo=tz)
    end = datetime.datetime.combine(
        local.date() + datetime.timedelta(days=1), datetime.time(0), tzinfo=tz
    )
    return start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)


def in_send_window(account: LinkedInAccount, now: datetime.datetime) -> bool:
    local = now.astimezone(zoneinfo.ZoneInfo(account.timezone))
    return (
        local.weekday() in account.window_days
        and account.window_start <= local.time() < account.window_end
    )


def usage_today(account: LinkedInAccount, now: datetime.datetime) -> dict[str, int]:
    """Today's used slots of the account's cap, per stream (one query serves the cap and the
    fair share)."""
    start, end = local_day_bounds(account, now)
    return dict(
        Message.objects.filter(account=account)
        .counting_against_cap(start, end)
        .values_list("stream")
        .annotate(n=Count("pk"))
        .values_list("stream", "n")
    )


def next_utc_midnight(now: datetime.datetime) -> datetime.datetime:
    # LinkedIn's own daily limits reset at midnight UTC.
    tomorrow = now.astimezone(datetime.UTC).date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(tomorrow, datetime.time(0), tzinfo=datetime.UTC)


# --- the tick ----------------------------------------------------------------------------------


def dispatch_tick(
    *,
    now: datetime.datetime | None = None,
    account_id: int | None = None,
    client: LinkedInClient | None = None,
) -> TickResult:
    """One pass of the queue: cancel do-not-contact messages, then for every active account
    with due messages claim what it may send now, and send or release it."""
    now = now or timezone.now()
    result = TickResult()
    due = Message.objects.due(now)
    if account_id is not None:
        due = due.filter(account_id=account_id)
    account_ids = (
        LinkedInAccount.objects.filter(status=LinkedInAccount.Status.ACTIVE)
        .filter(Exists(due.filter(account_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    client = client or client_from_settings()
    for pk in account_ids:
        result.add(dispatch_account(pk, now=now, client=client))
    return result


def cancel_do_not_contact(messages, *, now: datetime.datetime) -> int:
    """Do-not-contact is checked again right before claiming: such messages never go out."""
    doomed = list(messages.filter(contact__do_not_contact=True).values_list("pk", flat=True))
    if not doomed:
        return 0
    count = Message.objects.filter(pk__in=doomed, status=Status.QUEUED).update(
        status=Status.CANCELLED, last_error="The contact is marked do-not-contact."
    )
    MessageEvent.objects.bulk_create(
        MessageEvent(message_id=pk, status=Status.CANCELLED, note="do-not-contact", at=now)
        for pk in doomed
    )
    return count


def dispatch_account(
    account_id: int, *, now: datetime.datetime, client: LinkedInClient
) -> TickResult:
    result = TickResult()
    account, to_send, released, capped = claim(account_id, now=now, result=result)
    result.released += released
    result.claimed += released + len(to_send)
    if capped:
        result.capped_accounts.append(account_id)
    for index, message in enumerate(to_send):
        outcome = send_claimed(message, account=account, client=client, now=now, touch=False)
        setattr(result, outcome, getattr(result, outcome) + 1)
        held = account.hold_until is not None and account.hold_until > now
        if held or account.status != LinkedInAccount.Status.ACTIVE:
            # The account just hit LinkedIn's limit or lost its token: put the rest back.
            rest = to_send[index + 1 :]
            result.retried += requeue(
                rest, now=now, next_attempt_at=account.hold_until or now, note="account held"
            )
            break
    if result.sent:  # once per account and tick, not once per message
        LinkedInAccount.objects.filter(pk=account.pk).update(last_sent_at=now)
    return result


def claim(account_id: int, *, now: datetime.datetime, result: TickResult | None = None):
    """Claim, under the account's row lock, what the account may send now.

    Returns (account, messages to send through the API, number released to the Outbox,
    whether the daily cap is reached).
    """
    token = secrets.token_hex(8)
    with transaction.atomic():
        account = LinkedInAccount.objects.select_for_update().get(pk=account_id)
        allowed, left, usage = _allowance(account, now)
        if allowed <= 0:
            return account, [], 0, left == 0
        # Fair share: number each stream's due messages (one-offs, each campaign) by age and
        # take the first of every stream, then the second of every stream, and so on.
        turn = Window(
            RowNumber(), partition_by=[F("stream")], order_by=[F("next_attempt_at"), F("pk")]
        )
        due = Message.objects.due(now).filter(account=account)
        if allowed > 1:
            due = due.annotate(turn=turn).order_by("turn", "next_attempt_at", "pk")
        else:
            # One message per tick (staggered): the turn goes to the stream that has had the
            # fewest of today's slots, so a big campaign queued first cannot starve the rest.
            due = due.filter(stream=_neediest_stream(due, usage)).order_by("next_attempt_at", "pk")
        rows = list(
            due.values_list("pk", "contact__member_urn", "contact__do_not_contact")[:allowed]
        )
        doomed = [pk for pk, _, dnc in rows if dnc]
        if doomed:  # do-not-contact is checked right before claiming: never sent, cancelled now
            cancelled = cancel_do_not_contact(Message.objects.filter(pk__in=doomed), now=now)
            if result is not None:
                result.cancelled += cancelled
        candidates = [(pk, urn) for pk, urn, dnc in rows if not dnc]
        if not candidates:
            return account, [], 0, False
        automatic = account.mode == LinkedInAccount.Mode.AUTOMATIC and account.has_messaging_scope
        # Automatic sending needs the member URN; without it the message waits in the Outbox
        # for a person, like in assisted mode.
        api_ids = [pk for pk, urn in candidates if automatic and urn]
        outbox_ids = [pk for pk, urn in candidates if not (automatic and urn)]
        # The conditional UPDATE is the claim: a message cancelled a moment ago stays cancelled.
        mine = Message.objects.filter(account=account, status=Status.QUEUED)
        sending = released = 0
        if api_ids:
            sending = mine.filter(pk__in=api_ids).update(
                status=Status.SENDING,
                claimed_at=now,
                claim_token=token,
                attempts=F("attempts") + 1,
                channel=Message.Channel.API,
            )
        if outbox_ids:
            released = mine.filter(pk__in=outbox_ids).update(
                status=Status.RELEASED, claimed_at=now, released_at=now, claim_token=token
            )
        if sending == len(api_ids) and released == len(outbox_ids):
            # Every candidate was claimed: the events need no look-up.
            MessageEvent.objects.bulk_create(
                [MessageEvent(message_id=pk, status=Status.SENDING, at=now) for pk in api_ids]
                + [MessageEvent(message_id=pk, status=Status.RELEASED, at=now) for pk in outbox_ids]
            )
        elif sending + released:
            _record_claims(account.pk, token, now)
        if (sending + released) and (account.min_interval_seconds or account.jitter_seconds):
            _set_next_slot(account, now)
        capped = left - sending - released <= 0
    to_send = (
        list(
            Message.objects.filter(
                pk__in=api_ids, claim_token=token, status=Status.SENDING
            ).select_related("contact")
        )
        if sending
        else []
    )
    return account, to_send, released, capped


def _neediest_stream(due, usage: dict[str, int]) -> str:
    """The stream with the fewest of today's slots (then the oldest due message)."""
    oldest = dict(
        due.order_by()
        .values_list("stream")
        .annotate(first=Min("next_attempt_at"))
        .values_list("stream", "first")
    )
    if not oldest:
        return ""
    return min(oldest, key=lambda stream: (usage.get(stream, 0), oldest[stream], stream))


def _record_claims(account_id: int, token: str, now: datetime.datetime) -> None:
    """One event per message just claimed (found through the account's index, not a scan)."""
    claimed = Message.objects.filter(account_id=account_id, claim_token=token)
    MessageEvent.objects.bulk_create(
        MessageEvent(message_id=pk, status=status, at=now)
        for pk, status in claimed.values_list("pk", "status")
    )


def _allowance(account: LinkedInAccount, now: datetime.datetime):
    """How many messages the account may claim now, how many its daily cap has left (0 while
    LinkedIn holds the account after a 429; None when not counted), and today's usage per
    stream."""
    if account.hold_until and account.hold_until > now:
        return 0, 0, {}
    if not in_send_window(account, now):
        return 0, None, {}
    if account.next_send_at and account.next_send_at > now:
        return 0, None, {}
    usage = usage_today(account, now)
    left = account.daily_limit - sum(usage.values())
    if left <= 0:
        return 0, 0, usage
    # Staggering: with a minimum interval, one message per tick (the dispatcher runs every
    # minute); without one, as many as the cap allows.
    return (1 if account.min_interval_seconds else left), left, usage


def _set_next_slot(account: LinkedInAccount, now: datetime.datetime) -> None:
    jitter = random.randint(0, account.jitter_seconds) if account.jitter_seconds else 0  # noqa: S311
    account.next_send_at = now + datetime.timedelta(seconds=account.min_interval_seconds + jitter)
    account.save(update_fields=["next_send_at"])


# --- sending one claimed message -------------------------------------------------------------


def send_claimed(
    message: Message,
    *,
    account: LinkedInAccount,
    client: LinkedInClient,
    now: datetime.datetime,
    actor=None,
    refreshed: bool = False,
    touch: bool = True,
) -> str:
    """Send a claimed (`sending`) message and record the outcome; returns which counter of
    TickResult it adds to: sent, retried, uncertain or failed."""
    try:
        sent = client.send_message(
            account.access_token,
            recipient_urn=message.contact.member_urn,
            body=message.body,
            idempotency_key=str(message.idempotency_key),
        )
    except RetryableError as exc:
        return _retry_later(message, account, exc, now)
    except AmbiguousError as exc:
        _finish(message, Status.UNCERTAIN, now, error=f"Outcome unknown: {exc}. Decide by hand.")
        return "uncertain"
    except AuthError:
        if (
            not refreshed
            and account.refresh_token
            and services.account_refresh(account=account, client=client, now=now)
        ):
            return send_claimed(
                message, account=account, client=client, now=now, actor=actor, refreshed=True
            )
        if account.status != LinkedInAccount.Status.NEEDS_RECONNECT:
            services.account_mark_needs_reconnect(
                account=account, reason="LinkedIn refused the token (401); reconnect the account."
            )
        requeue([message], now=now, next_attempt_at=now, note="account needs reconnecting")
        return "retried"
    except PermanentError as exc:
        _finish(message, Status.FAILED, now, error=str(exc))
        return "failed"
    except LinkedInError as exc:  # a new subclass nobody classified: be safe, a person decides
        _finish(message, Status.UNCERTAIN, now, error=str(exc))
        return "uncertain"
    _finish(message, Status.SENT, now, external_id=sent.external_id, actor=actor)
    if touch:
        LinkedInAccount.objects.filter(pk=account.pk).update(last_sent_at=now)
    return "sent"


def _retry_later(message: Message, account: LinkedInAccount, exc: RetryableError, now) -> str:
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
        _finish(
            message, Status.FAILED, now, error=f"Gave up after {message.attempts} attempts: {exc}"
        )
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
            message=message, status=Status.QUEUED, note=f"retry: {exc}"[:500], at=now
        )
    return "retried"


def requeue(messages, *, now, next_attempt_at, note: str) -> int:
    """Put claimed messages back in the queue without counting the attempt (nothing was sent)."""
    ids = [m.pk for m in messages]
    if not ids:
        return 0
    count = Message.objects.filter(pk__in=ids, status=Status.SENDING).update(
        status=Status.QUEUED,
        next_attempt_at=next_attempt_at,
        claimed_at=None,
        claim_token="",
        attempts=F("attempts") - 1,
    )
    MessageEvent.objects.bulk_create(
        MessageEvent(message_id=pk, status=Status.QUEUED, note=note, at=now) for pk in ids
    )
    return count


def _finish(
    message: Message, status: str, now, *, error: str = "", external_id: str = "", actor=None
) -> None:
    fields = {"status": status, "last_error": error[:500]}
    if status == Status.SENT:
        fields.update(sent_at=now, external_id=external_id)
    # Recorded whether or not the reaper has meanwhile called it uncertain: the answer from
    # LinkedIn is better knowledge than the reaper's guess.
    Message.objects.filter(
        pk=message.pk,
        status__in=[Status.SENDING, Status.UNCERTAIN],
        claim_token=message.claim_token,
    ).update(**fields)
    MessageEvent.objects.create(
        message=message, status=status, note=error[:500], actor=actor, at=now
    )


class CapReached(Exception):
    """The account's daily cap is used up."""


def outbox_send(*, message: Message, actor, client: LinkedInClient | None = None, now=None) -> str:
    """The member pressed Send on an Outbox draft: send it through the Messages API now (a
    member's own action on an editable draft). The cap is checked again under the account lock.
    Returns the outcome (sent, retried, uncertain, failed)."""
    now = now or timezone.now()
    with transaction.atomic():
        account = LinkedInAccount.objects.select_for_update().get(pk=message.account_id)
        start, end = local_day_bounds(account, now)
        used = (
            Message.objects.filter(account=account)
            .counting_against_cap(start, end)
            .exclude(pk=message.pk)
            .count()
        )
        if used >= account.daily_limit:
            raise CapReached(
                f"{account} has used today’s {account.daily_limit} messages; try again tomorrow."
            )
        token = secrets.token_hex(8)
        claimed = Message.objects.filter(pk=message.pk, status=Message.Status.RELEASED).update(
            status=Message.Status.SENDING,
            claimed_at=now,
            claim_token=token,
            attempts=F("attempts") + 1,
            channel=Message.Channel.API,
        )
    if not claimed:
        raise ValueError("This message is no longer in the Outbox.")
    message = Message.objects.select_related("contact").get(pk=message.pk)
    return send_claimed(
        message, account=account, client=client or client_from_settings(), now=now, actor=actor
    )


# --- the reaper --------------------------------------------------------------------------------


def reap_stuck_sends(*, now: datetime.datetime | None = None) -> int:
    """`sending` for longer than the timeout means the worker died mid-send: the message may
    or may not have reached LinkedIn, so it becomes `uncertain` — never resent automatically."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS)
    stuck = list(
        Message.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    if not stuck:
        return 0
    count = Message.objects.filter(pk__in=stuck, status=Status.SENDING).update(
        status=Status.UNCERTAIN,
        last_error="The worker stopped while sending; it may or may not have reached LinkedIn.",
    )
    MessageEvent.objects.bulk_create(
        MessageEvent(message_id=pk, status=Status.UNCERTAIN, note="reaper", at=now) for pk in stuck
    )
    return count
