import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin_messages"


def test_the_command_without_owner_confirms_the_exporters_messages_only(
    conversation, colleagues_waiting_message, capsys
):
    theirs = colleagues_waiting_message
    call_command("import_messages", str(FIXTURES / "current.csv"), "--json")
    assert json.loads(capsys.readouterr().out)["confirmed_sent"] == 1
    theirs.refresh_from_db()
    assert theirs.status == "released"


def test_import_messages_command(conversation, capsys):
    call_command("import_messages", str(FIXTURES / "current.csv"), "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["replies"] == 2 and result["confirmed_sent"] == 1
    with pytest.raises(CommandError, match="PDF"):
        call_command("import_messages", str(FIXTURES / "not_a_csv.pdf.csv"))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_messages", "/nonexistent.csv")
    with pytest.raises(CommandError, match="No staff user 'ghost'"):
        call_command("import_messages", str(FIXTURES / "current.csv"), "--owner", "ghost")


def test_rows_left_out_are_reported(staff_client, conversation, capsys, tmp_path):
    data = (FIXTURES / "current.csv").read_bytes()
    # One more row whose date cannot be read.
    broken = data.rstrip(b"\r\n") + (
        b"\r\n2-YnJva2Vu,,Bartholomew Quince,https://www.linkedin.com/in/bartholomew-quince,"
        b"Alice Archer,https://www.linkedin.com/in/alice-archer,yesterday-ish,,Hi,INBOX,No,\r\n"
    )
    path = tmp_path / "messages.csv"
    path.write_bytes(broken)
    call_command("import_messages", str(path), "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["skipped_rows"] == 2  # the draft and the unreadable date
    [(line, reason)] = result["problems"]
    assert "date" in reason.lower()
    response = staff_client.post(
        "/imports/messages/", {"file": SimpleUploadedFile("messages.csv", broken)}
    )
    page = response.content.decode()
    assert "2 rows left out" in page and f"Line {line}:" in page
