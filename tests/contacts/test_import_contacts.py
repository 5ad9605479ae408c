import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from contacts import services
from contacts.models import Connection, Contact, ImportBatch, Network, Tag
from tests.contacts.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def owner():
    return UserFactory(username="ann", is_staff=True)


def run_json(capsys, *args):
    call_command("import_contacts", *args, "--json")
    out = capsys.readouterr().out
    assert out.count("\n") <= 1  # exactly one JSON object
    return json.loads(out)


def test_it_imports_and_prints_one_json_object(owner, capsys):
    result = run_json(capsys, str(FIXTURES / "bad_emails.csv"), "--tag", "VIP", "--tag", "Q4")
    batch = ImportBatch.objects.get()
    assert result["batch"] == batch.pk
    assert set(result) == {
        "batch", "rows", "created", "updated", "unchanged", "skipped_empty", "invalid",
        "suppressed", "errors",
    }  # fmt: skip
    assert result["created"] == Contact.objects.count() > 0
    assert result["errors"] and {"line", "message"} == set(result["errors"][0])
    assert set(Tag.objects.values_list("name", flat=True)) == {"VIP", "Q4"}
    assert (
        Connection.objects.filter(network=Network.objects.default_for(owner)).count()
        == (result["created"])
    )


def test_a_dry_run_changes_nothing(owner, capsys):
    result = run_json(capsys, str(FIXTURES / "current.csv"), "--dry-run")
    assert result["batch"] is None and result["created"] == 6
    assert not Contact.objects.exists() and not ImportBatch.objects.exists()


def test_keep_existing_and_owner(owner, capsys):
    bob = UserFactory(username="bob", is_staff=True)
    ContactFactory(profile_url="https://www.linkedin.com/in/fitz-orme", position="Intern")
    result = run_json(capsys, str(FIXTURES / "current.csv"), "--owner", "bob", "--keep-existing")
    assert result["unchanged"] + result["updated"] == 1
    assert Contact.objects.get(profile_url__endswith="fitz-orme").position == "Intern"
    assert ImportBatch.objects.get().network == Network.objects.default_for(bob)


def test_network_by_name(owner, capsys):
    client_network = Network.objects.create(owner=owner, name="Client A")
    run_json(capsys, str(FIXTURES / "current.csv"), "--network", "Client A")
    assert ImportBatch.objects.get().network == client_network


def test_the_human_report(owner, capsys):
    call_command("import_contacts", str(FIXTURES / "current.csv"))
    assert "6 rows — 6 new, 0 updated" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["empty.csv"], "empty"),
        (["image.png.csv"], "PNG"),
        (["headerless.csv"], "First Name"),
        (["missing.csv"], "No such file"),
        (["current.csv", "--owner", "nobody"], "No active staff user 'nobody'"),
        (["current.csv", "--network", "Nope"], "No network called 'Nope'"),
        (["current.csv", "--tag", "x" * 61], "at most 60"),
    ],
)
def test_bad_input_fails_with_a_reason_and_changes_nothing(owner, args, message):
    ContactFactory()
    with pytest.raises(CommandError, match=message):
        call_command("import_contacts", str(FIXTURES / args[0]), *args[1:])
    assert Contact.objects.count() == 1 and not ImportBatch.objects.exists()


def test_a_rejected_file_exits_non_zero_with_the_reason_on_stderr(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "linkedin_crm.settings",
        "DEBUG": "1",
        "DATA_DIR": str(tmp_path),
    }

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    assert manage("migrate", "-v", "0").returncode == 0
    assert manage("create_first_admin").returncode == 0
    result = manage("import_contacts", str(FIXTURES / "doc.pdf.csv"), "--json")
    assert result.returncode == 1
    assert "doc.pdf.csv: This looks like a PDF" in result.stderr and result.stdout == ""


def test_undo_import_command(owner, capsys):
    call_command("import_contacts", str(FIXTURES / "current.csv"))
    batch = ImportBatch.objects.get()
    call_command("undo_import", str(batch.pk), "--as", "ann")
    assert "6 deleted" in capsys.readouterr().out
    assert not Contact.objects.exists()
    with pytest.raises(CommandError, match="cannot be undone"):
        call_command("undo_import", str(batch.pk), "--as", "ann")
    with pytest.raises(CommandError, match="No import batch 999"):
        call_command("undo_import", "999", "--as", "ann")


def test_undo_import_command_undoes_an_import_whose_worker_died(owner, capsys):
    call_command("import_contacts", str(FIXTURES / "current.csv"))
    batch = ImportBatch.objects.get()
    # Its six contacts committed, then its worker died (a pid reused since) before "done".
    ImportBatch.objects.filter(pk=batch.pk).update(
        status="running", worker=f"{socket.gethostname()}:{os.getpid()}:1", finished_at=None
    )
    call_command("undo_import", str(batch.pk), "--as", "ann")
    assert "6 deleted" in capsys.readouterr().out
    batch.refresh_from_db()
    assert batch.status == "undone" and "its process is gone" in batch.failure
    assert not Contact.objects.exists()


def test_undo_import_command_refuses_a_pending_batch(owner):
    batch = services.import_preview(
        data=(FIXTURES / "current.csv").read_bytes(),
        file_name="c.csv",
        user=owner,
        network=Network.objects.default_for(owner),
    )
    with pytest.raises(CommandError, match="it was never confirmed, so nothing was imported"):
        call_command("undo_import", str(batch.pk), "--as", "ann")
    assert ImportBatch.objects.get().status == "pending" and not Contact.objects.exists()
