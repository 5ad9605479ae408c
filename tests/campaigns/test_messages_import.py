"""Importing messages.csv (campaigns.services.messages_import): every row of the file is counted
in one bucket or listed with its reason, and only accounts the importer may act for are
written to."""

import csv
import datetime
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from campaigns import services
from campaigns.messages_csv import parse_messages
from campaigns.models import Reply
from messaging.models import Message, MessageEvent
from tests.contacts.factories import ConnectionFactory, ContactFactory, UserFactory, with_role
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin_messages"
IN = "https://www.linkedin.com/in/"
HEADER = [
    "CONVERSATION ID", "CONVERSATION TITLE", "FROM", "SENDER PROFILE URL", "TO",
    "RECIPIENT PROFILE URLS", "DATE", "SUBJECT", "CONTENT", "FOLDER", "IS MESSAGE DRAFT",
]  # fmt: skip
MAYA = ("Maya Moss", f"{IN}maya-moss")
CARL = ("Carl Cortez", f"{IN}carl-cortez")
DORA = ("Dora Dunne", f"{IN}dora-dunne")
SENT_AT = datetime.datetime(2025, 11, 18, 16, 5, tzinfo=datetime.UTC)


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


def export(*rows: tuple) -> bytes:
    """A messages.csv of (conversation, sender, recipient, date, content) rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for conv, sender, to, date, content in rows:
        writer.writerow([conv, "", *sender, *to, date, "", content, "INBOX", "No"])
    return out.getvalue().encode()


def run(data: bytes, actor) -> services.MessagesImportResult:
    parsed = parse_messages(data)
    result = services.messages_import(parsed=parsed, actor=actor)
    # Whatever happened, every data row is in exactly one bucket.
    assert result.rows == parsed.total_rows
    assert result.accounted_rows() == parsed.total_rows
    return result


@pytest.fixture
def maya(db):
    user = UserFactory(username="maya", is_staff=True)
    return LinkedInAccountFactory(owner=user, display_name="Maya Moss")


@pytest.fixture
def carl(maya):
    contact = ContactFactory(first_name="Carl", last_name="Cortez", profile_url=CARL[1])
    ConnectionFactory(contact=contact, network=maya.network)
    return contact


# Maya's conversation with Carl: her message (waiting in her Outbox until she sent it by hand on
# LinkedIn), and his reply. A second conversation keeps Maya the export's clear owner.
MAYAS_EXPORT = export(
    ("c-carl", CARL, MAYA, "2025-11-19 09:00:00 UTC", "Thanks Maya, let's talk."),
    ("c-carl", MAYA, CARL, "2025-11-18 16:05:00 UTC", "Hi Carl, a quick call?"),
    ("c-dora", DORA, MAYA, "2025-11-17 10:00:00 UTC", "Hello Maya"),
)


@pytest.fixture
def mayas_outbox(maya, carl):
    return MessageFactory(
        account=maya, contact=carl, status="released", released_at=utc("2025-11-17 12:00:00")
    )


def test_an_admin_importing_mayas_export_confirms_her_message_and_counts_the_reply(
    mayas_outbox, carl
):
    """Issue #13: this gave "0 confirmed, 0 new replies, 0 already known, 0 from
    non-contacts". An admin may manage every member's account, so the import acts for Maya's."""
    admin = with_role(UserFactory(username="root", is_staff=True), "Admin")

    result = run(MAYAS_EXPORT, admin)

    assert (result.confirmed_sent, result.replies, result.unmatched) == (1, 1, 1)
    assert result.left_out == {}
    mayas_outbox.refresh_from_db()
    assert (mayas_outbox.status, mayas_outbox.sent_at) == ("sent", SENT_AT)
    reply = Reply.objects.get(contact=carl)
    assert reply.message == mayas_outbox and reply.recorded_by == admin


def test_a_manager_and_the_command_without_owner_act_for_mayas_account_too(mayas_outbox):
    manager = with_role(UserFactory(username="mia", is_staff=True), "Manager")
    assert run(MAYAS_EXPORT, manager).confirmed_sent == 1
    assert run(MAYAS_EXPORT, None).already_known == 2  # nothing new the second time


def test_a_member_cannot_import_for_mayas_account_and_is_told_why(mayas_outbox, staff_user):
    LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")
    # Alice once wrote to Carl herself: still, Maya's conversation is not hers to import.
    MessageFactory(contact=mayas_outbox.contact, account__owner=staff_user, status="sent")

    result = run(MAYAS_EXPORT, staff_user)

    assert result.left_out == {services.NOT_YOUR_ACCOUNT: 2}
    assert result.left_out_lines == [
        (3, services.NOT_YOUR_ACCOUNT),
        (2, services.NOT_YOUR_ACCOUNT),
    ]
    assert result.unmatched == 1
    mayas_outbox.refresh_from_db()
    assert mayas_outbox.status == "released"
    assert not Reply.objects.exists() and not MessageEvent.objects.exists()


def test_rows_that_reach_a_contact_but_are_not_taken_are_listed_with_their_reason(maya, carl):
    dora = ContactFactory(first_name="Dora", profile_url=DORA[1])
    data = export(
        # Carl wrote first: his message answers nothing of Maya's.
        ("c-carl", CARL, MAYA, "2025-11-10 09:00:00 UTC", "Hi Maya, coffee?"),
        # Maya wrote to Dora on LinkedIn directly: nothing waits in the Outbox.
        ("c-dora", MAYA, DORA, "2025-11-11 09:00:00 UTC", "Hello Dora"),
    )

    result = run(data, None)

    assert result.left_out == {services.NOT_A_REPLY: 1, services.NOT_IN_OUTBOX: 1}
    assert sorted(result.left_out_lines) == [
        (2, services.NOT_A_REPLY),
        (3, services.NOT_IN_OUTBOX),
    ]
    assert not Reply.objects.exists() and dora.messages.count() == 0


def test_the_command_without_owner_lists_rows_when_no_account_has_the_exporters_name(carl):
    result = run(MAYAS_EXPORT.replace(b"Maya Moss", b"Somebody Else"), None)

    assert result.left_out == {services.NO_ACCOUNT: 2} and result.unmatched == 1


def test_an_older_export_finds_the_recipient_of_a_sent_message_by_who_answered(mayas_outbox, carl):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["CONVERSATION ID", "FROM", "SENDER PROFILE URL", "TO", "DATE", "CONTENT"])
    writer.writerow(["c-carl", *CARL, MAYA[0], "2025-11-19 09:00:00 UTC", "Thanks"])
    writer.writerow(["c-carl", *MAYA, CARL[0], "2025-11-18 16:05:00 UTC", "Hi Carl"])
    writer.writerow(["c-dora", *MAYA, DORA[0], "2025-11-17 16:05:00 UTC", "Hi Dora"])

    result = run(out.getvalue().encode(), None)

    assert (result.confirmed_sent, result.replies) == (1, 1)
    assert result.left_out == {services.NO_RECIPIENT: 1}


@pytest.mark.parametrize(
    "name", ["current.csv", "older_no_recipient_urls.csv", "excel_semicolon_bom.csv",
             "bad_dates.csv", "export_2018.csv"],
)  # fmt: skip
def test_every_row_of_every_readable_fixture_is_accounted_for(staff_user, name):
    account = LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")
    for first, last, slug in [("Zoë", "Müller", "zoe-mueller"), ("Sam", "Lee", "sam-lee-1"),
                              ("Sam", "Lee", "sam-lee-2"),
                              ("Bartholomew", "Quince", "bartholomew-quince")]:  # fmt: skip
        contact = ContactFactory(first_name=first, last_name=last, profile_url=f"{IN}{slug}")
        ConnectionFactory(contact=contact, network=account.network)
        MessageFactory(account=account, contact=contact, status="sent", sent_at=utc("2018-01-01"))

    first = run((FIXTURES / name).read_bytes(), staff_user)
    again = run((FIXTURES / name).read_bytes(), staff_user)

    assert first.replies > 0 and again.replies == 0


# --- The 2018 export, matched by name ----------------------------------------------------------


@pytest.fixture
def alice_2018(staff_user):
    """Alice's account and her contacts, as the 2018 fixture names them."""
    account = LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")
    people = {}
    for first, last in [("Zoë", "Müller"), ("Sam", "Lee"), ("Sam", "Lee"), ("Bartholomew",
                        "Quince")]:  # fmt: skip
        contact = ContactFactory(first_name=first, last_name=last, profile_url=None)
        ConnectionFactory(contact=contact, network=account.network)
        people[first] = contact
    # Someone else's network has a Quentin Moreau: not one of Alice's contacts.
    ConnectionFactory(contact=ContactFactory(first_name="Quentin", last_name="Moreau"))
    zoe_waiting = MessageFactory(
        account=account, contact=people["Zoë"], status="released", released_at=utc("2018-02-28")
    )
    bart_waiting = MessageFactory(
        account=account,
        contact=people["Bartholomew"],
        status="released",
        released_at=utc("2018-01-31"),
    )
    return {"account": account, "zoe": zoe_waiting, "bart": bart_waiting, **people}


def test_the_2018_export_matches_conversations_by_name(alice_2018, staff_user):
    data = (FIXTURES / "export_2018.csv").read_bytes()

    result = run(data, staff_user)

    # "Zoe Muller" is Zoë Müller; Alice's messages to her and to Bartholomew are confirmed and
    # Zoë's answer is her reply.
    assert (result.confirmed_sent, result.replies) == (2, 1)
    reply = Reply.objects.get()
    assert (reply.contact, reply.message, reply.text) == (
        alice_2018["Zoë"],
        alice_2018["zoe"],
        "Danke, gern!",
    )
    # Two contacts are named Sam Lee: neither is guessed. Quentin Moreau is no contact of hers.
    assert result.left_out == {services.AMBIGUOUS_NAME: 2}
    assert result.unmatched == 1
    assert sorted(result.left_out_lines) == [
        (4, f"“Sam Lee”: {services.AMBIGUOUS_NAME}"),
        (5, f"“Sam Lee”: {services.AMBIGUOUS_NAME}"),
        (6, f"“Quentin Moreau”: {services.UNKNOWN_NAME}"),
    ]
    again = run(data, staff_user)
    assert (again.confirmed_sent, again.replies, again.already_known) == (0, 0, 3)


def test_the_2018_export_is_imported_through_the_page_with_its_reasons(alice_2018, staff_client):
    data = (FIXTURES / "export_2018.csv").read_bytes()

    response = staff_client.post(
        "/imports/messages/", {"file": SimpleUploadedFile("messages.csv", data)}
    )

    page = response.content.decode()
    assert "6 rows in 4 conversations" in page
    assert "1 new reply recorded" in page
    assert "2 rows not taken: several contacts in your network have this name" in page
    assert "Line 6: “Quentin Moreau”: no contact in your network has this name" in page
    assert "Cannot tell whose export" not in page


def test_the_command_reads_the_2018_export_and_prints_every_bucket(alice_2018, capsys):
    call_command("import_messages", str(FIXTURES / "export_2018.csv"), "--json")
    result = json.loads(capsys.readouterr().out)
    assert (result["rows"], result["replies"], result["confirmed_sent"]) == (6, 1, 2)

    call_command("import_messages", str(FIXTURES / "export_2018.csv"))
    out = capsys.readouterr().out
    assert "6 rows in 4 conversations: 0 new replies" in out
    assert f"2 rows not taken: {services.AMBIGUOUS_NAME}." in out


def test_an_export_whose_owner_cannot_be_told_is_refused_saying_what_to_do(staff_client):
    data = export(("c1", CARL, MAYA, "2025-11-19 09:00:00 UTC", "Hi"))

    response = staff_client.post(
        "/imports/messages/", {"file": SimpleUploadedFile("messages.csv", data)}
    )

    page = response.content.decode()
    assert "Cannot tell whose export this is" in page
    assert "Upload the whole messages.csv of your LinkedIn data export" in page
    assert not Message.objects.exists() and not Reply.objects.exists()
