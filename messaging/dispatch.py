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

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from messaging import dispatch_sql as sql
from messaging import services
from messaging.linkedin import LinkedInClient, client_from_settings
from messaging.models import LinkedInAccount, Message, MessageEvent, counting_against_cap_sql
from messaging.sending import Claimed, Outcomes, requeue, send_claimed, uuid_text

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
    account, to_send, released, capped = claim(account_id, now=now, result=result)
    result.released += released
    result.claimed += released + len(to_send)
    if capped:
        result.capped_accounts.append(account_id)
    outcomes = Outcomes(account, now)
    try:
        for index, message in enumerate(to_send):
            outcome = send_claimed(
                message, account=account, client=client, now=now, outcomes=outcomes
            )
            setattr(result, outcome, getattr(result, outcome) + 1)
            held = account.hold_until is not None and account.hold_until > now
            if held or account.status != LinkedInAccount.Status.ACTIVE:
                # The account just hit LinkedIn's limit or lost its token: put the rest back.
                rest = to_send[index + 1 :]
                result.retried += requeue(
                    rest, now=now, next_attempt_at=account.hold_until or now, note="account held"
                )
                break
            if outcomes.overdue():
                outcomes.flush()
    finally:
        outcomes.flush()
    return result


def claim(account_id: int, *, now: datetime.datetime, result: TickResult | None = None):
    """Claim, under the account's row lock, what the account may send now.

    Returns (account, messages to send through the API as Claimed, number released to the
    Outbox, whether the daily cap is reached).
    """
    token = secrets.token_hex(8)
    with transaction.atomic():
        account = LinkedInAccount.objects.select_for_update().get(pk=account_id)
        allowed, left, usage = _allowance(account, now)
        if allowed <= 0:
            return account, [], 0, left == 0
        chosen = _fair_share(account.pk, now, allowed, usage)
        if not chosen:
            return account, [], 0, False
        rows = sql.fetch(sql.CANDIDATES.format(ids=sql.placeholders(chosen)), chosen)
        doomed = [row[0] for row in rows if row[1]]
        if doomed:  # do-not-contact is checked right before claiming: never sent, cancelled now
            cancelled = services.messages_cancel_open(
                Message.objects.filter(pk__in=doomed),
                note=services.DO_NOT_CONTACT_NOTE,
                at=now,
            )
            if result is not None:
                result.cancelled += cancelled
        candidates = [row for row in rows if not row[1]]
        if not candidates:
            return account, [], 0, False
        automatic = account.mode == LinkedInAccount.Mode.AUTOMATIC and account.has_messaging_scope
        # Automatic sending needs the member URN; without it the message waits in the Outbox
        # for a person, like in assisted mode.
        api_rows = [row for row in candidates if automatic and row[2]]
        api_ids = [row[0] for row in api_rows]
        outbox_ids = [row[0] for row in candidates if not (automatic and row[2])]
        # The conditional UPDATE is the claim: a message cancelled a moment ago stays cancelled.
        at = sql.db_datetime(now)
        sending = released = 0
        if api_ids:
            sending = sql.execute(
                sql.CLAIM_FOR_SENDING.format(ids=sql.placeholders(api_ids)),
                [Status.SENDING, at, token, Message.Channel.API, account.pk, Status.QUEUED, False]
                + api_ids,
            )
        if outbox_ids:
            released = sql.execute(
                sql.CLAIM_FOR_OUTBOX.format(ids=sql.placeholders(outbox_ids)),
                [Status.RELEASED, at, at, token, account.pk, Status.QUEUED, False] + outbox_ids,
            )
        if sending == len(api_ids) and released == len(outbox_ids):
            # Every candidate was claimed: the events need no look-up.
            sql.insert_events(
                [(pk, Status.SENDING, "", None, at) for pk in api_ids]
                + [(pk, Status.RELEASED, "", None, at) for pk in outbox_ids]
            )
        elif sending + released:
            _record_claims(account.pk, token, now)
        if sending < len(api_ids):  # some were no longer queued: send only what was claimed
            claimed = set(
                Message.objects.filter(
                    pk__in=api_ids, claim_token=token, status=Status.SENDING
                ).values_list("pk", flat=True)
            )
            api_rows = [row for row in api_rows if row[0] in claimed]
        if (sending + released) and (account.min_interval_seconds or account.jitter_seconds):
            _set_next_slot(account, now)
        capped = left - sending - released <= 0
    to_send = [
        # The claim counted this attempt (attempts + 1).
        Claimed(pk, urn, body, uuid_text(key), attempts + 1, token)
        for pk, _, urn, body, key, attempts in api_rows
    ]
    return account, to_send, released, capped


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


def _record_claims(account_id: int, token: str, now: datetime.datetime) -> None:
    """One event per message just claimed (when some of the candidates were no longer queued)."""
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
    sql.execute(sql.SET_NEXT_SEND_AT, [sql.db_datetime(account.next_send_at), account.pk])


class CapReached(Exception):
    """The account's daily cap is used up."""


def outbox_send(*, message: Message, actor, client: LinkedInClient | None = None, now=None) -> str:
    """The member pressed Send on an Outbox draft: send it through the Messages API now (a
    member's own action on an editable draft). The cap is checked again under the account lock.
    Returns the outcome (sent, retried, uncertain, failed)."""
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
                f"{account} has used today’s {account.daily_limit} messages; try again tomorrow."
            )
        token = secrets.token_hex(8)
        # Do-not-contact again in the claim itself: a contact marked since the check above.
        claimed = Message.objects.filter(
            pk=message.pk, status=Message.Status.RELEASED, contact__do_not_contact=False
        ).update(
            status=Message.Status.SENDING,
            claimed_at=now,
            claim_token=token,
            attempts=F("attempts") + 1,
            channel=Message.Channel.API,
        )
    if not claimed:
        if services.outbox_drop_do_not_contact(Message.objects.filter(pk=message.pk)):
            raise ValueError(
                f"{message.contact} is marked do-not-contact: the message was cancelled."
            )
        raise ValueError("This message is no longer in the Outbox.")
    message = Message.objects.select_related("contact").get(pk=message.pk)
    outcomes = Outcomes(account, now)
    try:
        outcome = send_claimed(
            Claimed.from_message(message),
            account=account,
            client=client or client_from_settings(),
            now=now,
            outcomes=outcomes,
            actor=actor,
        )
    finally:
        outcomes.flush()
    return outcome


# --- the reaper --------------------------------------------------------------------------------


def reap_stuck_sends(*, now: datetime.datetime | None = None) -> int:
    """`sending` for longer than the timeout means the worker died mid-send: the message may
    or may not have reached LinkedIn, so it becomes `uncertain` — never resent automatically."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS)
    # Locked while read, so an answer recorded meanwhile either comes first (and the message is
    # no longer stuck) or after: no "reaper" event for a message it did not change.
    with transaction.atomic():
        stuck = list(
            Message.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        if not stuck:
            return 0
        Message.objects.filter(pk__in=stuck).update(
            status=Status.UNCERTAIN,
            last_error="The worker stopped while sending; it may or may not have reached LinkedIn.",
        )
        MessageEvent.objects.bulk_create(
            MessageEvent(message_id=pk, status=Status.UNCERTAIN, note="reaper", at=now)
            for pk in stuck
        )
    return len(stuck)
