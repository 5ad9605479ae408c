"""Importing and exporting contacts with django-import-export.

One resource serves the staff import wizard, the admin's import/export and the
`import_contacts` / `export_contacts` commands. Importing happens in two steps:

1. **Plan.** The resource runs over the reader's table (contacts.linkedin_csv) through the
   library's row machinery. A prefetching instance loader applies the identity rules
   (docs/import-formats.md) with a few set-based queries per 5,000 rows instead of one per
   row; the library classifies each row as new, update or unchanged; nothing is written. The
   outcome is an `ImportPlan`: plain data that can be stored with the batch, so the wizard's
   confirm step does not parse and diff the file again.
2. **Apply.** `apply_plan` writes the plan in bulk — inserts for new contacts, an upsert
   (INSERT … ON CONFLICT (id) DO UPDATE) for updated ones, which is far faster than Django's
   CASE-WHEN `bulk_update` — plus connections, tags and the undo bookkeeping (ImportChange),
   chunk by chunk so that a background import can report progress.
"""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields

import tablib
from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV
from import_export.instance_loaders import BaseInstanceLoader

from contacts import liveness
from contacts.identity import name_key
from contacts.linkedin_csv import ParsedExport, parse_connections
from contacts.models import (
    Connection,
    Contact,
    ContactAlias,
    ImportBatch,
    ImportChange,
    Network,
    Suppression,
)
from linkedin_crm import audit
from linkedin_crm.db import CHUNK, WRITE_BATCH, chunks

# The fields an export row can set on a contact, in LinkedIn's column order.
IMPORT_FIELDS = ["first_name", "last_name", "profile_url", "email", "company", "position"]
LINKEDIN_HEADER = {
    "first_name": "First Name",
    "last_name": "Last Name",
    "profile_url": "URL",
    "email": "Email Address",
    "company": "Company",
    "position": "Position",
    "connected_on": "Connected On",
}
LINE = "Line"
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def drop_suppressed_rows(dataset: tablib.Dataset) -> int:
    """Remove the rows whose profile URL or e-mail belongs to an erased person (Suppression);
    returns how many."""
    url = dataset.headers.index(LINKEDIN_HEADER["profile_url"])
    email = dataset.headers.index(LINKEDIN_HEADER["email"])
    urls = Suppression.objects.matching(Suppression.Kind.URL, {row[url] for row in dataset})
    emails = Suppression.objects.matching(Suppression.Kind.EMAIL, {row[email] for row in dataset})
    if not urls and not emails:
        return 0
    doomed = [
        index
        for index, row in enumerate(dataset)
        if (row[url] and row[url] in urls) or (row[email] and row[email] in emails)
    ]
    for index in reversed(doomed):
        del dataset[index]
    return len(doomed)


def parsed_to_dataset(parsed: ParsedExport) -> tablib.Dataset:
    """The reader's clean table as a tablib Dataset with LinkedIn's column names."""
    dataset = tablib.Dataset(headers=[LINE, *LINKEDIN_HEADER.values()])
    for row in parsed.rows:
        dataset.append(
            (
                row.line,
                row.first_name,
                row.last_name,
                row.profile_url or "",
                row.email,
                row.company,
                row.position,
                row.connected_on.isoformat() if row.connected_on else "",
            )
        )
    # The reader's counts (ghost rows, dropped values) travel with the table.
    dataset.parsed = parsed
    return dataset


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
    # [{"line", "message"}] — rows the resource refused.
    invalid: list[dict] = field(default_factory=list)
    # [{"line", "candidates": [ids]}] — new contacts that might be someone already known.
    possible_duplicates: list[dict] = field(default_factory=list)
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
        return cls(**data)

    @property
    def row_count(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.unchanged)


class ProfileUrlWidget(widgets.CharWidget):
    """Profile URLs are NULL when absent: many URL-less contacts must not collide."""

    def clean(self, value, row=None, **kwargs):
        return value or None


class IdentityInstanceLoader(BaseInstanceLoader):
    """Finds the existing contact of each row by the identity rules (docs/import-formats.md),
    prefetching every candidate for the whole dataset up front with set-based queries.

    URL first; a row whose URL matches nobody falls back to e-mail, then to name + company,
    among contacts that have no URL yet (so a later export with URLs joins contacts from an
    older export without them). Two candidates are never guessed between: the row becomes a
    new contact, reported as a possible duplicate. Identifiers of merged contacts (aliases)
    resolve to the survivor.
    """

    def __init__(self, resource, dataset=None) -> None:
        super().__init__(resource, dataset)
        self.by_pk: dict[int, Contact] = {}
        self.by_url: dict[str, int] = {}
        self.by_email: dict[str, set[int]] = {}
        self.by_key: dict[str, set[int]] = {}
        self.claimed: set[int] = set()
        if dataset is not None and len(dataset):
            self._prefetch(dataset)

    def _prefetch(self, dataset) -> None:
        column = {name: dataset.headers.index(header) for name, header in LINKEDIN_HEADER.items()}
        urls, emails, keys = set(), set(), set()
        for row in dataset:
            if row[column["profile_url"]]:
                urls.add(row[column["profile_url"]])
            if row[column["email"]]:
                emails.add(row[column["email"]])
            key = name_key(
                row[column["first_name"]], row[column["last_name"]], row[column["company"]]
            )
            if key:
                keys.add(key)

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
        for lookup, values in (
            ("profile_url__in", urls),
            ("email__in", emails),
            ("name_key__in", keys),
            ("pk__in", alias_ids),
        ):
            for chunk in chunks(sorted(values), CHUNK):
                for contact in contacts.filter(**{lookup: chunk}):
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

    def get_instance(self, row) -> Contact | None:
        self.resource.row_candidates = []
        url = row[LINKEDIN_HEADER["profile_url"]]
        email = row[LINKEDIN_HEADER["email"]]
        if url and url in self.by_url:
            return self._claim(self.by_url[url])
        key = name_key(
            row[LINKEDIN_HEADER["first_name"]],
            row[LINKEDIN_HEADER["last_name"]],
            row[LINKEDIN_HEADER["company"]],
        )
        for index, value in ((self.by_email, email), (self.by_key, key)):
            if not value:
                continue
            candidates = index.get(value, set())
            if url:
                # A row with a URL only joins contacts that have no URL yet.
                candidates = {pk for pk in candidates if not self.by_pk[pk].profile_url}
            if len(candidates) == 1:
                return self._claim(next(iter(candidates)))
            if len(candidates) > 1:
                self.resource.row_candidates = sorted(candidates)
                return None
        return None

    def _claim(self, pk: int) -> Contact | None:
        if pk in self.claimed:
            # Another row of this file already matched this contact (for example one row by
            # URL and another, URL-less, by name): the same person twice in one file.
            self.resource.row_duplicate = True
            return self.by_pk[pk]
        self.claimed.add(pk)
        return self.by_pk[pk]


class ContactResource(resources.ModelResource):
    """Contacts in LinkedIn's column layout, plus our columns on export."""

    first_name = fields.Field("first_name", LINKEDIN_HEADER["first_name"], widgets.CharWidget())
    last_name = fields.Field("last_name", LINKEDIN_HEADER["last_name"], widgets.CharWidget())
    profile_url = fields.Field("profile_url", LINKEDIN_HEADER["profile_url"], ProfileUrlWidget())
    email = fields.Field("email", LINKEDIN_HEADER["email"], widgets.CharWidget())
    company = fields.Field("company", LINKEDIN_HEADER["company"], widgets.CharWidget())
    position = fields.Field("position", LINKEDIN_HEADER["position"], widgets.CharWidget())
    connected_on = fields.Field(
        attribute="export_connected_on",
        column_name=LINKEDIN_HEADER["connected_on"],
        readonly=True,
    )
    tags = fields.Field(column_name="Tags", readonly=True)
    stage = fields.Field(attribute="stage", column_name="Stage", readonly=True)
    do_not_contact = fields.Field(column_name="Do Not Contact", readonly=True)
    notes = fields.Field(attribute="export_note_count", column_name="Notes", readonly=True)
    networks = fields.Field(column_name="Networks", readonly=True)

    class Meta:
        model = Contact
        fields = (
            "first_name",
            "last_name",
            "profile_url",
            "email",
            "company",
            "position",
            "connected_on",
            "tags",
            "stage",
            "do_not_contact",
            "notes",
            "networks",
        )
        import_id_fields = ()
        instance_loader_class = IdentityInstanceLoader
        use_bulk = True
        batch_size = WRITE_BATCH
        skip_unchanged = True
        # The library's diff deep-copies every row; ours records only the changed fields.
        skip_diff = True
        skip_html_diff = True
        report_skipped = False
        use_transactions = True

    def __init__(
        self,
        *,
        network: Network | None = None,
        keep_existing: bool = False,
        batch: ImportBatch | None = None,
        export_network: Network | None = None,
        progress: Callable[[int], None] | None = None,
    ):
        super().__init__()
        self.network = network
        self.keep_existing = keep_existing
        self.batch = batch
        self.export_network = export_network
        self.progress = progress
        self.plan: ImportPlan | None = None
        self.row_candidates: list[int] = []
        self.row_duplicate = False

    # --- import: planning through the library's row machinery ---------------------------

    def get_instance(self, instance_loader, row):
        # Identity is the loader's business; the library would otherwise require
        # import_id_fields columns to be present.
        return instance_loader.get_instance(row)

    def before_import(self, dataset, **kwargs):
        if self.network is None:
            raise ValueError("ContactResource needs the network the export belongs to.")
        self.plan = ImportPlan(network_id=self.network.pk, keep_existing=self.keep_existing)
        # Erased people stay erased: their rows leave the table before anything is matched.
        self.plan.suppressed = drop_suppressed_rows(dataset)

    def before_import_row(self, row, **kwargs):
        self.row_candidates = []
        self.row_duplicate = False

    def after_init_instance(self, instance, new, row, **kwargs):
        instance._before_import = (
            None if new else {name: getattr(instance, name) for name in IMPORT_FIELDS}
        )

    def get_import_fields(self):
        # Only LinkedIn's own columns set contact fields; our export columns are read-only.
        return [self.fields[name] for name in IMPORT_FIELDS]

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        before = instance._before_import
        if before is not None:
            incoming = field.clean(row)
            if not incoming:
                # An export never erases what we know: a blank cell (a deleted column, an
                # e-mail the member did not share) leaves the stored value.
                return
            if self.keep_existing and before[field.attribute]:
                return
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or instance._before_import is None:
            return False
        before = instance._before_import
        return all(getattr(instance, name) == before[name] for name in IMPORT_FIELDS)

    def save_instance(self, instance, is_create, row, **kwargs):
        # Nothing is written while planning; apply_plan writes the whole plan in bulk.
        entry = {"line": int(row[LINE]), "connected_on": row[LINKEDIN_HEADER["connected_on"]]}
        if self.row_duplicate:
            self.plan.duplicates_in_file += 1
            return
        if is_create:
            entry["values"] = {name: getattr(instance, name) for name in IMPORT_FIELDS}
            self.plan.creates.append(entry)
            if self.row_candidates:
                self.plan.possible_duplicates.append(
                    {"line": entry["line"], "candidates": self.row_candidates}
                )
        else:
            before = instance._before_import
            entry["contact"] = instance.pk
            entry["changes"] = {
                name: [before[name], getattr(instance, name)]
                for name in IMPORT_FIELDS
                if getattr(instance, name) != before[name]
            }
            self.plan.updates.append(entry)

    def after_import_row(self, row, row_result, **kwargs):
        if row_result.import_type == row_result.IMPORT_TYPE_SKIP and not self.row_duplicate:
            self.plan.unchanged.append(
                {
                    "line": int(row[LINE]),
                    "contact": int(row_result.object_id),
                    "connected_on": row[LINKEDIN_HEADER["connected_on"]],
                }
            )
        elif self.row_duplicate and row_result.import_type == row_result.IMPORT_TYPE_SKIP:
            self.plan.duplicates_in_file += 1

    def bulk_create(self, *args, **kwargs):
        self.create_instances.clear()

    def bulk_update(self, *args, **kwargs):
        self.update_instances.clear()

    def after_import(self, dataset, result, **kwargs):
        plan = self.plan
        # Rows the library refused never reach after_import_row; collect them here.
        lines = dataset.get_col(0)
        for number, errors in result.row_errors():
            plan.invalid.append({"line": lines[number - 1], "message": str(errors[0].error)})
        for invalid in result.invalid_rows:
            message = " ".join(invalid.validation_error.messages)
            plan.invalid.append({"line": lines[invalid.number - 1], "message": message})
        ids = [entry["contact"] for entry in plan.updates + plan.unchanged]
        connected = set()
        for chunk in chunks(ids, CHUNK):
            connected.update(
                Connection.objects.filter(network=self.network, contact_id__in=chunk).values_list(
                    "contact_id", flat=True
                )
            )
        plan.connected = sorted(connected)
        if not kwargs.get("dry_run"):
            # The admin's import is recorded as a batch too, so it shows in the batch list and
            # can be undone like any other.
            if self.batch is None:
                self.batch = batch_from_plan(
                    plan,
                    getattr(dataset, "parsed", None),
                    file_name=kwargs.get("file_name") or "admin import",
                    user=kwargs.get("user"),
                    network=self.network,
                )
                self.batch.save()
            run_plan(self.batch, plan, progress=self.progress)
            # Only the admin's import comes this way (the wizard and the command plan in a dry
            # run and apply the plan themselves), into the admin user's own network.
            audit.record(
                audit.Action.IMPORT,
                actor=self.batch.uploaded_by,
                obj=self.batch,
                via=audit.Via.ADMIN,
                counts={
                    "created": self.batch.created,
                    "updated": self.batch.updated,
                    "unchanged": self.batch.unchanged,
                    "suppressed": self.batch.suppressed,
                },
                detail={"network": self.batch.network_id},
            )

    # --- export ------------------------------------------------------------------------

    def filter_export(self, queryset, **kwargs):
        return export_queryset(queryset, network=self.export_network)

    def dehydrate_connected_on(self, contact):
        value = getattr(contact, "export_connected_on", None)
        return value.strftime("%d %b %Y") if value else ""

    def dehydrate_tags(self, contact):
        return ", ".join(tag.name for tag in contact.tags.all())

    def dehydrate_do_not_contact(self, contact):
        return "yes" if contact.do_not_contact else ""

    def dehydrate_networks(self, contact):
        return ", ".join(c.network.name for c in contact.connections.all())

    def export_resource(self, instance, selected_fields=None, **kwargs):
        row = super().export_resource(instance, selected_fields=selected_fields, **kwargs)
        return [escape_formula(value) for value in row]


def export_queryset(queryset, *, network: Network | None = None):
    """Contacts annotated with what the export needs, without one query per row."""
    connections = Connection.objects.filter(contact=OuterRef("pk"), connected_on__isnull=False)
    if network is not None:
        connections = connections.filter(network=network)
    return (
        queryset.annotate(
            export_connected_on=Subquery(
                connections.order_by("connected_on").values("connected_on")[:1]
            ),
            export_note_count=Count("notes", distinct=True),
        )
        .prefetch_related("tags", "connections__network")
        .order_by("pk")
    )


def escape_formula(value):
    """Prefix an apostrophe to text a spreadsheet would run as a formula; the reader removes it
    again (linkedin_csv.unescape_formula), so a name like "-Ann-" round-trips."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class LinkedInConnectionsCSV(CSV):
    """ "LinkedIn Connections CSV" in the admin: the same reader as the wizard and the command."""

    def get_title(self):
        return "LinkedIn Connections CSV"

    def create_dataset(self, in_stream):
        data = in_stream if isinstance(in_stream, bytes) else in_stream.encode("utf-8")
        return parsed_to_dataset(parse_connections(data, max_bytes=settings.IMPORT_MAX_BYTES))

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"


# --- batches and applying a plan --------------------------------------------------------------


def batch_from_plan(
    plan: ImportPlan,
    parsed: ParsedExport | None,
    *,
    file_name: str,
    user,
    network: Network,
    sha256: str = "",
    size: int = 0,
) -> ImportBatch:
    """An unsaved, pending ImportBatch holding the plan and the counts the preview shows."""
    problems = [{"line": p.line, "message": p.message} for p in parsed.problems] if parsed else []
    return ImportBatch(
        file_name=file_name[:255],
        sha256=sha256,
        size=size,
        network=network,
        uploaded_by=user if getattr(user, "pk", None) else None,
        keep_existing=plan.keep_existing,
        file_format=parsed.format if parsed else "",
        encoding=parsed.encoding if parsed else "",
        rows=parsed.total_rows if parsed else plan.row_count + len(plan.invalid),
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=len(plan.unchanged),
        skipped_empty=parsed.skipped_empty if parsed else 0,
        invalid=(parsed.invalid if parsed else 0) + len(plan.invalid),
        duplicates_in_file=(parsed.duplicates_in_file if parsed else 0) + plan.duplicates_in_file,
        suppressed=plan.suppressed,
        errors=sorted(problems + plan.invalid, key=lambda e: e["line"]),
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
    finished = mine.update(
        possible_duplicates=[
            {**entry, "contact": created_by_line.get(entry["line"])}
            for entry in plan.possible_duplicates
        ],
        status=ImportBatch.Status.DONE,
        rows_done=plan.row_count,
        finished_at=timezone.now(),
    )
    batch.refresh_from_db()
    if not finished:
        raise BatchNotRunnable(
            f"Import batch {batch.pk} wrote every row but was stopped by recovery before it "
            "could be marked done."
        )
    return batch


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
            _create_contacts(chunk, batch, tag_ids)
        done += len(chunk)
        if progress:
            progress(done)
    connected = set(plan.connected)
    existing = plan.updates + plan.unchanged
    for chunk in chunks(existing, WRITE_BATCH):
        with transaction.atomic():
            if checkpoint:
                checkpoint(done + len(chunk))
            _update_contacts(chunk, batch, plan.network_id, connected, tag_ids)
        done += len(chunk)
        if progress:
            progress(done)


def _create_contacts(entries: Sequence[dict], batch: ImportBatch, tag_ids: list[int]) -> None:
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


def _update_contacts(
    entries: Sequence[dict],
    batch: ImportBatch,
    network_id: int,
    connected: set[int],
    tag_ids: list[int],
) -> None:
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
            update_fields=[*sorted(touched), "search_text", "name_key", "updated_at"],
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
