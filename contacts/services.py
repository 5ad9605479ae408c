"""Writes on contacts shared by the pages, the admin and commands."""

import csv
import datetime
import hashlib
import io
import itertools
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet, UniqueConstraint
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.signing import BadSignature, SignedPackage
from django_q.tasks import async_task

from contacts import liveness
from contacts.filters import matching_contacts
from contacts.importing import (
    BatchNotRunnable,
    ImportPlan,
    batch_from_plan,
    plan_import,
    record_import,
    run_plan,
)
from contacts.linkedin_csv import RejectedFile, check_connections_file, parse_connections
from contacts.models import (
    EDITABLE_FIELDS,
    Connection,
    Contact,
    ContactAlias,
    ContactBulkChange,
    ContactExport,
    ImportBatch,
    ImportChange,
    ImportUpload,
    MergeLog,
    Network,
    Note,
    Stage,
    Tag,
    WorkerJob,
)
from contacts.resources import BYTE_ORDER_MARK, ContactResource
from linkedin_crm import audit, roles, webhooks
from linkedin_crm.db import CHUNK, chunks, insert_rows

# How many ids of deleted contacts an audit event lists.
AUDITED_IDS = 1000


# What a refused act says, by the permission it needs.
_NEEDS = {
    roles.EXPORT_CONTACTS: "Exporting contacts needs the “Can export contacts” permission",
    roles.MERGE_CONTACTS: "Merging contacts needs the “Can merge contacts” permission",
    roles.DELETE_CONTACTS: "Deleting contacts needs the “Can delete contact” permission",
    roles.ERASE_CONTACTS: (
        "Erasing a person or exporting everything stored about them needs the “Can erase a "
        "person and export everything stored about them” permission"
    ),
}


def require_permission(user, permission: str) -> None:
    """Raise PermissionDenied unless `user` is an active staff member holding `permission`.
    Services call it before they act, so a page, an admin action and a command obey the same
    rule."""
    if not is_active_staff(user) or not user.has_perm(permission):
        raise PermissionDenied(f"{_NEEDS[permission]} (Managers and Admins have it).")


def require_importable(user, network: Network) -> None:
    """Raise PermissionDenied unless `user` may import into (and undo imports of) `network`,
    which may be a member's own network not saved yet."""
    if is_active_staff(user):
        if network.pk is None:
            allowed = network.owner_id == user.pk or user.has_perm(roles.IMPORT_ANY_NETWORK)
        else:
            allowed = Network.objects.importable_by(user).filter(pk=network.pk).exists()
        if allowed:
            return
    name = network.name or f"{network.owner}'s network"
    raise PermissionDenied(
        f"You may import into your own network only; importing into “{name}” or undoing "
        "its imports needs the “Can import into and undo imports of any member's network” "
        "permission (Managers and Admins have it)."
    )


def is_active_staff(user) -> bool:
    return user is not None and bool(getattr(user, "pk", None)) and user.is_active and user.is_staff


def _ids(contacts: QuerySet) -> list[int]:
    return list(contacts.order_by().values_list("pk", flat=True))


class ContactChanged(Exception):
    """The contact changed, or was deleted, after the edit form was loaded."""


def contact_update(
    *,
    contact: Contact,
    fields: Iterable[str],
    tags: Iterable[Tag] | None,
    version: datetime.datetime,
    user=None,
    change_message: list | str = "",
) -> Contact:
    """Save an edit made on a form loaded when the contact's updated_at was `version`: the
    given fields of `contact` (already validated) and its tags (None: left as they are).

    Raises ContactChanged, having written nothing, when anything changed the contact since.
    The edit is recorded in the admin's history (LogEntry) under `user`, so that a later
    conflict can say who made it.
    """
    contact.refresh_derived_fields()
    # Never the version this edit replaces, even with a coarse or frozen clock: a form loaded
    # before this edit must see it as a change.
    now = max(timezone.now(), version + datetime.timedelta(microseconds=1))
    values = {name: getattr(contact, name) for name in [*fields, *Contact.DERIVED_FIELDS]}
    with transaction.atomic():
        # For the audit log: a stage changed on this form is recorded like one changed with
        # the stage buttons. (If the row changed since, the version check below refuses.)
        previous_stage = (
            Contact.objects.filter(pk=contact.pk).values_list("stage", flat=True).first()
            if "stage" in values
            else None
        )
        # Check and write in one statement: of two forms loaded at the same version, the
        # second to save matches no row (on PostgreSQL it waits for the first's row lock and
        # then sees the new updated_at), so it cannot revert the first.
        saved = Contact.objects.filter(pk=contact.pk, updated_at=version).update(
            **values, updated_at=now
        )
        if not saved:
            raise ContactChanged
        if previous_stage is not None and previous_stage != contact.stage:
            audit.record(
                audit.Action.STAGE_CHANGE,
                actor=user,
                obj=contact,
                detail={"from": previous_stage, "to": contact.stage},
                at=now,
            )
        if tags is not None:
            contact.tags.set(list(tags))
        webhooks.emit(webhooks.EventType.CONTACT_UPDATED, [contact.webhook_data()], at=now)
        if getattr(user, "pk", None):
            LogEntry.objects.log_actions(
                user.pk, [contact], CHANGE, change_message, single_object=True
            )
    contact.updated_at = now
    return contact


def contact_edit_inline(
    *,
    contact: Contact,
    version: datetime.datetime,
    stage: str | None = None,
    tag_names: list[str] | None = None,
    user=None,
) -> Contact:
    """A stage or the tags changed in a row of the contact list (None: not changed), checked
    against `version` like an edit on the contact's page. Raises ContactChanged, having written
    nothing (no tag created either), when anything changed the contact since."""
    fields, changed = [], []
    if stage is not None:
        if stage not in Stage.values:
            raise ValueError(f"Unknown stage {stage!r}")
        contact.stage = stage
        fields.append("stage")
        changed.append("Stage")
    with transaction.atomic():
        tags = None
        if tag_names is not None:
            tags = [Tag.get_or_create_named(name) for name in tag_names]
            changed.append("Tags")
        return contact_update(
            contact=contact,
            fields=fields,
            tags=tags,
            version=version,
            user=user,
            change_message=[{"changed": {"fields": changed}}],
        )


def contacts_add_tag(*, contacts: QuerySet, tag: Tag) -> int:
    """Tag every contact in the queryset; returns how many gained the tag."""
    through = Contact.tags.through
    ids = _ids(contacts)
    already = set(
        through.objects.filter(
            tag=tag, contact_id__in=contacts.order_by().values("pk")
        ).values_list("contact_id", flat=True)
    )
    new_ids = [pk for pk in ids if pk not in already]
    with transaction.atomic():
        insert_rows(
            through,
            ["contact_id"],
            [(pk,) for pk in new_ids],
            shared={"tag_id": tag.pk},
            ignore_conflicts=True,
        )
        _touch(new_ids)
    return len(new_ids)


def contacts_remove_tag(*, contacts: QuerySet, tag: Tag) -> int:
    through = Contact.tags.through
    with transaction.atomic():
        links = through.objects.filter(tag=tag, contact_id__in=contacts.order_by().values("pk"))
        ids = list(links.values_list("contact_id", flat=True))
        links.delete()
        _touch(ids)
    return len(ids)


def contacts_set_stage(
    *, contacts: QuerySet, stage: str, actor=None, via: str = audit.Via.PAGE
) -> int:
    """Move the contacts to `stage`; returns how many changed. Each one that changed gets an
    audit event (who, from which stage), which its timeline shows."""
    if stage not in Stage.values:
        raise ValueError(f"Unknown stage {stage!r}")
    changing = list(contacts.exclude(stage=stage).order_by().values_list("pk", "stage"))
    now = timezone.now()
    with transaction.atomic():
        for chunk in chunks(changing, CHUNK):
            Contact.objects.filter(pk__in=[pk for pk, _ in chunk]).update(
                stage=stage, updated_at=now
            )
        audit.record_each(
            audit.Action.STAGE_CHANGE,
            model=Contact,
            objects=[(pk, {"from": old, "to": stage}) for pk, old in changing],
            actor=actor,
            via=via,
            at=now,
        )
        contacts_updated_emit([pk for pk, _ in changing], at=now)
    return len(changing)


def contacts_mark_do_not_contact(
    *, contacts: QuerySet, reason: str, actor=None, via: str = audit.Via.PAGE, now=None
) -> int:
    """Mark the contacts do-not-contact with `reason`; returns how many were not already.
    Each gets an audit event without the reason, which may name the person's circumstances
    (the log is kept for ever)."""
    now = now or timezone.now()
    ids = _ids(contacts.filter(do_not_contact=False))
    with transaction.atomic():
        _update_recorded(
            ids,
            audit.Action.DO_NOT_CONTACT,
            actor=actor,
            via=via,
            now=now,
            do_not_contact=True,
            dnc_reason=reason,
            dnc_at=now,
        )
        webhooks.emit(webhooks.EventType.CONTACT_OPTED_OUT, [{"id": pk} for pk in ids], at=now)
    return len(ids)


def contacts_allow_contact(*, contacts: QuerySet, actor=None, via: str = audit.Via.PAGE) -> int:
    """Lift do-not-contact from the contacts; returns how many had it."""
    now = timezone.now()
    ids = _ids(contacts.filter(do_not_contact=True))
    with transaction.atomic():
        _update_recorded(
            ids,
            audit.Action.CONTACT_ALLOWED,
            actor=actor,
            via=via,
            now=now,
            do_not_contact=False,
            dnc_reason="",
            dnc_at=None,
        )
        contacts_updated_emit(ids, at=now)
    return len(ids)


def _update_recorded(ids: list[int], action: str, *, actor, via: str, now, **values) -> None:
    """Set `values` (and updated_at) on the contacts `ids`, in chunks, and record `action` in
    the audit log for each of them. Call it in a transaction."""
    for chunk in chunks(ids, CHUNK):
        Contact.objects.filter(pk__in=chunk).update(updated_at=now, **values)
    audit.record_each(
        action, model=Contact, objects=[(pk, {}) for pk in ids], actor=actor, via=via, at=now
    )


def contact_pipeline_changes_record(
    *, contact: Contact, previous: dict, actor, via: str = audit.Via.ADMIN
) -> None:
    """Audit the stage and do-not-contact changes of a contact saved as a whole (the admin's
    change form), as the services that change only those record them. `previous` holds the
    saved `stage` and `do_not_contact`. Call it in the save's transaction."""
    if previous["stage"] != contact.stage:
        audit.record(
            audit.Action.STAGE_CHANGE,
            actor=actor,
            obj=contact,
            via=via,
            detail={"from": previous["stage"], "to": contact.stage},
        )
    if previous["do_not_contact"] != contact.do_not_contact:
        action = (
            audit.Action.DO_NOT_CONTACT if contact.do_not_contact else audit.Action.CONTACT_ALLOWED
        )
        audit.record(action, actor=actor, obj=contact, via=via)


def contacts_delete(*, contacts: QuerySet, actor, via: str = audit.Via.PAGE) -> int:
    """Delete the contacts with their connections, notes and tag links; returns the count.
    Needs contacts.delete_contact."""
    require_permission(actor, roles.DELETE_CONTACTS)
    ids = _ids(contacts)
    if not ids:
        return 0
    with transaction.atomic():
        # One contact is named in the log (by id); many are counted, with their ids up to a
        # limit that keeps the row small.
        only = Contact(pk=ids[0]) if len(ids) == 1 else None
        audit.record(
            audit.Action.CONTACTS_DELETE,
            actor=actor,
            obj=only,
            via=via,
            counts={"contacts": len(ids)},
            detail={} if only else {"ids": ids[:AUDITED_IDS]},
        )
        for chunk in chunks(ids, CHUNK):
            Contact.objects.filter(pk__in=chunk).delete()
    return len(ids)


def note_add(*, contact: Contact, author, body: str) -> Note:
    return Note.objects.create(contact=contact, author=author, body=body.strip())


def _touch(ids: list[int]) -> None:
    """Tags changed on these contacts: a new version (an open edit form sees the change), and
    contact.updated for webhook subscribers."""
    now = timezone.now()
    for chunk in chunks(ids, CHUNK):
        Contact.objects.filter(pk__in=chunk).update(updated_at=now)
    contacts_updated_emit(ids, at=now)


def contacts_updated_emit(ids: list[int], *, at: datetime.datetime | None = None) -> int:
    """contact.updated for contacts changed other than on their edit form (in bulk, on the
    board, in the admin), each as it is now; read only when someone subscribes. Call it in the
    change's transaction."""

    def data():
        for chunk in chunks(ids, CHUNK):
            yield from (
                Contact.objects.filter(pk__in=chunk).order_by("pk").values(*Contact.WEBHOOK_FIELDS)
            )

    return webhooks.emit(webhooks.EventType.CONTACT_UPDATED, data, at=at) if ids else 0


# --- imports ---------------------------------------------------------------------------------


class StalePreview(Exception):
    """The contacts changed between a preview and its confirmation."""


def import_preview(
    *,
    data: bytes,
    file_name: str,
    user,
    network: Network,
    tags: Iterable[Tag] = (),
    keep_existing: bool = False,
) -> ImportBatch:
    """Parse and plan an upload without changing any contact; returns the pending batch, its
    plan stored for the confirm step.

    Raises RejectedFile (nothing is written) when the file cannot be imported, and
    PermissionDenied when `user` may not import into `network`.
    """
    require_importable(user, network)
    batch, _ = _plan_batch(
        data=data,
        file_name=file_name,
        user=user,
        network=network,
        tags=tags,
        keep_existing=keep_existing,
        store_plan=True,
    )
    # Without the plan, which is stored now: a 30,000-row plan is ~50 MB in memory that
    # neither the preview page nor the confirm step (it reads the stored one) needs.
    return ImportBatch.objects.defer("plan").get(pk=batch.pk)


# The queue's default limit is 120 s (Q_CLUSTER); a preview, undo or export at 300,000 contacts
# on a busy machine can take longer. django-q2 kills a task at its limit (recovery then settles
# it as a dead worker), and the database broker delivers a still-running task again after
# Q_CLUSTER["retry"], which the claims above make harmless.
LONG_TASK_SECONDS = 600


def import_preview_enqueue(
    *,
    data: bytes,
    file_name: str,
    user,
    network: Network,
    tags: Iterable[Tag] = (),
    keep_existing: bool = False,
) -> ImportBatch:
    """Store an upload and have the worker parse and plan it (import_plan_run); returns the
    batch, "preparing the preview" until the worker has written its plan.

    Only what needs no row is checked here (size, type, header): reading the rows of a large
    file takes longer than a web request may. Raises RejectedFile for a file that is not a
    Connections.csv and PermissionDenied when `user` may not import into `network`; nothing
    is written then.
    """
    require_importable(user, network)
    check_connections_file(data, max_bytes=settings.IMPORT_MAX_BYTES)
    now = timezone.now()
    with transaction.atomic():
        if network.pk is None:
            network.save()
        batch = ImportBatch.objects.create(
            file_name=file_name[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            network=network,
            uploaded_by=user if getattr(user, "pk", None) else None,
            keep_existing=keep_existing,
            status=ImportBatch.Status.PLANNING,
            created_at=now,
            progress_at=now,
        )
        batch.tags.set(list(tags))
        ImportUpload.objects.create(batch=batch, data=data, created_at=now)
        _enqueue_plan(batch)
    return batch


def import_preview_upload(upload_form, *, user, in_worker: bool) -> ImportBatch:
    """The file of a valid ImportUploadForm previewed: planned here (import_preview) or, with
    `in_worker`, stored for the worker to plan (import_preview_enqueue). Into the form's
    network, else the user's default one, with its tags created as needed; a refused file
    (RejectedFile) leaves nothing behind, not the network, not the tags."""
    data = upload_form.cleaned_data
    preview = import_preview_enqueue if in_worker else import_preview
    with transaction.atomic():
        return preview(
            data=data["file"].read(),
            file_name=data["file"].name,
            user=user,
            network=data["network"] or Network.objects.default_for(user),
            tags=[Tag.get_or_create_named(name) for name in data["tags"]],
            keep_existing=data["keep_existing"],
        )


def _enqueue_plan(batch: ImportBatch) -> None:
    # Named after the batch, so that recovery can tell whether the queue still holds it.
    transaction.on_commit(
        lambda: async_task(
            "contacts.tasks.plan_import",
            batch.pk,
            task_name=batch.plan_task_name,
            timeout=LONG_TASK_SECONDS,
        )
    )


def import_preview_retry(*, batch: ImportBatch, actor) -> ImportBatch:
    """Prepare a failed preview again from its stored upload (its worker stopped, or the
    database broke); raises ValueError saying why not."""
    require_importable(actor, batch.network)
    if not ImportUpload.objects.filter(batch=batch).exists():
        raise ValueError(
            "The uploaded file is no longer stored (uploads are kept for "
            f"{settings.IMPORT_UPLOAD_KEEP_HOURS} hours); upload it again."
        )
    with transaction.atomic():
        retried = ImportBatch.objects.filter(
            pk=batch.pk, status=ImportBatch.Status.PLAN_FAILED
        ).update(
            status=ImportBatch.Status.PLANNING,
            failure="",
            worker="",
            rows=0,
            rows_done=0,
            progress_at=timezone.now(),
        )
        if not retried:
            raise ValueError("Only a preview that failed can be tried again.")
        _enqueue_plan(batch)
    batch.refresh_from_db()
    return batch


def import_plan_run(*, batch_id: int) -> ImportBatch:
    """Parse and plan a stored upload (the body of the background task) and write the plan
    with its counts in one update, so a page never shows half a plan.

    Delivered again after its worker died (the database broker does so), it finds the batch
    failed by recovery, or fails it first when the worker's process is gone, and raises
    BatchNotRunnable; the upload stays for "Try again". A file that cannot be imported leaves
    the batch failed with the RejectedFile's message.
    """
    batch = ImportBatch.objects.defer("plan").select_related("network").get(pk=batch_id)
    if batch.status == ImportBatch.Status.PLANNING and batch.worker:
        import_batches_recover(batches=ImportBatch.objects.filter(pk=batch.pk))
        batch.refresh_from_db()
    worker = liveness.current_process()
    started = timezone.now()
    # Conditional: of two deliveries of the task one plans; a batch cancelled or failed
    # meanwhile is left alone.
    claimed = ImportBatch.objects.filter(
        pk=batch.pk, status=ImportBatch.Status.PLANNING, worker=""
    ).update(worker=worker, progress_at=started)
    if not claimed:
        batch.refresh_from_db()
        raise BatchNotRunnable(
            f"Import batch {batch.pk} ({batch.file_name}) is not waiting for its preview: "
            f"{batch.get_status_display().lower()}."
        )
    mine = ImportBatch.objects.filter(
        pk=batch.pk, status=ImportBatch.Status.PLANNING, worker=worker
    )
    try:
        data = bytes(ImportUpload.objects.get(batch=batch).data)
        parsed = parse_connections(data, max_bytes=settings.IMPORT_MAX_BYTES)
        mine.update(rows=parsed.total_rows, progress_at=timezone.now())

        def progress(done: int) -> None:
            # A heartbeat for recovery and the progress bar; its own tiny autocommit update.
            mine.update(rows_done=done, progress_at=timezone.now())

        plan = plan_import(
            parsed, network=batch.network, keep_existing=batch.keep_existing, progress=progress
        )
    except RejectedFile as exc:
        _plan_failed(mine, str(exc))
        batch.refresh_from_db()
        return batch
    except Exception as exc:
        _plan_failed(
            mine,
            f"The preview could not be prepared ({type(exc).__name__}: {exc}). Nothing was "
            "changed; try again.",
        )
        raise
    planned = batch_from_plan(
        plan,
        parsed,
        file_name=batch.file_name,
        user=batch.uploaded_by,
        network=batch.network,
        sha256=batch.sha256,
        size=batch.size,
    )
    fields = [
        "file_format", "encoding", "rows", "created", "updated", "unchanged", "skipped_empty",
        "invalid", "duplicates_in_file", "suppressed", "errors", "plan",
    ]  # fmt: skip
    # created_at is what the confirm step checks contacts against (_check_fresh): the time
    # the plan began reading them, not the upload's.
    done = mine.update(
        **{name: getattr(planned, name) for name in fields},
        status=ImportBatch.Status.PENDING,
        rows_done=planned.rows,
        created_at=started,
        progress_at=timezone.now(),
    )
    batch.refresh_from_db()
    if not done:
        raise BatchNotRunnable(
            f"Import batch {batch.pk} was stopped by recovery before its preview was written."
        )
    return batch


def _plan_failed(mine: QuerySet, reason: str) -> None:
    mine.update(
        status=ImportBatch.Status.PLAN_FAILED, failure=reason[:2000], finished_at=timezone.now()
    )


def import_uploads_clean(*, now: datetime.datetime | None = None) -> int:
    """Housekeeping: delete the stored uploads older than IMPORT_UPLOAD_KEEP_HOURS, the
    previews nobody confirmed or cancelled by then, exports and finished bulk changes; returns
    how many uploads went."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.IMPORT_UPLOAD_KEEP_HOURS)
    abandoned = ImportBatch.objects.filter(
        created_at__lt=cutoff,
        status__in=(ImportBatch.Status.PENDING, ImportBatch.Status.PLAN_FAILED),
    )
    with transaction.atomic():
        gone, _ = ImportUpload.objects.filter(created_at__lt=cutoff).delete()
        # A preview's plan is megabytes of JSON and goes stale as contacts change.
        abandoned.delete()
        ContactExport.objects.filter(created_at__lt=cutoff).delete()
        # A bulk change's page is for following it; its filter may hold a search for a
        # person's name, which should not outlive the need.
        ContactBulkChange.objects.filter(
            created_at__lt=cutoff,
            status__in=(ContactBulkChange.Status.DONE, ContactBulkChange.Status.FAILED),
        ).delete()
    return gone


def _plan_batch(*, data, file_name, user, network, tags, keep_existing, store_plan):
    parsed = parse_connections(data, max_bytes=settings.IMPORT_MAX_BYTES)
    plan = plan_import(parsed, network=network, keep_existing=keep_existing)
    batch = batch_from_plan(
        plan,
        parsed,
        file_name=file_name,
        user=user,
        network=network,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    if not store_plan:
        batch.plan = None
    with transaction.atomic():
        batch.save()
        batch.tags.set(list(tags))
    return batch, plan


def import_confirm(*, batch: ImportBatch, actor, via: str = audit.Via.PAGE) -> ImportBatch:
    """Apply a previewed batch: now when small, in a django-q2 task when large. `actor` must
    be allowed to import into the batch's network.

    Raises StalePreview (the batch is then failed) when contacts the plan touches changed
    since the preview. A large batch is checked by the worker instead, which fails it with the
    same reason: checking 100,000 contacts takes longer than a web request may.
    """
    require_importable(actor, batch.network)
    with transaction.atomic():
        claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PENDING)
        # Conditional update: two clicks on "Confirm" must not import the file twice.
        if not claimed.update(
            status=ImportBatch.Status.QUEUED,
            progress_at=timezone.now(),
            confirmed_by=actor if getattr(actor, "pk", None) else None,
        ):
            raise ValueError("This import was confirmed already.")
        # The plan holds all the import needs; the file's bytes are no longer wanted.
        ImportUpload.objects.filter(batch=batch).delete()
    # Without the plan: a 120,000-row plan is tens of megabytes of JSON, which only the
    # worker (or a small batch's freshness check, below) needs to read.
    batch = ImportBatch.objects.defer("plan").get(pk=batch.pk)
    if batch.rows > settings.IMPORT_ASYNC_ROWS:
        # Named after the batch, so that recovery can tell whether the queue still holds it.
        transaction.on_commit(
            lambda: async_task(
                "contacts.tasks.run_import", batch.pk, via, task_name=batch.task_name
            )
        )
        return batch
    _go_ahead(batch, actor=actor, via=via)
    return import_run(batch_id=batch.pk)


def _go_ahead(batch: ImportBatch, *, actor, via: str) -> None:
    """Check the confirmed batch's preview is still true, failing the batch if not, and record
    the import, with the counts the actor confirmed, once it is sure to go ahead."""
    try:
        _check_fresh(batch)
    except StalePreview:
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.QUEUED).update(
            status=ImportBatch.Status.FAILED,
            failure=(
                "Contacts changed after this preview (another import or an edit), so it was "
                "not applied. Upload the file again for a fresh preview."
            ),
            plan=None,
            finished_at=timezone.now(),
        )
        batch.refresh_from_db()
        raise
    record_import(batch, actor=actor, via=via)


def import_run(*, batch_id: int, via: str | None = None) -> ImportBatch:
    """Apply the stored plan of a confirmed batch (the body of the background task).

    With `via` (the interface it was confirmed in), the batch is a large one whose preview the
    worker checks and whose import it records first (see import_confirm); without, that was
    done already. Raises BatchNotRunnable for a batch that is not queued, and StalePreview
    for one whose contacts changed since its preview. The task can be delivered again
    after its worker died (the database broker does so); it must then be recorded as failed,
    with the reason, rather than as a success that imported nothing. A running batch whose
    worker is gone is marked failed on the way, so that it can be undone.
    """
    batch = ImportBatch.objects.defer("plan").get(pk=batch_id)
    if batch.status == ImportBatch.Status.RUNNING:
        import_batches_recover(batches=ImportBatch.objects.filter(pk=batch.pk))
        batch.refresh_from_db()
    if batch.status != ImportBatch.Status.QUEUED:
        raise BatchNotRunnable(_not_runnable(batch))
    batch.refresh_from_db(fields=["plan"])
    if via is not None:
        _go_ahead(batch, actor=batch.confirmed_by, via=via)
    return run_plan(batch, ImportPlan.from_json(batch.plan))


def _not_runnable(batch: ImportBatch) -> str:
    name = f"Import batch {batch.pk} ({batch.file_name})"
    match batch.status:
        case ImportBatch.Status.RUNNING:
            return (
                f"{name} is being imported by {batch.worker or 'another process'} (row "
                f"{batch.rows_done:,} of {batch.rows:,}); it is not imported twice."
            )
        case ImportBatch.Status.FAILED:
            return f"{name} failed and is not imported again: {batch.failure}"
        case ImportBatch.Status.DONE:
            return f"{name} was imported already."
        case ImportBatch.Status.UNDONE:
            return f"{name} was imported and undone; it is not imported again."
        case _:
            return f"{name} was not confirmed, so it is not imported."


def import_file(
    *,
    data: bytes,
    file_name: str,
    user,
    network: Network,
    tags: Iterable[Tag] = (),
    keep_existing: bool = False,
    via: str = audit.Via.COMMAND,
) -> ImportBatch:
    """Plan and apply at once, in this process (the command's path): the plan stays in
    memory instead of making a round trip through the database as JSON."""
    require_importable(user, network)
    batch, plan = _plan_batch(
        data=data,
        file_name=file_name,
        user=user,
        network=network,
        tags=tags,
        keep_existing=keep_existing,
        store_plan=False,
    )
    batch = run_plan(batch, plan)
    record_import(batch, actor=user, via=via)
    return batch


def _check_fresh(batch: ImportBatch) -> None:
    plan = ImportPlan.from_json(batch.plan)
    known = [entry["contact"] for entry in plan.updates + plan.unchanged]
    for ids in chunks(known, CHUNK):
        current = Contact.objects.filter(pk__in=ids, updated_at__lte=batch.created_at).count()
        if current != len(ids):
            raise StalePreview
    urls = [e["values"]["profile_url"] for e in plan.creates if e["values"]["profile_url"]]
    for chunk in chunks(urls, CHUNK):
        if Contact.objects.filter(profile_url__in=chunk).exists():
            raise StalePreview


def import_batch_undo(
    *,
    batch: ImportBatch,
    actor,
    via: str = audit.Via.PAGE,
    now: datetime.datetime | None = None,
) -> dict:
    """Undo an import exactly: delete the contacts it created, restore the ones it updated.

    A finished batch, or a failed one: what its committed chunks wrote is undone. A batch
    still marked queued or running whose worker died is marked failed first (see
    import_batches_recover); one whose worker is alive is refused.

    Contacts created by the batch that have gained notes (or anything else that points at
    them: messages, enrollments) since are kept and listed. A field changed again after the
    import keeps its newer value and is listed too. `actor` must be allowed to import into the
    batch's network.
    """
    require_importable(actor, batch.network)
    _settle_before_undo(batch, now)
    with transaction.atomic():
        # Conditional: of two undos at once (two tabs, the page and the command) one undoes.
        if not ImportBatch.objects.filter(pk=batch.pk, status__in=_UNDOABLE).update(
            status=ImportBatch.Status.UNDONE
        ):
            batch.refresh_from_db()
            raise ValueError(batch.undo_refusal)
        report = _undo_writes(batch)
        batch.status = ImportBatch.Status.UNDONE
        batch.undo_report = report
        batch.save(update_fields=["status", "undo_report"])
        _record_undo(batch, report, actor=actor, via=via)
    return report


_UNDOABLE = (ImportBatch.Status.DONE, ImportBatch.Status.FAILED)


def _settle_before_undo(batch: ImportBatch, now: datetime.datetime | None) -> None:
    if batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING):
        import_batches_recover(batches=ImportBatch.objects.filter(pk=batch.pk), now=now)
        batch.refresh_from_db()
    if batch.status not in _UNDOABLE:
        raise ValueError(batch.undo_refusal)


def import_undo_enqueue(
    *, batch: ImportBatch, actor, via: str = audit.Via.PAGE, now: datetime.datetime | None = None
) -> ImportBatch:
    """Have the worker undo an import (import_undo_run): undoing 100,000 rows takes longer
    than a web request may. The same rules as import_batch_undo, checked now; raises
    ValueError saying why a batch cannot be undone."""
    require_importable(actor, batch.network)
    _settle_before_undo(batch, now)
    with transaction.atomic():
        # Conditional, as in import_batch_undo: two clicks queue one undo.
        if not ImportBatch.objects.filter(pk=batch.pk, status__in=_UNDOABLE).update(
            status=ImportBatch.Status.UNDOING,
            worker="",
            progress_at=now or timezone.now(),
            undo_requested_by=actor,
            undo_report={},
        ):
            batch.refresh_from_db()
            raise ValueError(batch.undo_refusal)
        transaction.on_commit(
            lambda: async_task(
                "contacts.tasks.undo_import",
                batch.pk,
                via,
                task_name=batch.undo_task_name,
                timeout=LONG_TASK_SECONDS,
            )
        )
    batch.refresh_from_db()
    return batch


def import_undo_run(*, batch_id: int, via: str = audit.Via.PAGE) -> dict:
    """Undo a batch queued by import_undo_enqueue (the body of the background task), in one
    transaction: a worker killed half-way leaves nothing undone, and recovery puts the batch
    back to be undone again. Raises BatchNotRunnable for a batch not waiting for its undo."""
    batch = ImportBatch.objects.defer("plan").select_related("network").get(pk=batch_id)
    if batch.status == ImportBatch.Status.UNDOING and batch.worker:
        import_batches_recover(batches=ImportBatch.objects.filter(pk=batch.pk))
        batch.refresh_from_db()
    worker = liveness.current_process()
    claimed = ImportBatch.objects.filter(
        pk=batch.pk, status=ImportBatch.Status.UNDOING, worker=""
    ).update(worker=worker, progress_at=timezone.now())
    if not claimed:
        batch.refresh_from_db()
        raise BatchNotRunnable(
            f"Import batch {batch.pk} ({batch.file_name}) is not waiting for an undo: "
            f"{batch.get_status_display().lower()}."
        )
    batch.refresh_from_db()
    mine = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.UNDOING, worker=worker)
    try:
        with transaction.atomic():
            report = _undo_writes(batch)
            _record_undo(batch, report, actor=batch.undo_requested_by, via=via)
            # Last, and conditional: if recovery gave this worker up meanwhile, everything
            # above rolls back and the batch stays as recovery left it.
            if not mine.update(status=ImportBatch.Status.UNDONE, undo_report=report):
                raise BatchNotRunnable(
                    f"Import batch {batch.pk} was given up by recovery; nothing was undone."
                )
    except BatchNotRunnable:
        raise
    except Exception as exc:
        mine.update(
            status=batch.status_before_undo,
            worker="",
            undo_report={"error": f"The undo failed ({type(exc).__name__}: {exc}); nothing "
                         "was undone. Undo it again."},
        )  # fmt: skip
        raise
    return report


def _undo_writes(batch: ImportBatch) -> dict:
    """The writes of an undo; the caller holds the transaction and has claimed the batch."""
    report: dict[str, Any] = {"deleted": 0, "kept": [], "restored": 0, "conflicts": []}
    created = Contact.objects.filter(created_by_batch=batch)
    kept_ids = _contacts_with_activity(created)
    # Another import has since found them too (another member's network, or a later
    # export): they are that import's contacts as well, and undoing this one must not
    # take them from it.
    kept_ids |= set(
        Connection.objects.filter(contact__in=created)
        .exclude(batch=batch)
        .values_list("contact_id", flat=True)
    )
    kept_ids |= set(
        ImportChange.objects.filter(contact__in=created)
        .exclude(batch=batch)
        .values_list("contact_id", flat=True)
    )
    report["kept"] = sorted(kept_ids)
    doomed = list(created.exclude(pk__in=kept_ids).values_list("pk", flat=True))
    for chunk in chunks(doomed, CHUNK):
        Contact.objects.filter(pk__in=chunk).delete()
    report["deleted"] = len(doomed)

    through = Contact.tags.through
    changes = list(batch.changes.all())
    contacts = Contact.objects.in_bulk([change.contact_id for change in changes])
    for change in changes:
        contact = contacts.get(change.contact_id)
        if contact is None:
            continue
        restored = []
        for name, (previous, imported) in change.fields.items():
            if getattr(contact, name) == imported:
                setattr(contact, name, previous)
                restored.append(name)
            else:
                report["conflicts"].append({"contact": contact.pk, "field": name})
        if restored:
            contact.save(update_fields=restored)
            report["restored"] += 1
        if change.added_tag_ids:
            removed, _ = through.objects.filter(
                contact_id=contact.pk, tag_id__in=change.added_tag_ids
            ).delete()
            if removed and not restored:
                # Losing a tag is a change an open edit form must notice (updated_at is
                # its version).
                _touch([contact.pk])
    Connection.objects.filter(batch=batch).delete()
    batch.changes.all().delete()
    return report


def _record_undo(batch: ImportBatch, report: dict, *, actor, via: str) -> None:
    audit.record(
        audit.Action.IMPORT_UNDO,
        actor=actor,
        obj=batch,
        via=via,
        counts={
            "deleted": report["deleted"],
            "restored": report["restored"],
            "kept": len(report["kept"]),
            "conflicts": len(report["conflicts"]),
        },
        detail={"network": batch.network_id},
    )


# --- recovering imports whose worker died ----------------------------------------------------


def import_batches_recover(
    *, batches: QuerySet | None = None, now: datetime.datetime | None = None
) -> int:
    """Mark failed the confirmed batches whose worker died, with the reason, so that they can
    be undone; returns how many.

    A running batch has lost its worker when the worker's process is gone (seen from its own
    host: at once) or no chunk committed for IMPORT_STALL_SECONDS. A queued one when its task
    ended without starting it, or when, queued that long, the queue no longer holds its task:
    Redis hands a task to a worker without keeping it, so a worker killed before it started
    the import loses it, and nothing would ever run it.

    Previews (planning) and undos whose worker died are settled too: a preview fails with its
    upload kept for another try; an undo, one transaction that died with its worker, returns
    the batch to done or failed.

    Runs from the worker's housekeeping schedule, when a worker process starts, before an undo
    and when the task is delivered again; never on a page's GET (pages show
    ImportBatch.is_stalled instead).
    """
    now = now or timezone.now()
    batches = ImportBatch.objects.all() if batches is None else batches
    active = (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)
    stopped = 0
    for batch in batches.filter(status__in=active).defer("plan"):
        reason = _stop_reason(batch, now)
        if reason is None:
            continue
        # Conditional on the heartbeat read above: a chunk committed meanwhile has moved it, and
        # the batch is alive after all. A chunk that commits after this update finds the batch
        # failed and rolls back (the checkpoint in importing.run_plan), so the counts in the
        # reason are exactly what undo will find.
        stopped += _update_if_unmoved(
            batch,
            status=ImportBatch.Status.FAILED,
            failure=reason,
            finished_at=now,
            plan=None,
        )
    for batch in batches.filter(status=ImportBatch.Status.PLANNING).defer("plan"):
        why = _worker_lost(batch, batch.plan_task_name, now)
        if why is None:
            continue
        # Planning writes nothing but its final update, which is conditional on the worker:
        # failed here, a late worker's plan is dropped. The upload stays for "Try again".
        stopped += _update_if_unmoved(
            batch,
            status=ImportBatch.Status.PLAN_FAILED,
            failure=(
                f"The worker preparing this preview stopped ({why}); nothing was changed. The "
                "file is still stored: try again."
            ),
            finished_at=now,
        )
    for batch in batches.filter(status=ImportBatch.Status.UNDOING).defer("plan"):
        why = _worker_lost(batch, batch.undo_task_name, now)
        if why is None:
            continue
        # The undo is one transaction, which died with its worker: nothing was undone, and
        # the batch is back where it was, to be undone again.
        stopped += _update_if_unmoved(
            batch,
            status=batch.status_before_undo,
            worker="",
            undo_report={
                "error": f"The worker undoing this import stopped ({why}); nothing was undone. "
                "Undo it again."
            },
        )
    return stopped


def _update_if_unmoved(batch: ImportBatch, **values) -> int:
    """Update the batch only if its status and heartbeat are still those read: a worker that
    moved it meanwhile is alive after all. Returns 1 if updated, else 0."""
    return ImportBatch.objects.filter(
        pk=batch.pk, status=batch.status, progress_at=batch.progress_at
    ).update(**values)


def _worker_lost(batch: ImportBatch, task_name: str, now: datetime.datetime) -> str | None:
    """Why the worker of a batch being previewed or undone is lost, or None while it may be
    alive: claimed, its process is gone or it showed no sign of life for IMPORT_STALL_SECONDS;
    not claimed, that long and the queue no longer holds its task."""
    quiet = now - batch.last_sign_of_life
    if batch.worker:
        if liveness.process_is_gone(batch.worker):
            return "its process is gone"
        # An undo is one transaction with no heartbeat: only the task's limit tells it is dead.
        limit = settings.IMPORT_STALL_SECONDS
        if batch.status == ImportBatch.Status.UNDOING:
            limit = max(limit, LONG_TASK_SECONDS + 60)
        if quiet.total_seconds() > limit:
            return f"no progress for {_minutes(quiet)}"
        return None
    stalled = quiet.total_seconds() > settings.IMPORT_STALL_SECONDS
    if stalled and _task_is_waiting(task_name) is False:
        return f"no worker started it in {_minutes(quiet)}, and the task queue no longer holds it"
    return None


def _stop_reason(batch: ImportBatch, now: datetime.datetime) -> str | None:
    quiet = now - batch.last_sign_of_life
    if batch.status == ImportBatch.Status.RUNNING:
        if not batch.is_stalled(now):
            return None
        if liveness.process_is_gone(batch.worker):
            why = "its process is gone"
        else:
            why = f"no progress for {_minutes(quiet)}"
        created = Contact.objects.filter(created_by_batch=batch).count()
        changed = batch.changes.count()
        return (
            f"The worker stopped at row {batch.rows_done:,} of {batch.rows:,} ({why}), so the "
            f"import did not finish. What it imported before — {created:,} new contact"
            f"{pluralize(created)} and {changed:,} changed — is kept; undo removes exactly that."
        )
    lost = "; nothing was imported. Upload the file again to import it."
    if Task.objects.filter(name=batch.task_name).exists():
        return "The worker's task ended without starting this import" + lost
    stalled = quiet.total_seconds() > settings.IMPORT_STALL_SECONDS
    if stalled and _task_is_waiting(batch.task_name) is False:
        return (
            f"No worker started this import in {_minutes(quiet)}, and the task queue no longer "
            "holds it (its worker stopped)" + lost
        )
    return None


def _task_is_waiting(name: str) -> bool | None:
    """Whether django-q2's queue still holds the task of this name; None when it cannot tell.

    With the database as broker a task stays in the queue until its result is recorded, so a
    task whose worker died is delivered again. Redis hands a task over without keeping it: once
    taken, it is gone from the list even if its worker dies before running it.
    """
    broker = get_broker()
    if isinstance(broker, ORM):
        queued = OrmQ.objects.using(Conf.ORM).filter(key=broker.list_key)
        return any(package.name() == name for package in queued)
    if isinstance(broker, Redis):
        for payload in broker.connection.lrange(broker.list_key, 0, -1):
            try:
                task = SignedPackage.loads(payload)
            except BadSignature:
                continue  # signed with another SECRET_KEY: not this deployment's task
            if task.get("name") == name:
                return True
        return False
    return None


def _minutes(span: datetime.timedelta) -> str:
    minutes = max(1, round(span.total_seconds() / 60))
    return f"{minutes:,} minute{pluralize(minutes)}"


# Relations that belong to a contact's import and go with it on undo; anything else pointing
# at a contact (notes now, messages and enrollments later) is activity worth keeping.
_IMPORT_OWNED = {"connections", "tags", "aliases"}


def _contacts_with_activity(contacts: QuerySet) -> set[int]:
    ids = contacts.values("pk")
    kept: set[int] = set()
    for relation in Contact._meta.related_objects:
        if relation.get_accessor_name() in _IMPORT_OWNED or relation.related_name == "+":
            continue
        if relation.many_to_many:
            continue
        column = relation.field.name
        model: Any = relation.related_model  # each relation's own model, read generically
        kept.update(model.objects.filter(**{f"{column}__in": ids}).values_list(column, flat=True))
    return kept


# --- duplicates and merging ----------------------------------------------------------------


def contacts_merge(
    *, survivor: Contact, merged: Contact, values: dict, user, via: str = audit.Via.PAGE
) -> MergeLog:
    """Merge `merged` into `survivor`, moving everything that points at it. Needs
    contacts.merge_contact.

    Relations are found generically (Contact._meta.related_objects), so rows of later apps —
    messages, enrollments — move too. Where a unique constraint would be broken (the same
    network twice), the survivor's row is kept. The merged contact's profile URL and e-mail
    become aliases so later imports resolve them to the survivor.
    """
    require_permission(user, roles.MERGE_CONTACTS)
    if survivor.pk == merged.pk:
        raise ValueError("A contact cannot be merged into itself.")
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        snapshot = {name: getattr(merged, name) for name in EDITABLE_FIELDS}
        identifiers = [
            (ContactAlias.Kind.URL, merged.profile_url),
            (ContactAlias.Kind.EMAIL, merged.email),
        ]
        moved = _move_relations(merged, survivor)
        survivor.tags.add(*merged.tags.all())
        if merged.do_not_contact and not survivor.do_not_contact:
            survivor.do_not_contact = True
            survivor.dnc_reason = merged.dnc_reason
            survivor.dnc_at = merged.dnc_at
        merged_pk = merged.pk
        merged.delete()
        for name, value in values.items():
            setattr(survivor, name, value)
        survivor.save()
        for kind, value in identifiers:
            current = survivor.profile_url if kind == ContactAlias.Kind.URL else survivor.email
            if value and value != current:
                ContactAlias.objects.update_or_create(
                    kind=kind, value=value, defaults={"contact": survivor}
                )
        log = MergeLog.objects.create(
            survivor=survivor,
            merged_contact_id=merged_pk,
            merged_snapshot=snapshot,
            chosen_values=values,
            moved=moved,
            merged_by=user if getattr(user, "pk", None) else None,
        )
        # Field names only: the log is kept for ever and must hold no one's personal data.
        audit.record(
            audit.Action.MERGE,
            actor=user,
            obj=survivor,
            via=via,
            counts=moved,
            detail={"merged_contact": merged_pk, "fields": sorted(values)},
        )
        return log


def _move_relations(source: Contact, target: Contact) -> dict:
    moved = {}
    for relation in Contact._meta.related_objects:
        if relation.many_to_many:
            continue
        model: Any = relation.related_model  # each relation's own model, read generically
        column = relation.field.name
        rows = model._default_manager.filter(**{column: source})
        if model is ImportChange:
            # An import's undo record describes the merged contact's old values; replaying it
            # on the survivor would be wrong, so the record ends with the merged contact.
            rows.delete()
            continue
        if model is MergeLog:
            continue
        unique_sets = [
            [model._meta.get_field(name).attname for name in constraint.fields if name != column]
            for constraint in model._meta.constraints
            if isinstance(constraint, UniqueConstraint) and column in constraint.fields
        ]
        count = 0
        for row in rows:
            clash = None
            for others in unique_sets:
                lookup = {column: target, **{name: getattr(row, name) for name in others}}
                clash = model._default_manager.filter(**lookup).first()
                if clash:
                    break
            if clash is not None:
                # One person, one network: keep the earliest date either record knew.
                earlier = (
                    model is Connection
                    and row.connected_on
                    and (clash.connected_on is None or row.connected_on < clash.connected_on)
                )
                if earlier:
                    clash.connected_on = row.connected_on
                    clash.save(update_fields=["connected_on"])
                row.delete()
                continue
            setattr(row, column, target)
            row.save(update_fields=[column])
            count += 1
        if count:
            moved[relation.get_accessor_name()] = count
    return moved


def possible_duplicate_groups() -> list[list[int]]:
    """Groups of contact ids that may be one person: same name + company, same e-mail, or
    flagged by an import as ambiguous."""
    groups: list[set[int]] = []
    for column in ("name_key", "email"):
        values = (
            Contact.objects.exclude(**{column: ""})
            .values(column)
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list(column, flat=True)
        )
        by_value: dict[str, set[int]] = {}
        for pk, value in Contact.objects.filter(**{f"{column}__in": values}).values_list(
            "pk", column
        ):
            by_value.setdefault(value, set()).add(pk)
        groups += by_value.values()
    flagged = [
        {entry.get("contact"), *entry.get("candidates", [])} - {None}
        for batch in ImportBatch.objects.exclude(possible_duplicates=[]).only("possible_duplicates")
        for entry in batch.possible_duplicates
    ]
    # Flags outlive merges and deletions: keep only contacts that still exist.
    existing = set(
        Contact.objects.filter(pk__in=set().union(*flagged)).values_list("pk", flat=True)
        if flagged
        else []
    )
    groups += [ids & existing for ids in flagged if len(ids & existing) > 1]
    unique: dict[frozenset, None] = {}
    for group in groups:
        unique.setdefault(frozenset(group), None)
    return [sorted(group) for group in unique]


# --- export ----------------------------------------------------------------------------------


def contacts_export(
    *,
    contacts: QuerySet,
    out,
    user,
    via: str,
    filter_params: dict | None = None,
    network: Network | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write contacts as CSV to `out` (LinkedIn's header first, then ours) and log the export.
    Needs contacts.export_contact.

    The text starts with a byte order mark, so that Excel reads it as UTF-8 (written as UTF-8,
    `out` then holds the bytes of resources.CSV_ENCODING). Returns the number of contacts
    written. Streams in chunks, so 100,000 contacts do not sit in memory at once; calls
    `progress(contacts so far)` every 2,000 (it may raise to stop the export, unrecorded).
    """
    require_permission(user, roles.EXPORT_CONTACTS)
    out.write(BYTE_ORDER_MARK)
    writer = csv.writer(out, lineterminator="\n")
    count = -1  # the header is not a contact
    for row in _export_rows(contacts, network):
        writer.writerow(row)
        count += 1
        if progress and count % 2000 == 0:
            progress(count)
    detail: dict[str, Any] = {"filter": filter_params or {}}
    if network is not None:
        detail["network"] = network.pk
    contacts_export_record(user=user, via=via, count=count, detail=detail)
    return count


def _export_rows(contacts: QuerySet, network: Network | None):
    """The export's header, then one row per contact, read in chunks."""
    resource = ContactResource(export_network=network)
    yield resource.get_export_headers()
    for contact in resource.filter_export(contacts).iterator(chunk_size=2000):
        yield resource.export_resource(contact)


class _Line:
    """A file-like that hands back what csv.writer writes, one row at a time."""

    def write(self, text: str) -> str:
        return text


def contacts_export_stream(
    *, contacts: QuerySet, user, via: str, filter_params: dict | None = None
) -> Iterable[str]:
    """The CSV of contacts_export() (its byte order mark first) as lines for a streamed
    response. The export is logged
    before the first line goes out (with the count the filter matches): a download cut short
    has still let personal data out. Needs contacts.export_contact, checked at once."""
    require_permission(user, roles.EXPORT_CONTACTS)
    contacts_export_record(
        user=user, via=via, count=contacts.count(), detail={"filter": filter_params or {}}
    )
    writer = csv.writer(_Line(), lineterminator="\n")
    lines = (writer.writerow(row) for row in _export_rows(contacts, None))
    return itertools.chain([BYTE_ORDER_MARK], lines)


def contacts_export_record(*, user, via: str, count: int, detail: dict | None = None) -> None:
    """Log an export made elsewhere (the admin's export button writes the file itself).

    The filter is kept, but not the text of a search: the log cannot be edited, and a search
    is often a person's name, which an erasure must be able to remove."""
    require_permission(user, roles.EXPORT_CONTACTS)
    if detail and isinstance(detail.get("filter"), dict) and detail["filter"].get("q"):
        detail = {**detail, "filter": {**detail["filter"], "q": "(a search)"}}
    audit.record(
        audit.Action.EXPORT, actor=user, via=via, counts={"contacts": count}, detail=detail
    )


class ExportTooLarge(Exception):
    """The CSV outgrew EXPORT_MAX_BYTES."""


def contacts_export_enqueue(*, user, filter_params: dict) -> ContactExport:
    """Have the worker write the contacts matching `filter_params` (the contact list's
    filter, already validated) as CSV into the database (contacts_export_run). Needs
    contacts.export_contact, checked now and again when the worker runs."""
    require_permission(user, roles.EXPORT_CONTACTS)
    with transaction.atomic():
        export = ContactExport.objects.create(
            requested_by=user, filter_params=filter_params, progress_at=timezone.now()
        )
        transaction.on_commit(
            lambda: async_task(
                "contacts.tasks.export_contacts",
                export.pk,
                task_name=export.task_name,
                timeout=LONG_TASK_SECONDS,
            )
        )
    return export


def contacts_export_run(*, export_id: int) -> ContactExport:
    """Write a queued export's CSV (the body of the background task), recorded in the audit
    log as contacts_export records it. The file is stored whole or not at all: a worker
    killed half-way leaves the export running until recovery marks it failed."""
    export = ContactExport.objects.select_related("requested_by").defer("data").get(pk=export_id)
    worker = liveness.current_process()
    claimed = ContactExport.objects.filter(pk=export.pk, status=ContactExport.Status.QUEUED).update(
        status=ContactExport.Status.RUNNING, worker=worker, progress_at=timezone.now()
    )
    if not claimed:
        raise BatchNotRunnable(f"Export {export.pk} was claimed or stopped meanwhile.")
    mine = ContactExport.objects.filter(
        pk=export.pk, status=ContactExport.Status.RUNNING, worker=worker
    )
    buffer = io.StringIO()

    def progress(done: int) -> None:
        if buffer.tell() > settings.EXPORT_MAX_BYTES:
            raise ExportTooLarge
        mine.update(rows_done=done, progress_at=timezone.now())

    try:
        contacts = matching_contacts(export.filter_params)
        mine.update(rows=contacts.count())
        with transaction.atomic():
            # With the file: an export the worker could not store is not recorded as made.
            count = contacts_export(
                contacts=contacts,
                out=buffer,
                user=export.requested_by,
                via=audit.Via.PAGE,
                filter_params=export.filter_params,
                progress=progress,
            )
            data = buffer.getvalue().encode("utf-8")
            if len(data) > settings.EXPORT_MAX_BYTES:
                raise ExportTooLarge
            if not mine.update(
                status=ContactExport.Status.DONE,
                data=data,
                rows=count,
                rows_done=count,
                finished_at=timezone.now(),
            ):
                raise BatchNotRunnable(f"Export {export.pk} was stopped by recovery.")
    except ExportTooLarge:
        _export_failed(
            mine,
            f"The file would be larger than {settings.EXPORT_MAX_BYTES // 1024 // 1024} MB, so "
            "nothing was exported. Narrow the filter and export in parts.",
        )
    except PermissionDenied as exc:
        _export_failed(mine, f"Nothing was exported: {exc}")
    except BatchNotRunnable:
        raise
    except Exception as exc:
        _export_failed(mine, f"The export failed ({type(exc).__name__}: {exc}); try again.")
        raise
    export.refresh_from_db()
    return export


def _export_failed(mine: QuerySet, reason: str) -> None:
    mine.update(status=ContactExport.Status.FAILED, failure=reason, finished_at=timezone.now())


def contact_exports_recover(*, now: datetime.datetime | None = None) -> int:
    """Mark failed the exports whose worker died (process gone, or quiet for
    IMPORT_STALL_SECONDS; queued that long and no longer in the queue); returns how many."""
    now = now or timezone.now()
    failed = 0
    for export in ContactExport.objects.filter(
        status__in=(ContactExport.Status.QUEUED, ContactExport.Status.RUNNING)
    ).defer("data"):
        if worker_job_lost(export, now):
            failed += ContactExport.objects.filter(
                pk=export.pk, status=export.status, progress_at=export.progress_at
            ).update(
                status=ContactExport.Status.FAILED,
                failure="The worker writing this export stopped; nothing was exported. "
                "Export again.",
                finished_at=now,
            )
    return failed


def worker_job_lost(job: WorkerJob, now: datetime.datetime) -> bool:
    """Whether the worker of an export or a bulk change is lost: running, its process is gone
    (seen from its own host) or it showed no progress for IMPORT_STALL_SECONDS; queued that
    long, and the queue no longer holds its task (Redis hands a task out without keeping it)."""
    stall = datetime.timedelta(seconds=settings.IMPORT_STALL_SECONDS)
    quiet = now - job.progress_at if job.progress_at else stall * 2
    if job.is_running:
        return liveness.process_is_gone(job.worker) or quiet > stall
    return quiet > stall and _task_is_waiting(job.task_name) is False
