"""The import engine: a LinkedIn export's rows into contacts (docs/import-formats.md).

The staff import wizard, the `import_contacts` command, the admin's import button and the
background task all go through here. Importing happens in two steps:

1. **Plan.** `plan_import` matches each row of the reader's table (contacts.linkedin_csv) to an
   existing contact by the identity rules, with a few set-based queries per 5,000 rows instead
   of one per row, and sorts the rows into new, updated and unchanged; nothing is written. The
   outcome is an `ImportPlan`: plain data that can be stored with the batch, so the wizard's
   confirm step does not parse and diff the file again.
2. **Apply.** `run_plan` claims the batch and `apply_plan` writes the plan in bulk — inserts
   for new contacts, an upsert (INSERT … ON CONFLICT (id) DO UPDATE) for updated ones, which is
   far faster than Django's CASE-WHEN `bulk_update` — plus connections, tags and the undo
   bookkeeping (ImportChange), chunk by chunk, each chunk with a heartbeat so that a background
   import reports progress and recovery can tell a live import from a dead one.
"""

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields

from django.db import transaction
from django.utils import timezone

from contacts import liveness
from contacts.identity import name_key
from contacts.linkedin_csv import ConnectionRow, ParsedExport
from contacts.models import (
    Connection,
    Contact,
    ContactAlias,
    ImportBatch,
    ImportChange,
    Network,
    Suppression,
)
from linkedin_crm import audit, webhooks
from linkedin_crm.db import CHUNK, WRITE_BATCH, chunks

# The fields an export row can set on a contact, in LinkedIn's column order.
IMPORT_FIELDS = ["first_name", "last_name", "profile_url", "email", "company", "position"]


@dataclass
class ImportPlan:
    """What importing a file will do; plain data, stored as JSON between preview and confirm."""

    network_id: int
    keep_existing: bool = False
    # [{"line", "values": {field: value}, "connected_on"}]
    creates: list[dict] = field(default_factory=list)
    # [{"line", "contact", "changes": {field: [old, new]}, "connected_on"}]
    updates: list[dict] = field(default_factory=list)
    # [{"line", "contact", "connected_on"}]
    unchanged: list[dict] = field(default_factory=list)
    # Contacts of the file that already have a connection in the network.
    connected: list[int] = field(default_factory=list)
    # [{"line", "candidates": [ids]}] — new contacts that might be someone already known.
    possible_duplicates: list[dict] = field(default_factory=list)
    # Rows naming a contact that an earlier row of the same file named already.
    duplicates_in_file: int = 0
    # Rows of erased people, left out of the plan.
    suppressed: int = 0

    def to_json(self) -> dict:
        # The lists hold plain dicts already: no deep copy (dataclasses.asdict) needed.
        return {item.name: getattr(self, item.name) for item in dataclass_fields(self)}

    @classmethod
    def from_json(cls, data: dict | None) -> "ImportPlan":
        if data is None:  # a batch whose plan was not kept, or was dropped when it failed
            raise TypeError("This import batch has no plan.")
        # Plans stored by earlier versions also carry an "invalid" list (always empty: the
        # reader refuses bad rows before planning); a preview made before an upgrade still
        # confirms.
        known = {item.name for item in dataclass_fields(cls)}
        return cls(**{name: value for name, value in data.items() if name in known})

    @property
    def row_count(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.unchanged)


# --- planning ---------------------------------------------------------------------------------


def row_values(row: ConnectionRow) -> dict:
    """The contact fields a row sets. Profile URLs are NULL when absent, so that many
    URL-less contacts do not collide on the unique column."""
    return {
        "first_name": row.first_name,
        "last_name": row.last_name,
        "profile_url": row.profile_url or None,
        "email": row.email,
        "company": row.company,
        "position": row.position,
    }


def without_suppressed(rows: list[ConnectionRow]) -> tuple[list[ConnectionRow], int]:
    """The rows minus those whose profile URL or e-mail belongs to an erased person
    (Suppression), and how many were left out."""
    urls = Suppression.objects.matching(Suppression.Kind.URL, {row.profile_url for row in rows})
    emails = Suppression.objects.matching(Suppression.Kind.EMAIL, {row.email for row in rows})
    if not urls and not emails:
        return rows, 0
    kept = [
        row
        for row in rows
        if not (
            (row.profile_url and row.profile_url in urls) or (row.email and row.email in emails)
        )
    ]
    return kept, len(rows) - len(kept)


@dataclass
class Match:
    """The outcome of matching one row: the contact it names (None: a new contact), the
    contacts it might be when the rules could not choose, and whether an earlier row of the
    file named the same contact."""

    contact: Contact | None = None
    candidates: list[int] = field(default_factory=list)
    duplicate: bool = False


class IdentityMatcher:
    """Finds the existing contact of each row by the identity rules (docs/import-formats.md),
    prefetching every candidate for the whole file up front with set-based queries.

    URL first; a row whose URL matches nobody falls back to e-mail, then to name + company,
    among contacts that have no URL yet (so a later export with URLs joins contacts from an
    older export without them). Two candidates are never guessed between: the row becomes a
    new contact, reported as a possible duplicate. Identifiers of merged contacts (aliases)
    resolve to the survivor.
    """

    def __init__(self, rows: Iterable[ConnectionRow]):
        self.by_pk: dict[int, Contact] = {}
        self.by_url: dict[str, int] = {}
        self.by_email: dict[str, set[int]] = {}
        self.by_key: dict[str, set[int]] = {}
        self.claimed: set[int] = set()
        self._prefetch(list(rows))

    def _prefetch(self, rows: list[ConnectionRow]) -> None:
        urls = {row.profile_url for row in rows if row.profile_url}
        emails = {row.email for row in rows if row.email}
        keys = {name_key(row.first_name, row.last_name, row.company) for row in rows} - {""}

        aliases: list[tuple[str, str, int]] = []
        for kind, values in ((ContactAlias.Kind.URL, urls), (ContactAlias.Kind.EMAIL, emails)):
            for chunk in chunks(sorted(values), CHUNK):
                aliases += ContactAlias.objects.filter(kind=kind, value__in=chunk).values_list(
                    "kind", "value", "contact_id"
                )
        alias_ids = {contact_id for _, _, contact_id in aliases}

        # Only the columns identity and change detection need: loading 30,000 full rows (with
        # their time stamps to parse) is the largest cost of a re-import.
        contacts = Contact.objects.only("pk", "name_key", *IMPORT_FIELDS)
        for lookup, wanted in (
            ("profile_url__in", urls),
            ("email__in", emails),
            ("name_key__in", keys),
            ("pk__in", alias_ids),
        ):
            for wanted_chunk in chunks(sorted(wanted), CHUNK):
                for contact in contacts.filter(**{lookup: wanted_chunk}):
                    self.by_pk[contact.pk] = contact

        for contact in self.by_pk.values():
            if contact.profile_url:
                self.by_url[contact.profile_url] = contact.pk
            if contact.email:
                self.by_email.setdefault(contact.email, set()).add(contact.pk)
            if contact.name_key:
                self.by_key.setdefault(contact.name_key, set()).add(contact.pk)
        for alias_kind, value, contact_id in aliases:
            if alias_kind == ContactAlias.Kind.URL:
                self.by_url.setdefault(value, contact_id)
            else:
                self.by_email.setdefault(value, set()).add(contact_id)

    def match(self, row: ConnectionRow) -> Match:
        url = row.profile_url
        if url and url in self.by_url:
            return self._claim(self.by_url[url])
        key = name_key(row.first_name, row.last_name, row.company)
        for index, value in ((self.by_email, row.email), (self.by_key, key)):
            if not value:
                continue
            candidates = index.get(value, set())
            if url:
                # A row with a URL only joins contacts that have no URL yet.
                candidates = {pk for pk in candidates if not self.by_pk[pk].profile_url}
            if len(candidates) == 1:
                return self._claim(next(iter(candidates)))
            if len(candidates) > 1:
                return Match(candidates=sorted(candidates))
        return Match()

    def _claim(self, pk: int) -> Match:
        # Another row of this file may have matched this contact already (for example one row
        # by URL and another, URL-less, by name): the same person twice in one file.
        duplicate = pk in self.claimed
        self.claimed.add(pk)
        return Match(contact=self.by_pk[pk], duplicate=duplicate)


def merge_row(contact: Contact, incoming: dict, *, keep_existing: bool) -> dict:
    """Set a row's values on a known contact (in memory); returns {field: [old, new]} for the
    fields that changed.

    An export never erases what we know: a blank cell (a deleted column, an e-mail the member
    did not share) leaves the stored value. With `keep_existing`, only empty fields are filled.
    """
    changes = {}
    for name in IMPORT_FIELDS:
        old, new = getattr(contact, name), incoming[name]
        if not new or (keep_existing and old):
            continue
        if new != old:
            setattr(contact, name, new)
            changes[name] = [old, new]
    return changes


def plan_import(
    parsed: ParsedExport,
    *,
    network: Network,
    keep_existing: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportPlan:
    """Match every row of a parsed export to the contacts and say what importing it would do,
    without writing anything (but what `progress(rows so far)`, called every WRITE_BATCH rows,
    writes)."""
    plan = ImportPlan(network_id=network.pk, keep_existing=keep_existing)
    # Erased people stay erased: their rows leave the table before anything is matched.
    rows, plan.suppressed = without_suppressed(parsed.rows)
    matcher = IdentityMatcher(rows)
    for index, row in enumerate(rows):
        if progress and index and index % WRITE_BATCH == 0:
            progress(index)
        match = matcher.match(row)
        entry = {
            "line": row.line,
            "connected_on": row.connected_on.isoformat() if row.connected_on else "",
        }
        incoming = row_values(row)
        if match.contact is None:
            plan.creates.append({**entry, "values": incoming})
            if match.candidates:
                plan.possible_duplicates.append({"line": row.line, "candidates": match.candidates})
            continue
        # A repeated row's values land on the contact too (a URL it brings keeps later rows
        # with other URLs from joining the contact by e-mail or name), but it is counted only.
        changes = merge_row(match.contact, incoming, keep_existing=keep_existing)
        if match.duplicate:
            plan.duplicates_in_file += 1
        elif changes:
            plan.updates.append({**entry, "contact": match.contact.pk, "changes": changes})
        else:
            plan.unchanged.append({**entry, "contact": match.contact.pk})

    ids = [entry["contact"] for entry in plan.updates + plan.unchanged]
    connected: set[int] = set()
    for chunk in chunks(ids, CHUNK):
        connected.update(
            Connection.objects.filter(network=network, contact_id__in=chunk).values_list(
                "contact_id", flat=True
            )
        )
    plan.connected = sorted(connected)
    return plan


# --- batches and applying a plan --------------------------------------------------------------


def batch_from_plan(
    plan: ImportPlan,
    parsed: ParsedExport,
    *,
    file_name: str,
    user,
    network: Network,
    sha256: str = "",
    size: int = 0,
) -> ImportBatch:
    """An unsaved, pending ImportBatch holding the plan and the counts the preview shows."""
    return ImportBatch(
        file_name=file_name[:255],
        sha256=sha256,
        size=size,
        network=network,
        uploaded_by=user if getattr(user, "pk", None) else None,
        keep_existing=plan.keep_existing,
        file_format=parsed.format,
        encoding=parsed.encoding,
        rows=parsed.total_rows,
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=len(plan.unchanged),
        skipped_empty=parsed.skipped_empty,
        invalid=parsed.invalid,
        duplicates_in_file=parsed.duplicates_in_file + plan.duplicates_in_file,
        suppressed=plan.suppressed,
        errors=sorted(
            ({"line": p.line, "message": p.message} for p in parsed.problems),
            key=lambda e: e["line"],
        ),
        plan=plan.to_json(),
    )


class BatchNotRunnable(ValueError):
    """The batch is not (or no longer) this process's to apply."""


def run_plan(
    batch: ImportBatch, plan: ImportPlan, *, progress: Callable[[int], None] | None = None
) -> ImportBatch:
    """Apply a batch's plan and mark the batch done (or failed, keeping what it did undoable).

    The batch must be pending (applied at once) or queued (confirmed); raises BatchNotRunnable
    when another process claimed it first or recovery gave it up.
    """
    if batch.status not in (ImportBatch.Status.PENDING, ImportBatch.Status.QUEUED):
        raise BatchNotRunnable(f"Import batch {batch.pk} is {batch.get_status_display()}.")
    now = timezone.now()
    worker = liveness.current_process()
    mine = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.RUNNING, worker=worker)
    # Conditional: a task delivered twice applies the batch once, and a batch that recovery
    # failed meanwhile (its task lost, it thought) is not applied after all.
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=batch.status).update(
        status=ImportBatch.Status.RUNNING,
        started_at=now,
        progress_at=now,
        worker=worker,
        # The plan is in memory now; dropping it from the row keeps every progress update small
        # (SQLite rewrites the whole row, megabytes of plan included).
        plan=None,
    )
    if not claimed:
        raise BatchNotRunnable(f"Import batch {batch.pk} was claimed or stopped meanwhile.")
    batch.refresh_from_db()

    def checkpoint(done: int) -> None:
        # Runs first in each chunk's transaction: the row lock it takes orders the chunk with
        # recovery, so either recovery sees this chunk's heartbeat and leaves the batch alone,
        # or the batch is failed already and the chunk rolls back. Every committed chunk is
        # thus counted in rows_done and undone by undo.
        if not mine.update(rows_done=done, progress_at=timezone.now()):
            raise BatchNotRunnable(
                f"Import batch {batch.pk} was stopped by recovery; rows after {batch.rows_done:,} "
                "were not written."
            )
        batch.rows_done = done

    try:
        apply_plan(plan, batch, checkpoint=checkpoint, progress=progress)
    except Exception as exc:
        # Recovery's reason stands when it stopped the batch; otherwise say what broke.
        mine.update(
            status=ImportBatch.Status.FAILED,
            failure=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        batch.refresh_from_db()
        raise
    created_by_line = {entry["line"]: entry.get("contact") for entry in plan.creates}
    with transaction.atomic():
        finished = mine.update(
            possible_duplicates=[
                {**entry, "contact": created_by_line.get(entry["line"])}
                for entry in plan.possible_duplicates
            ],
            status=ImportBatch.Status.DONE,
            rows_done=plan.row_count,
            finished_at=timezone.now(),
        )
        if finished:
            webhooks.emit(webhooks.EventType.IMPORT_FINISHED, [batch.webhook_data()])
    batch.refresh_from_db()
    if not finished:
        raise BatchNotRunnable(
            f"Import batch {batch.pk} wrote every row but was stopped by recovery before it "
            "could be marked done."
        )
    return batch


def record_import(batch: ImportBatch, *, actor, via: str) -> None:
    """The audit event of a finished import, with its counts: every way of importing (the
    pages, the API, the command, the admin's button) records the same."""
    audit.record(
        audit.Action.IMPORT,
        actor=actor,
        obj=batch,
        via=via,
        counts={
            "created": batch.created,
            "updated": batch.updated,
            "unchanged": batch.unchanged,
            "suppressed": batch.suppressed,
        },
        detail={"network": batch.network_id},
    )


def apply_plan(
    plan: ImportPlan,
    batch: ImportBatch,
    *,
    checkpoint: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write an import plan in bulk and record what undo needs.

    Each chunk is its own transaction, so a background import shows progress and a crash
    leaves a batch whose finished chunks undo exactly: contacts it created point at the batch,
    contacts it changed have an ImportChange, written with the chunk. `checkpoint(rows so far)`
    runs inside each chunk's transaction before its writes (raising rolls the chunk back);
    `progress(rows so far)` after each commit.
    """
    tag_ids = list(batch.tags.values_list("pk", flat=True))
    done = 0
    for chunk in chunks(plan.creates, WRITE_BATCH):
        with transaction.atomic():
            if checkpoint:
                checkpoint(done + len(chunk))
            create_contacts(chunk, batch, tag_ids)
        done += len(chunk)
        if progress:
            progress(done)
    connected = set(plan.connected)
    existing = plan.updates + plan.unchanged
    for chunk in chunks(existing, WRITE_BATCH):
        with transaction.atomic():
            if checkpoint:
                checkpoint(done + len(chunk))
            update_contacts(chunk, batch, plan.network_id, connected, tag_ids)
        done += len(chunk)
        if progress:
            progress(done)


def create_contacts(entries: Sequence[dict], batch: ImportBatch, tag_ids: list[int]) -> None:
    """Insert the planned new contacts with their connection and the batch's tags; each entry
    learns its contact's id (for the possible duplicates the batch reports)."""
    now = timezone.now()
    contacts = []
    for entry in entries:
        contact = Contact(**entry["values"], created_by_batch=batch, created_at=now)
        contact.refresh_derived_fields()
        contacts.append(contact)
    Contact.objects.bulk_create(contacts)
    for contact, entry in zip(contacts, entries, strict=True):
        entry["contact"] = contact.pk
    Connection.objects.bulk_create(
        Connection(
            contact=contact,
            network_id=batch.network_id,
            connected_on=_date(entry["connected_on"]),
            batch=batch,
        )
        for contact, entry in zip(contacts, entries, strict=True)
    )
    through = Contact.tags.through
    through.objects.bulk_create(
        through(contact_id=contact.pk, tag_id=tag_id) for contact in contacts for tag_id in tag_ids
    )


def update_contacts(
    entries: Sequence[dict],
    batch: ImportBatch,
    network_id: int,
    connected: set[int],
    tag_ids: list[int],
) -> None:
    """Write the planned changes to known contacts, connect them to the network and tag them,
    recording in ImportChange what undo must restore."""
    changed = [entry for entry in entries if entry.get("changes")]
    if changed:
        contacts = Contact.objects.in_bulk([entry["contact"] for entry in changed])
        now = timezone.now()
        touched = set()
        for entry in changed:
            contact = contacts[entry["contact"]]
            for name, (_, new) in entry["changes"].items():
                setattr(contact, name, new)
                touched.add(name)
            contact.refresh_derived_fields()
            contact.updated_at = now
        # An upsert on the primary key: one INSERT … ON CONFLICT DO UPDATE per batch instead of
        # the CASE WHEN per field and row that Django's bulk_update builds.
        Contact.objects.bulk_create(
            list(contacts.values()),
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=[*sorted(touched), *Contact.DERIVED_FIELDS, "updated_at"],
        )

    ids = [entry["contact"] for entry in entries]
    Connection.objects.bulk_create(
        Connection(
            contact_id=entry["contact"],
            network_id=network_id,
            connected_on=_date(entry["connected_on"]),
            batch=batch,
        )
        for entry in entries
        if entry["contact"] not in connected
    )

    added_tags: dict[int, list[int]] = {}
    if tag_ids:
        through = Contact.tags.through
        have = set(
            through.objects.filter(contact_id__in=ids, tag_id__in=tag_ids).values_list(
                "contact_id", "tag_id"
            )
        )
        links = [
            through(contact_id=pk, tag_id=tag_id)
            for pk in ids
            for tag_id in tag_ids
            if (pk, tag_id) not in have
        ]
        through.objects.bulk_create(links)
        for link in links:
            added_tags.setdefault(link.contact_id, []).append(link.tag_id)
        # updated_at is the version an open edit form was loaded at (and what a later preview
        # checks): contacts that only gained a tag changed too.
        tagged_only = set(added_tags) - {entry["contact"] for entry in changed}
        Contact.objects.filter(pk__in=tagged_only).update(updated_at=timezone.now())

    changes = {entry["contact"]: entry.get("changes") or {} for entry in entries}
    ImportChange.objects.bulk_create(
        ImportChange(
            batch=batch,
            contact_id=pk,
            fields=changes[pk],
            added_tag_ids=added_tags.get(pk, []),
        )
        for pk in ids
        if changes[pk] or pk in added_tags
    )


def _date(value: str) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None
