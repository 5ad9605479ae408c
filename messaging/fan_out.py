"""The worker's dispatch, spread over its processes (docs/queue.md, "The tick, step by step").

Every minute `dispatch_fan_out` finds the active accounts with due messages and enqueues one
django-q2 task per account, its *turn* (`dispatch_turn`), so that a cluster's N worker
processes send for N accounts at once. A turn claims and sends through
`dispatch.dispatch_account`, whose claim holds only its own account's row lock: the cap, the
window and at-most-once are the dispatcher's, whichever process runs the turn and however many
turns of one account run at once.

A turn claims at most DISPATCH_BATCH_SIZE messages and starts no send after
DISPATCH_TASK_SECONDS (the settings check that its last send still ends inside django-q2's task
timeout). An account left with more it may send now is enqueued again, behind the turns already
waiting, so that accounts take turns on the workers.

No pile-up: `LinkedInAccount.dispatch_enqueued_at` marks an account whose turn is waiting or
running, and the tick enqueues no other until that turn ends or hands on. A marker is only a
saving, never what keeps a message from going twice (the claim does that), so the rule for a
lost turn can be simple: a marker older than MESSAGE_SENDING_TIMEOUT_SECONDS (the reaper's
timeout, more than the task timeout) belongs to a turn that is gone — its worker killed, or
Redis having handed out the task before the worker died — and the tick gives the account a new
turn. The old turn, should it still run (a queue backed up for that long), does its one batch
and then finds the marker no longer its own: it neither hands on nor clears it.
"""

import datetime
import time

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from messaging import dispatch, services
from messaging.linkedin import LinkedInClient, client_from_settings
from messaging.models import LinkedInAccount, Message

TURN_TASK = "messaging.tasks.dispatch_turn"


def dispatch_fan_out(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The scheduled tick: cancel Outbox messages to contacts now do-not-contact, then give
    every active account with due messages and no turn under way a turn of its own.
    Returns how many accounts were due, how many got a turn, and how many were cancelled."""
    now = now or timezone.now()
    cancelled = services.outbox_drop_do_not_contact(Message.objects.all())
    due = dispatch.due_account_ids(now)
    lost_before = now - datetime.timedelta(seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS)
    enqueued = 0
    for pk in due:
        # The conditional UPDATE is the guard: of two ticks at once (two clusters), one marks
        # the account; the marker is committed before its task exists.
        marked = (
            LinkedInAccount.objects.filter(pk=pk)
            .filter(Q(dispatch_enqueued_at__isnull=True) | Q(dispatch_enqueued_at__lt=lost_before))
            .update(dispatch_enqueued_at=now)
        )
        if marked:
            enqueue_turn(pk, now)
            enqueued += 1
    return {"accounts_due": len(due), "enqueued": enqueued, "cancelled": cancelled}


def enqueue_turn(account_id: int, enqueued_at: datetime.datetime) -> None:
    # Not saved when it succeeds: a hundred accounts' turns a minute would push every other
    # task's result out of django-q2's table (it keeps the newest 250); failures are kept.
    async_task(
        TURN_TASK,
        account_id,
        enqueued_at,
        task_name=f"dispatch account {account_id}",
        save=False,
    )


def dispatch_turn(
    account_id: int,
    enqueued_at: datetime.datetime,
    *,
    now: datetime.datetime | None = None,
    client: LinkedInClient | None = None,
) -> dict:
    """One account's turn: claim a batch and send it, then hand the turn on to a new task if
    the account may send more now, or end it. `enqueued_at` is the account's marker as it was
    when this turn was enqueued. Returns the counts of dispatch_tick."""
    now = now or timezone.now()
    deadline = time.monotonic() + settings.DISPATCH_TASK_SECONDS
    if not LinkedInAccount.objects.filter(pk=account_id).exists():
        return {}  # deleted since the tick
    turn = dispatch.dispatch_account(
        account_id,
        now=now,
        client=client or client_from_settings(),
        batch_size=settings.DISPATCH_BATCH_SIZE,
        deadline=deadline,
    )
    mine = LinkedInAccount.objects.filter(pk=account_id, dispatch_enqueued_at=enqueued_at)
    if not turn.unfinished:
        mine.update(dispatch_enqueued_at=None)
    elif mine.update(dispatch_enqueued_at=now):
        enqueue_turn(account_id, now)
    # Otherwise a newer turn owns the account (this one was taken for lost) and carries on.
    return turn.result.as_dict()
