"""Exporting contacts below the export pages (views/test_contact_export.py and
views/test_contact_export_detail.py test those): the export_contacts command, the admin's export,
and the worker's task when its requester lost the permission or the worker died."""

import codecs
import datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from contacts import services
from contacts.models import Contact, ContactExport, Network
from linkedin_crm.models import AuditEvent
from tests.contacts.export_csv import rows
from tests.contacts.factories import ConnectionFactory, ContactFactory, NetworkFactory, TagFactory
from tests.contacts.worker import run_queued_tasks

pytestmark = pytest.mark.django_db


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


def test_the_command_file_starts_with_a_byte_order_mark(tmp_path, manager):
    ContactFactory(last_name="Søren")
    out = tmp_path / "out.csv"
    call_command("export_contacts", "--output", str(out), "--as", "mia")
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and not data.startswith(codecs.BOM_UTF8 * 2)
    assert rows(data)[1][1] == "Søren"


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
