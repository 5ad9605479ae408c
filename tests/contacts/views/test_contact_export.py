"""The export page (/contacts/export/): how many contacts its filter exports, and the file the
worker makes of them."""

import datetime

import pytest

from contacts import services, tasks
from contacts.models import Contact, ContactExport, Network
from linkedin_crm.models import AuditEvent
from tests.contacts.export_csv import rows
from tests.contacts.factories import (
    ConnectionFactory,
    ContactFactory,
    NoteFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
LINKEDIN_HEADER = [
    "First Name",
    "Last Name",
    "URL",
    "Email Address",
    "Company",
    "Position",
    "Connected On",
]


def export_via_worker(client, data=None):
    """Ask for an export as the page does, run the worker's task (the real one, in this
    process), and download the file from the export's page."""
    response = client.post("/contacts/export/", data or {})
    assert response.status_code == 302, response.content
    export = ContactExport.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert response["Location"] == f"/contacts/exports/{export.pk}/"
    assert export.status == ContactExport.Status.QUEUED and not AuditEvent.objects.exists()
    tasks.export_contacts(export.pk)
    page = client.get(f"/contacts/exports/{export.pk}/").content.decode()
    assert "Download CSV" in page, page
    return client.post(f"/contacts/exports/{export.pk}/download/")


def test_the_page_needs_the_export_permission(staff_client):
    ContactFactory()
    response = staff_client.get("/contacts/export/")
    assert response.status_code == 403
    assert "Can export contacts" in response.content.decode()
    assert staff_client.post("/contacts/export/").status_code == 403
    assert not AuditEvent.objects.exists()


def test_the_page_says_how_many_it_exports_and_records_nothing_yet(exporter):
    ContactFactory(company="Acme")
    ContactFactory(company="Globex")
    response = exporter.get("/contacts/export/", {"company": "Acme", "page": "2"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Export 1 contact?" in page and 'name="query" value="company=Acme"' in page
    assert not AuditEvent.objects.exists()


def test_it_exports_the_linkedin_header_then_ours_respecting_the_filter(exporter):
    vip = TagFactory(name="VIP")
    ann = ContactFactory(
        first_name="Ann", last_name="Lee", company="Acme", email="a@x.org", tags=[vip]
    )
    ConnectionFactory(contact=ann, connected_on=datetime.date(2026, 1, 5))
    NoteFactory(contact=ann)
    ContactFactory(company="Globex")
    response = export_via_worker(exporter, {"query": "company=Acme"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = rows(response.content)
    assert table[0][:7] == LINKEDIN_HEADER
    assert table[0][7:] == ["Tags", "Stage", "Do Not Contact", "Notes", "Networks"]
    assert len(table) == 2
    assert table[1][:7] == [
        "Ann",
        "Lee",
        ann.profile_url,
        "a@x.org",
        "Acme",
        ann.position,
        "05 Jan 2026",
    ]
    assert table[1][7:10] == ["VIP", "lead", ""]
    assert table[1][10].endswith(": Met at the conference.")
    event = AuditEvent.objects.get()
    assert (event.actor, event.via, event.counts["contacts"], event.detail["filter"]) == (
        exporter.user,
        "page",
        1,
        {"company": "Acme"},
    )
    assert event.action == "export"


def test_an_invalid_filter_exports_nothing(exporter):
    response = exporter.get("/contacts/export/", {"stage": "wizard"})
    assert response.status_code == 302
    response = exporter.post("/contacts/export/", {"query": "stage=wizard"})
    assert response.status_code == 302
    assert response["Location"] == "/contacts/?stage=wizard"
    assert not AuditEvent.objects.exists()


def test_formulas_are_escaped_and_round_trip(exporter, staff_user):
    ContactFactory(first_name="-Ann-", last_name="=SUM(A1)", company="@corp", position="+1 role")
    content = export_via_worker(exporter).content.decode()
    table = rows(content)
    assert table[1][:2] == ["'-Ann-", "'=SUM(A1)"]
    assert table[1][4:6] == ["'@corp", "'+1 role"]
    batch = services.import_file(
        data=content.encode(),
        file_name="export.csv",
        user=staff_user,
        network=Network.objects.default_for(staff_user),
    )
    assert (batch.created, batch.updated, batch.unchanged) == (0, 0, 1)
    assert Contact.objects.get().first_name == "-Ann-"


def test_an_export_of_unchanged_contacts_reimports_as_unchanged(exporter, staff_user):
    network = Network.objects.default_for(staff_user)
    for index in range(5):
        contact = ContactFactory(first_name=f"Zoë{index}", last_name="Müller")
        ConnectionFactory(contact=contact, network=network, connected_on=datetime.date(2020, 1, 1))
    content = export_via_worker(exporter).content
    batch = services.import_file(data=content, file_name="e.csv", user=staff_user, network=network)
    assert (batch.created, batch.updated, batch.unchanged, batch.invalid) == (0, 0, 5, 0)


def test_the_audit_log_keeps_the_filter_but_not_the_search_text(exporter):
    """The log cannot be edited, and a search is often a person's name: an erasure must not
    leave one behind there."""
    ContactFactory(first_name="Jane", last_name="Doe", company="Acme")
    export_via_worker(exporter, {"query": "q=Jane+Doe&company=Acme"})
    event = AuditEvent.objects.get()
    assert "Jane" not in str(event.detail) and "Doe" not in str(event.detail)
    assert event.detail["filter"]["company"] == "Acme"
    assert event.detail["filter"]["q"] == "(a search)"


def test_the_page_writes_a_byte_order_mark_so_excel_reads_utf8(exporter):
    ContactFactory(first_name="Zoë", last_name="Müller", company="株式会社")
    content = export_via_worker(exporter).content
    assert content.startswith(b"\xef\xbb\xbfFirst Name,")
    assert "Zoë,Müller".encode() in content and "株式会社".encode() in content


def test_the_notes_column_holds_the_notes_newest_first(exporter):
    ann = ContactFactory(first_name="Ann")
    mia = UserFactory(username="mia", first_name="Mia", last_name="Berg")
    NoteFactory(
        contact=ann,
        author=mia,
        body="First call:\nasked for\tpricing.",
        created_at=datetime.datetime(2026, 1, 5, 12, tzinfo=datetime.UTC),
    )
    NoteFactory(
        contact=ann,
        author=None,
        body="=HYPERLINK(evil)",
        created_at=datetime.datetime(2026, 2, 1, 12, tzinfo=datetime.UTC),
    )
    ContactFactory(first_name="Bob")
    table = {row[0]: row for row in rows(export_via_worker(exporter).content)[1:]}
    # One line per cell: the reader takes a record of many lines for a stray quote.
    assert table["Ann"][10] == (
        "2026-02-01 ?: =HYPERLINK(evil) | 2026-01-05 Mia Berg: First call: asked for pricing."
    )
    assert table["Bob"][10] == ""


def test_long_notes_are_cut_and_the_export_still_imports_unchanged(exporter, staff_user):
    from contacts.resources import NOTES_CELL_CHARS

    network = Network.objects.default_for(staff_user)
    contact = ContactFactory(first_name="Talkative")
    ConnectionFactory(contact=contact, network=network, connected_on=datetime.date(2020, 1, 1))
    for _ in range(8):
        NoteFactory(contact=contact, body="word " * 1_900)
    content = export_via_worker(exporter).content
    cell = rows(content)[1][10]
    assert len(cell) == NOTES_CELL_CHARS and cell.endswith("…")
    batch = services.import_file(data=content, file_name="e.csv", user=staff_user, network=network)
    assert (batch.created, batch.updated, batch.unchanged, batch.invalid) == (0, 0, 1, 0)
