"""The export layout, and django-import-export's resource for the admin's buttons.

The export (the contact list's export page, the admin's export button, `export_contacts`)
writes LinkedIn's columns first, so that an export can be imported again, then ours. The
admin's import button hands the file to the import engine (contacts.importing), like the
wizard and the command: this module only adapts the engine's plan to the library's result.
"""

import tablib
from django.conf import settings
from django.db.models import OuterRef, Prefetch, Subquery
from django.utils import timezone
from import_export import fields, resources
from import_export.formats.base_formats import CSV
from import_export.results import Result, RowResult

from contacts import importing
from contacts.linkedin_csv import ParsedExport, parse_connections
from contacts.models import Connection, Contact, Network, Note
from linkedin_crm import audit

LINKEDIN_HEADER = {
    "first_name": "First Name",
    "last_name": "Last Name",
    "profile_url": "URL",
    "email": "Email Address",
    "company": "Company",
    "position": "Position",
    "connected_on": "Connected On",
}
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel holds at most 32,767 characters in a cell, and the reader gives up a record longer
# than 64 KiB (linkedin_csv.MAX_RECORD_CHARS): a re-import must not lose the contact.
NOTES_CELL_CHARS = 30_000
NOTES_SEPARATOR = " | "
# Excel opens a CSV without a byte order mark in the local code page: "Müller" and any CJK
# name would show garbled. The reader skips the mark, so an export still imports.
CSV_ENCODING = "utf-8-sig"
BYTE_ORDER_MARK = "\ufeff"


def parsed_to_dataset(parsed: ParsedExport) -> tablib.Dataset:
    """The reader's clean table as a tablib Dataset with LinkedIn's column names, for the
    admin's import page; the reader's own result travels with it for the import engine."""
    dataset = tablib.Dataset(headers=list(LINKEDIN_HEADER.values()))
    for row in parsed.rows:
        dataset.append(
            (
                row.first_name,
                row.last_name,
                row.profile_url or "",
                row.email,
                row.company,
                row.position,
                row.connected_on.isoformat() if row.connected_on else "",
            )
        )
    dataset.parsed = parsed
    return dataset


class ContactResource(resources.ModelResource):
    """Contacts in LinkedIn's column layout, plus our columns on export."""

    first_name = fields.Field("first_name", LINKEDIN_HEADER["first_name"])
    last_name = fields.Field("last_name", LINKEDIN_HEADER["last_name"])
    profile_url = fields.Field("profile_url", LINKEDIN_HEADER["profile_url"])
    email = fields.Field("email", LINKEDIN_HEADER["email"])
    company = fields.Field("company", LINKEDIN_HEADER["company"])
    position = fields.Field("position", LINKEDIN_HEADER["position"])
    connected_on = fields.Field(
        attribute="export_connected_on",
        column_name=LINKEDIN_HEADER["connected_on"],
        readonly=True,
    )
    tags = fields.Field(column_name="Tags", readonly=True)
    stage = fields.Field(attribute="stage", column_name="Stage", readonly=True)
    do_not_contact = fields.Field(column_name="Do Not Contact", readonly=True)
    notes = fields.Field(column_name="Notes", readonly=True)
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

    def __init__(self, *, network: Network | None = None, export_network: Network | None = None):
        super().__init__()
        self.network = network
        self.export_network = export_network

    # --- the admin's import button ------------------------------------------------------------

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs) -> Result:
        """Plan the file (the preview, `dry_run`) or plan and apply it as an import batch that
        can be undone like any other, into the admin user's own network."""
        if self.network is None:
            raise ValueError("ContactResource needs the network the export belongs to.")
        parsed = dataset.parsed
        plan = importing.plan_import(parsed, network=self.network)
        if not dry_run:
            batch = importing.batch_from_plan(
                plan,
                parsed,
                file_name=kwargs.get("file_name") or "admin import",
                user=kwargs.get("user"),
                network=self.network,
            )
            batch.save()
            batch = importing.run_plan(batch, plan)
            importing.record_import(batch, actor=batch.uploaded_by, via=audit.Via.ADMIN)
        return self._admin_result(plan, len(dataset))

    def _admin_result(self, plan: importing.ImportPlan, total_rows: int) -> Result:
        """The plan in the shape the admin's preview and success message read: one row per new
        or updated contact (unchanged ones are only counted), each field's new value."""
        result = Result()
        result.diff_headers = [LINKEDIN_HEADER[name] for name in importing.IMPORT_FIELDS]
        result.total_rows = total_rows
        for entry in plan.creates:
            row = RowResult()
            row.import_type = RowResult.IMPORT_TYPE_NEW
            row.diff = [entry["values"][name] or "" for name in importing.IMPORT_FIELDS]
            result.append_row_result(row)
        for entry in plan.updates:
            row = RowResult()
            row.import_type = RowResult.IMPORT_TYPE_UPDATE
            row.object_id = entry["contact"]
            changes = entry["changes"]
            row.diff = [
                f"{changes[name][0] or '—'} → {changes[name][1]}" if name in changes else ""
                for name in importing.IMPORT_FIELDS
            ]
            result.append_row_result(row)
        result.totals[RowResult.IMPORT_TYPE_NEW] = len(plan.creates)
        result.totals[RowResult.IMPORT_TYPE_UPDATE] = len(plan.updates)
        result.totals[RowResult.IMPORT_TYPE_SKIP] = len(plan.unchanged)
        return result

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

    def dehydrate_notes(self, contact):
        return notes_cell(contact.notes.all())

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
    notes = Note.objects.select_related("author").order_by("-created_at", "-id")
    return (
        queryset.annotate(
            export_connected_on=Subquery(
                connections.order_by("connected_on").values("connected_on")[:1]
            ),
        )
        .prefetch_related("tags", "connections__network", Prefetch("notes", queryset=notes))
        .order_by("pk")
    )


def notes_cell(notes) -> str:
    """A contact's notes, newest first, each as "2026-01-05 mia: text", in one line.

    One line because the reader takes a record of more than a few lines for a stray quote
    (linkedin_csv.MAX_RECORD_LINES): an export must import again. Cut to NOTES_CELL_CHARS.
    """
    parts = []
    for note in notes:
        author = note.author.get_full_name() or note.author.get_username() if note.author else "?"
        stamp = timezone.localtime(note.created_at).strftime("%Y-%m-%d")
        parts.append(f"{stamp} {author}: {' '.join(note.body.split())}")
    text = NOTES_SEPARATOR.join(parts)
    if len(text) > NOTES_CELL_CHARS:
        text = text[: NOTES_CELL_CHARS - 1].rstrip() + "…"
    return text


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
