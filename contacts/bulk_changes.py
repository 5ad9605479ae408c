"""Bulk actions on every contact a filter matches, done by the worker when they are too many for
a web request (BULK_IN_REQUEST_MAX; issue #16): a ContactBulkChange walked by id, a chunk per
transaction, through the same services the contact list's bulk bar calls in the request."""

import datetime
import functools

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from contacts import liveness
from contacts.filters import matching_contacts
from contacts.importing import BatchNotRunnable
from contacts.models import BulkAction, Contact, ContactBulkChange, Stage, Tag, bulk_action_result
from contacts.services import (
    LONG_TASK_SECONDS,
    contacts_add_tag,
    contacts_delete,
    contacts_mark_do_not_contact,
    contacts_remove_tag,
    contacts_set_stage,
    is_active_staff,
    require_permission,
    worker_job_lost,
)
from linkedin_crm import audit, roles

# Contacts a bulk change in the worker changes per transaction. Each chunk commits with the
# change's cursor, so a worker that dies loses at most the chunk in flight, which the resume
# does again; at this size a chunk takes well under a second, webhook events included.
BULK_CHUNK = 2000


def contacts_bulk_enqueue(
    *,
    user,
    action: str,
    filter_params: dict,
    tag: Tag | None = None,
    stage: str = "",
    reason: str = "",
) -> ContactBulkChange:
    """Have the worker apply a bulk action to every contact matching `filter_params` (the
    contact list's filter as filters.params_as_dict keeps it): contacts_bulk_run.

    The rules of the contact list's bulk bar, checked now and again when the worker runs: an
    active staff member may tag, stage and mark contacts; deleting needs contacts.delete_contact.
    Raises ValueError (an unknown action, a missing tag, stage or reason, a filter that is not
    valid) or PermissionDenied, having written nothing.
    """
    _check_bulk_action(action, tag=tag, stage=stage, reason=reason)
    _require_bulk_permission(user, action)
    matching_contacts(filter_params)  # raises ValueError now rather than in the worker
    with transaction.atomic():
        change = ContactBulkChange.objects.create(
            requested_by=user,
            action=action,
            tag=tag,
            stage=stage,
            reason=reason,
            filter_params=filter_params,
            progress_at=timezone.now(),
        )
        transaction.on_commit(lambda: _enqueue_bulk_change(change))
    return change


def _enqueue_bulk_change(change: ContactBulkChange) -> None:
    # Named after the change, so that recovery can tell whether the queue still holds it.
    async_task(
        "contacts.tasks.bulk_change",
        change.pk,
        task_name=change.task_name,
        timeout=LONG_TASK_SECONDS,
    )


def _check_bulk_action(action: str, *, tag: Tag | None, stage: str, reason: str) -> None:
    if action not in BulkAction.values:
        raise ValueError(f"Unknown bulk action {action!r}.")
    if action in (BulkAction.ADD_TAG, BulkAction.REMOVE_TAG) and (tag is None or tag.pk is None):
        raise ValueError("Name the tag.")
    if action == BulkAction.SET_STAGE and stage not in Stage.values:
        raise ValueError(f"Unknown stage {stage!r}.")
    if action == BulkAction.MARK_DNC and not reason.strip():
        raise ValueError("Say why these people must not be contacted.")


def _require_bulk_permission(user, action: str) -> None:
    """The contact list's rule: its bulk bar is for active staff, and deleting needs
    contacts.delete_contact."""
    if action == BulkAction.DELETE:
        require_permission(user, roles.DELETE_CONTACTS)
    elif not is_active_staff(user):
        raise PermissionDenied("Changing contacts in bulk needs an active staff account.")


class _BulkStopped(Exception):
    """A bulk change in the worker cannot go on; the message says why."""


def contacts_bulk_run(*, change_id: int) -> ContactBulkChange:
    """Apply a queued bulk change (the body of the background task) to the contacts its filter
    matches now, by ascending id after `last_pk`, BULK_CHUNK at a time, through the services the
    contact list calls in the request: the same audit events, webhook events and counts.

    Each chunk commits together with the change's cursor and counts, and only while this process
    still holds the change (one that recovery gave up rolls back), so a resume starts exactly
    after the last chunk committed. Resuming is safe beyond that too: those services change a
    contact only once (tagging a tagged contact, setting the stage it has, marking a marked one
    change nothing and record nothing; a deleted contact is not found again), so a contact seen
    twice is neither counted nor recorded twice. Raises BatchNotRunnable for a change that is
    not queued (another delivery of the task claimed it, or it finished).
    """
    change = ContactBulkChange.objects.select_related("requested_by", "tag").get(pk=change_id)
    worker = liveness.current_process()
    # Conditional: of two deliveries of the task (the database broker delivers a task again
    # when its worker died), one runs and the other stops here.
    claimed = ContactBulkChange.objects.filter(
        pk=change.pk, status=ContactBulkChange.Status.QUEUED
    ).update(status=ContactBulkChange.Status.RUNNING, worker=worker, progress_at=timezone.now())
    if not claimed:
        raise BatchNotRunnable(f"Bulk change {change.pk} was claimed or finished meanwhile.")
    mine = ContactBulkChange.objects.filter(
        pk=change.pk, status=ContactBulkChange.Status.RUNNING, worker=worker
    )
    change.refresh_from_db(fields=["rows_done", "changed", "last_pk"])  # where a resume starts
    try:
        # The requester may have lost the right since they asked.
        _require_bulk_permission(change.requested_by, change.action)
        try:
            matching = matching_contacts(change.filter_params).order_by("pk")
        except ValueError as exc:
            raise _BulkStopped(
                f"{exc} any more: a tag or network it names may have been deleted."
            ) from None
        left = matching.filter(pk__gt=change.last_pk).count()
        mine.update(rows=change.rows_done + left, progress_at=timezone.now())
        last_pk = change.last_pk
        while True:
            with transaction.atomic():
                ids = list(
                    matching.filter(pk__gt=last_pk).values_list("pk", flat=True)[:BULK_CHUNK]
                )
                if not ids:
                    break
                changed = _bulk_apply(change, Contact.objects.filter(pk__in=ids))
                if not mine.update(
                    rows_done=F("rows_done") + len(ids),
                    changed=F("changed") + changed,
                    last_pk=ids[-1],
                    progress_at=timezone.now(),
                ):
                    raise BatchNotRunnable(
                        f"Bulk change {change.pk} was given up by recovery; this chunk rolled "
                        "back, and the change resumes after the one before."
                    )
            last_pk = ids[-1]
        mine.update(
            status=ContactBulkChange.Status.DONE,
            rows=F("rows_done"),
            reason="",
            finished_at=timezone.now(),
        )
    except (PermissionDenied, _BulkStopped) as exc:
        _bulk_failed(change, mine, str(exc))
    except BatchNotRunnable:
        raise
    except Exception as exc:
        _bulk_failed(change, mine, f"The change failed ({type(exc).__name__}: {exc}).")
        raise
    change.refresh_from_db()
    return change


def _bulk_apply(change: ContactBulkChange, contacts: QuerySet) -> int:
    """One chunk of a bulk change, by the service the contact list calls; how many changed."""
    actor, via = change.requested_by, audit.Via.PAGE  # asked for on the contact list's page
    match change.action:
        case BulkAction.ADD_TAG:
            return contacts_add_tag(contacts=contacts, tag=_tag_still_there(change))
        case BulkAction.REMOVE_TAG:
            return contacts_remove_tag(contacts=contacts, tag=_tag_still_there(change))
        case BulkAction.SET_STAGE:
            return contacts_set_stage(contacts=contacts, stage=change.stage, actor=actor, via=via)
        case BulkAction.MARK_DNC:
            return contacts_mark_do_not_contact(
                contacts=contacts, reason=change.reason, actor=actor, via=via
            )
        case BulkAction.DELETE:
            return contacts_delete(contacts=contacts, actor=actor, via=via)
    raise _BulkStopped(f"Unknown bulk action {change.action!r}.")


def _tag_still_there(change: ContactBulkChange) -> Tag:
    # The row's SET_NULL does not reach the tag this run holds: look again in each chunk.
    if change.tag is None or not Tag.objects.filter(pk=change.tag.pk).exists():
        raise _BulkStopped("The tag was deleted meanwhile.")
    return change.tag


def _bulk_failed(change: ContactBulkChange, mine: QuerySet, why: str) -> None:
    """Fail the change saying why, and what it did before: the chunks committed stay done."""
    done = mine.values("rows_done", "rows", "changed").first()
    if done is None:
        return  # recovery gave it up meanwhile: it resumes in another run
    if done["rows_done"]:
        result = bulk_action_result(
            change.action, done["changed"], tag=change.tag, stage=change.stage
        )
        outcome = (
            f"It stopped after {done['rows_done']:,} of {done['rows']:,} contacts; what it did "
            f"before stays done: {result}"
        )
    elif change.action == BulkAction.DELETE:
        outcome = "Nothing was deleted."
    else:
        outcome = "Nothing was changed."
    mine.update(
        status=ContactBulkChange.Status.FAILED,
        failure=f"{why} {outcome}",
        reason="",
        finished_at=timezone.now(),
    )


def contact_bulk_changes_recover(*, now: datetime.datetime | None = None) -> int:
    """Queue again the bulk changes whose worker died (process gone, or quiet for
    IMPORT_STALL_SECONDS; queued that long and no longer in the queue), to resume after the
    last chunk they committed; returns how many."""
    now = now or timezone.now()
    resumed = 0
    for change in ContactBulkChange.objects.filter(
        status__in=(ContactBulkChange.Status.QUEUED, ContactBulkChange.Status.RUNNING)
    ):
        if not worker_job_lost(change, now):
            continue
        with transaction.atomic():
            # Conditional on the heartbeat read above: a chunk committed meanwhile has moved
            # it, and the worker is alive after all. A chunk that commits after this finds the
            # change no longer its own and rolls back.
            if ContactBulkChange.objects.filter(
                pk=change.pk, status=change.status, progress_at=change.progress_at
            ).update(status=ContactBulkChange.Status.QUEUED, worker="", progress_at=now):
                transaction.on_commit(functools.partial(_enqueue_bulk_change, change))
                resumed += 1
    return resumed
