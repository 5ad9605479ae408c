import codecs
import csv
import datetime
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.utils import timezone

from contacts import services, tasks
from contacts.models import Contact, ContactExport, Network
from linkedin_crm.models import AuditEvent
from tests.contacts.factories import (
    ConnectionFactory,
    ContactFactory,
    NetworkFactory,
    NoteFactory,
    TagFactory,
    UserFactory,
)
from tests.contacts.worker import run_queued_tasks

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


@pytest.fixture
def exporter(client):
    user = UserFactory(username="exporter", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="export_contact"))
    client.force_login(user)
    client.user = user
    return client


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


def rows(text: str | bytes) -> list[list[str]]:
    """The rows of an export, which must start with the byte order mark that makes Excel read
    it as UTF-8 (without it, "Müller" shows as "MÃ¼ller")."""
    if isinstance(text, bytes):
        assert text.startswith(codecs.BOM_UTF8)
        text = text.decode("utf-8")
    assert text.startswith("\ufeff")
    text = text.removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text)))


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


def test_connected_on_is_the_networks_date_or_the_earliest(capsys, manager):
    contact = ContactFactory()
    mine = NetworkFactory(name="Mine")
    ConnectionFactory(contact=contact, network=mine, connected_on=datetime.date(2024, 3, 1))
    ConnectionFactory(contact=contact, connected_on=datetime.date(2019, 11, 20))
    call_command("export_contacts", "--as", "mia")
    assert rows(capsys.readouterr().out)[1][6] == "20 Nov 2019"
    call_command("export_contacts", "--network", "Mine", "--as", "mia")
    assert rows(capsys.readouterr().out)[1][6] == "01 Mar 2024"


def test_the_command_filters_writes_a_file_and_logs(tmp_path, capsys, manager):
    vip = TagFactory(name="VIP")
    ContactFactory(first_name="Tagged", tags=[vip], company="Acme", stage="replied")
    ContactFactory(first_name="Other", company="Acme")
    out = tmp_path / "out.csv"
    call_command(
        "export_contacts", "--output", str(out), "--tag", "vip", "--stage", "replied", "--as", "mia"
    )
    table = rows(out.read_text(encoding="utf-8"))
    assert [row[0] for row in table[1:]] == ["Tagged"]
    call_command("export_contacts", "--company", "Acme", "--as", "mia")
    assert len(rows(capsys.readouterr().out)) == 3
    events = AuditEvent.objects.filter(action="export")
    assert [event.via for event in events] == ["command", "command"]
    assert {event.actor for event in events} == {manager}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tag", "nope"], "No tag called 'nope'"),
        (["--stage", "wizard"], "Unknown stage 'wizard'"),
        (["--network", "nope"], "No network called 'nope'"),
        (["--output", "/nonexistent-dir/x.csv"], "No such folder"),
    ],
)
def test_the_command_reports_bad_input(args, message, manager):
    with pytest.raises(CommandError, match=message):
        call_command("export_contacts", *args, "--as", "mia")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Say who is doing this with --as USERNAME"),
        (["--as", "nobody"], "No active staff user 'nobody'"),
        (["--as", "alice"], "alice: Exporting contacts needs the “Can export contacts”"),
    ],
)
def test_the_command_needs_a_permitted_acting_user(args, message, staff_user, tmp_path, capsys):
    ContactFactory()
    out = tmp_path / "out.csv"
    with pytest.raises(CommandError, match=message):
        call_command("export_contacts", "--output", str(out), *args)
    assert not out.exists() and capsys.readouterr().out == ""
    assert not AuditEvent.objects.exists()


def test_the_round_trip_of_a_real_fixture(staff_user, capsys, manager):
    network = Network.objects.default_for(staff_user)
    data = (
        Path(__file__).resolve().parents[1] / "fixtures/linkedin/unicode_names.csv"
    ).read_bytes()
    services.import_file(data=data, file_name="u.csv", user=staff_user, network=network)
    call_command("export_contacts", "--as", "mia")
    exported = capsys.readouterr().out.encode()
    batch = services.import_file(data=exported, file_name="e.csv", user=staff_user, network=network)
    assert batch.created == 0 and batch.updated == 0 and batch.unchanged == Contact.objects.count()


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


def test_the_command_file_starts_with_a_byte_order_mark(tmp_path, manager):
    ContactFactory(last_name="Søren")
    out = tmp_path / "out.csv"
    call_command("export_contacts", "--output", str(out), "--as", "mia")
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and not data.startswith(codecs.BOM_UTF8 * 2)
    assert rows(data)[1][1] == "Søren"


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


def test_the_admin_export_starts_with_a_byte_order_mark(admin_client):
    ContactFactory(first_name="Łukasz", last_name="Müller")
    form = admin_client.get("/admin/contacts/contact/export/").context["form"]
    fields = {name: "on" for name in form.fields if name.startswith("contactresource_")}
    response = admin_client.post(
        "/admin/contacts/contact/export/", {"format": "0", "resource": "0", **fields}
    )
    assert response.content.startswith(codecs.BOM_UTF8)
    assert rows(response.content)[1][:2] == ["Łukasz", "Müller"]


# --- the export in the worker ----------------------------------------------------------------


def test_an_export_is_its_requesters_alone_and_the_download_is_a_post(exporter, staff_user):
    ContactFactory(company="Acme")
    exporter.post("/contacts/export/", {"query": "company=Acme"})
    export = ContactExport.objects.get()
    page = exporter.get(f"/contacts/exports/{export.pk}/").content.decode()
    assert "Waiting for the worker" in page and "Download CSV" not in page
    response = exporter.get(f"/contacts/exports/{export.pk}/progress/", HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in response
    other = UserFactory(username="other-exporter", is_staff=True)
    other.user_permissions.add(Permission.objects.get(codename="export_contact"))
    exporter.force_login(other)
    assert exporter.get(f"/contacts/exports/{export.pk}/").status_code == 404
    assert exporter.post(f"/contacts/exports/{export.pk}/download/").status_code == 404
    exporter.force_login(staff_user)  # no export permission
    assert exporter.get(f"/contacts/exports/{export.pk}/").status_code == 403
    exporter.force_login(export.requested_by)
    response = exporter.post(f"/contacts/exports/{export.pk}/download/", follow=True)
    assert "This export has no file to download." in response.content.decode()
    run_queued_tasks()
    response = exporter.get(f"/contacts/exports/{export.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
    assert exporter.get(f"/contacts/exports/{export.pk}/download/").status_code == 405
    response = exporter.post(f"/contacts/exports/{export.pk}/download/")
    assert len(rows(response.content)) == 2
    assert AuditEvent.objects.get().counts == {"contacts": 1}


def test_an_export_over_the_size_limit_fails_with_the_reason_and_is_not_recorded(
    exporter, settings
):
    settings.EXPORT_MAX_BYTES = 1000
    ContactFactory.create_batch(20, company="Acme")
    exporter.post("/contacts/export/")
    run_queued_tasks()
    export = ContactExport.objects.get()
    assert export.status == "failed" and export.data is None
    page = exporter.get(f"/contacts/exports/{export.pk}/").content.decode()
    assert "would be larger than" in page and "Narrow the filter" in page
    assert not AuditEvent.objects.exists()


def test_an_exporter_who_lost_the_permission_before_the_worker_ran_gets_nothing(exporter):
    ContactFactory()
    exporter.post("/contacts/export/")
    exporter.user.user_permissions.clear()
    run_queued_tasks()
    export = ContactExport.objects.get()
    assert export.status == "failed" and "Can export contacts" in export.failure
    assert export.data is None and not AuditEvent.objects.exists()


def test_an_export_whose_worker_died_is_marked_failed(exporter):
    exporter.post("/contacts/export/")
    export = ContactExport.objects.get()
    ContactExport.objects.filter(pk=export.pk).update(status="running", worker="x:1:1")
    later = timezone.now() + datetime.timedelta(minutes=6)
    assert services.contact_exports_recover(now=later) == 1
    export.refresh_from_db()
    assert export.status == "failed" and "stopped" in export.failure
