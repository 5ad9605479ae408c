"""The send queue's dispatcher (docs/queue.md): one tick claims what each account may send now,
sends outside any transaction, and records the result.

At most once: a message is claimed by a conditional UPDATE (queued → sending) inside a
transaction that holds the account's row lock (SQLite: an IMMEDIATE transaction), so two
workers can neither claim the same message nor together exceed an account's daily cap. The
API call happens after that transaction commits; what LinkedIn answered decides the next state,
recorded for an account's batch together (sending.py). A message whose outcome is unknown becomes
`uncertain` and is never resent automatically.

A tick runs the same statements for every account; they are written in SQL (dispatch_sql.py)
because building them through the ORM took longer than running them.
"""

import datetime
import logging
import random
import secrets
import zoneinfo
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import ngettext

from messaging import dispatch_sql as sql
from messaging import services, transitions
from messaging.linkedin import LinkedInClient, client_from_settings
from messaging.models import LinkedInAccount, Message, counting_against_cap_sql
from messaging.sending import Claimed, Outcome, Outcomes, requeue, send_claimed, uuid_text
from messaging.transitions import Action, Increment

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
        self.claimed += other.claimed
        self.sent += other.sent
        self.released += other.released
        self.retried += other.retried
        self.uncertain += other.uncertain
        self.failed += other.failed
        self.cancelled += other.cancelled
        self.capped_accounts += other.capped_accounts

    def count(self, outcome: Outcome) -> None:
        match outcome:
            case Outcome.SENT:
                self.sent += 1
            case Outcome.RETRIED:
                self.retried += 1
            case Outcome.UNCERTAIN:
                self.uncertain += 1
            case Outcome.FAILED:
                self.failed += 1


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
    fair share). Message.objects.counting_against_cap() in SQL: the dispatcher asks this for
    every account on every tick, and building the ORM query costs more than running it."""
    start, end = local_day_bounds(account, now)
    used, params = counting_against_cap_sql(account.pk, start, end)
    return dict(sql.fetch(sql.USAGE_BY_STREAM.format(used=used), params))


# --- the tick ----------------------------------------------------------------------------------


def dispatch_tick(
    *,
    now: datetime.datetime | None = None,
    account_id: int | None = None,
    client: LinkedInClient | None = None,
) -> TickResult:
    """One pass of the queue: take Outbox messages to contacts now do-not-contact out, then for
    every active account with due messages claim what it may send now (cancelling queued ones
    whose contact is now do-not-contact), and send or release it."""
    now = now or timezone.now()
    result = TickResult()
    outbox = (
        Message.objects.all()
        if account_id is None
        else Message.objects.filter(account_id=account_id)
    )
    result.cancelled += services.outbox_drop_do_not_contact(outbox)
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


def dispatch_account(
    account_id: int, *, now: datetime.datetime, client: LinkedInClient
) -> TickResult:
    result = TickResult()
    claimed = claim(account_id, now=now)
    account = claimed.account
    result.cancelled += claimed.cancelled
    result.released += claimed.released
    result.claimed += claimed.released + len(claimed.to_send)
    if claimed.capped:
        result.capped_accounts.append(account_id)
    outcomes = Outcomes(account, now)
    try:
        for index, message in enumerate(claimed.to_send):
            result.count(
                send_claimed(message, account=account, client=client, now=now, outcomes=outcomes)
            )
            held = account.hold_until is not None and account.hold_until > now
            if held or account.status != LinkedInAccount.Status.ACTIVE:
                # The account just hit LinkedIn's limit or lost its token: put the rest back.
                rest = claimed.to_send[index + 1 :]
                result.retried += requeue(
                    rest, now=now, next_attempt_at=account.hold_until or now, note="account held"
                )
                break
            if outcomes.overdue():
                outcomes.flush()
    finally:
        outcomes.flush()
    return result


class Candidate(NamedTuple):
    """A due message chosen for this tick, with what claiming and sending it needs."""

    pk: int
    do_not_contact: bool
    member_urn: str
    body: str
    idempotency_key: object
    attempts: int


@dataclass
class Claim:
    account: LinkedInAccount
    to_send: list[Claimed] = field(default_factory=list)  # claimed to send through the API
    released: int = 0  # put in the Outbox
    cancelled: int = 0  # to contacts now do-not-contact
    capped: bool = False  # the daily cap is used up


def claim(account_id: int, *, now: datetime.datetime) -> Claim:
    """Claim, under the account's row lock, what the account may send now: choose the due
    messages (the cap, the window, fair shares), cancel those whose contact is now
    do-not-contact, claim the rest to send through the API or release them to the Outbox."""
    token = secrets.token_hex(8)
    with transaction.atomic():
        account = LinkedInAccount.objects.select_for_update().get(pk=account_id)
        allowance = _allowance(account, now)
        if allowance.now <= 0:
            return Claim(account, capped=allowance.left == 0)
        candidates = _candidates(_fair_share(account.pk, now, allowance.now, allowance.usage))
        result = Claim(account)
        result.cancelled = _cancel_do_not_contact(candidates, now)
        candidates = [c for c in candidates if not c.do_not_contact]
        if not candidates:
            return result
        # Automatic sending needs the member URN; without it the message waits in the Outbox
        # for a person, like in assisted mode.
        automatic = account.mode == LinkedInAccount.Mode.AUTOMATIC and account.has_messaging_scope
        through_api = [c for c in candidates if automatic and c.member_urn]
        to_outbox = [c.pk for c in candidates if not (automatic and c.member_urn)]
        claimed = _claim_for_api(account, through_api, token, now)
        result.released = len(_release_to_outbox(account, to_outbox, token, now))
        if (claimed or result.released) and (
            account.min_interval_seconds or account.jitter_seconds
        ):
            _set_next_slot(account, now)
        result.capped = allowance.left - len(claimed) - result.released <= 0
    result.to_send = [
        # The claim counted this attempt (attempts + 1).
        Claimed(c.pk, c.member_urn, c.body, uuid_text(c.idempotency_key), c.attempts + 1, token)
        for c in through_api
        if c.pk in claimed
    ]
    return result


def _candidates(ids: list[int]) -> list[Candidate]:
    if not ids:
        return []
    return [
        Candidate(*row) for row in sql.fetch(sql.CANDIDATES.format(ids=sql.placeholders(ids)), ids)
    ]


def _cancel_do_not_contact(candidates: list[Candidate], now: datetime.datetime) -> int:
    """Do-not-contact is checked right before claiming: never sent, cancelled now."""
    doomed = [c.pk for c in candidates if c.do_not_contact]
    if not doomed:
        return 0
    return services.messages_cancel_open(
        Message.objects.filter(pk__in=doomed), note=services.DO_NOT_CONTACT_NOTE, at=now
    )


def _claim_for_api(account, candidates: list[Candidate], token: str, now) -> set[int]:
    """The claim is the conditional UPDATE: a message cancelled or held a moment ago stays so.
    Returns the ids claimed."""
    if not candidates:
        return set()
    return set(
        transitions.change(
            Action.CLAIM,
            [c.pk for c in candidates],
            at=now,
            values=_claimed_for_api(now, token),
            where={"account_id": account.pk, "held": False},
        )
    )


def _claimed_for_api(now: datetime.datetime, token: str) -> dict:
    """What claiming a message to send through the API sets: this attempt counts."""
    return {
        "claimed_at": now,
        "claim_token": token,
        "attempts": Increment(1),
        "channel": Message.Channel.API,
    }


def _release_to_outbox(account, ids: list[int], token: str, now) -> list[int]:
    if not ids:
        return []
    return transitions.change(
        Action.RELEASE,
        ids,
        at=now,
        values={"claimed_at": now, "released_at": now, "claim_token": token},
        where={"account_id": account.pk, "held": False},
    )


def _fair_share(account_id: int, now: datetime.datetime, allowed: int, usage: dict) -> list[int]:
    """The due messages to claim, as ids. Fair share: an account's streams of work (one-off
    messages, each campaign) are served round-robin, each oldest first: the first of every
    stream, then the second of every stream, and so on — ties by age, then id. Claiming one
    (staggered), the turn goes to the stream that has had the fewest of today's slots (then
    the one waiting longest, then by name), so a big campaign queued first cannot starve the
    rest.

    Only each stream's first `allowed` due messages can be chosen, and those are all that is
    read: one statement lists the streams, one reads their heads through the index.
    """
    queued = [Status.QUEUED, False]  # not held
    streams = [row[0] for row in sql.fetch(sql.QUEUED_STREAMS, [account_id, *queued])]
    if not streams:
        return []
    at = sql.db_datetime(now)
    branches = " UNION ALL ".join(sql.STREAM_HEAD.format(n=n) for n in range(len(streams)))
    params = []
    for stream in streams:
        params += [account_id, *queued, stream, at, allowed]
    tiebreak = "stream" if allowed == 1 else "id"
    heads = sql.fetch(sql.STREAM_HEADS.format(branches=branches, tiebreak=tiebreak), params)
    if allowed == 1:
        # One head per stream, oldest first (equally old: by stream name).
        if not heads:
            return []
        _, (pk, _) = min(enumerate(heads), key=lambda h: (usage.get(h[1][1], 0), h[0]))
        return [pk]
    turns = Counter()
    order = []
    for position, (pk, stream) in enumerate(heads):
        turns[stream] += 1
        order.append((turns[stream], position, pk))
    order.sort()
    return [pk for _, _, pk in order[:allowed]]


class Allowance(NamedTuple):
    now: int  # how many messages the account may claim now
    left: int | None  # what its daily cap has left (0 while LinkedIn holds it; None: not counted)
    usage: dict[str, int]  # today's used slots, per stream


def _allowance(account: LinkedInAccount, now: datetime.datetime) -> Allowance:
    if account.hold_until and account.hold_until > now:
        return Allowance(0, 0, {})
    if not in_send_window(account, now):
        return Allowance(0, None, {})
    if account.next_send_at and account.next_send_at > now:
        return Allowance(0, None, {})
    usage = usage_today(account, now)
    left = account.daily_limit - sum(usage.values())
    if left <= 0:
        return Allowance(0, 0, usage)
    # Staggering: with a minimum interval, one message per tick (the dispatcher runs every
    # minute); without one, as many as the cap allows.
    return Allowance(1 if account.min_interval_seconds else left, left, usage)


def _set_next_slot(account: LinkedInAccount, now: datetime.datetime) -> None:
    jitter = random.randint(0, account.jitter_seconds) if account.jitter_seconds else 0  # noqa: S311
    account.next_send_at = now + datetime.timedelta(seconds=account.min_interval_seconds + jitter)
    sql.execute(sql.SET_NEXT_SEND_AT, [sql.db_datetime(account.next_send_at), account.pk])


class CapReached(Exception):
    """The account's daily cap is used up."""


def outbox_send(
    *, message: Message, actor, client: LinkedInClient | None = None, now=None
) -> Outcome:
    """The member pressed Send on an Outbox draft: send it through the Messages API now (a
    member's own action on an editable draft). The cap is checked again under the account lock.
    Returns what became of it."""
    now = now or timezone.now()
    services.check_manageable_by(message.account, actor)
    if services.outbox_drop_do_not_contact(Message.objects.filter(pk=message.pk)):
        raise ValueError(f"{message.contact} is marked do-not-contact: the message was cancelled.")
    with transaction.atomic():
        account = LinkedInAccount.objects.select_for_update().get(pk=message.account_id)
        start, end = local_day_bounds(account, now)
        # What LinkedIn gets today is what the cap limits; the other Outbox messages are
        # waiting for the member, like this one.
        used = Message.objects.filter(account=account).sent_between(start, end).count()
        if used >= account.daily_limit:
            raise CapReached(
                ngettext(
                    "%(account)s has used today’s %(count)d message; try again tomorrow.",
                    "%(account)s has used today’s %(count)d messages; try again tomorrow.",
                    account.daily_limit,
                )
                % {"account": account, "count": account.daily_limit}
            )
        token = secrets.token_hex(8)
        # Do-not-contact again in the claim itself: a contact marked since the check above.
        claimed = transitions.change(
            Action.SEND_FROM_OUTBOX,
            Message.objects.filter(pk=message.pk, contact__do_not_contact=False),
            actor=actor,
            at=now,
            values=_claimed_for_api(now, token),
        )
    if not claimed:
        if services.outbox_drop_do_not_contact(Message.objects.filter(pk=message.pk)):
            raise ValueError(
                f"{message.contact} is marked do-not-contact: the message was cancelled."
            )
        raise ValueError("This message is no longer in the Outbox.")
    message = Message.objects.select_related("contact").get(pk=message.pk)
    outcomes = Outcomes(account, now, actor=actor)
    try:
        outcome = send_claimed(
            Claimed.from_message(message),
            account=account,
            client=client or client_from_settings(),
            now=now,
            outcomes=outcomes,
        )
    finally:
        outcomes.flush()
    return outcome


# --- the reaper --------------------------------------------------------------------------------


def reap_stuck_sends(*, now: datetime.datetime | None = None) -> int:
    """`sending` for longer than the timeout means the worker died mid-send: the message may
    or may not have reached LinkedIn, so it becomes `uncertain` — never resent automatically.
    An answer recorded meanwhile comes first (the message is no longer `sending`) or after
    (LinkedIn's answer overrides the guess): the conditional UPDATE decides."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS)
    reaped = transitions.change(
        Action.REAP,
        Message.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff),
        note="reaper",
        at=now,
        values={
            "last_error": "The worker stopped while sending; it may or may not have reached "
            "LinkedIn."
        },
    )
    return len(reaped)
