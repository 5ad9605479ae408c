import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Reply
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "linkedin_messages"


def test_messages_import_records_replies_confirms_sends_and_is_idempotent(
    staff_client, conversation
):
    data = (FIXTURES / "current.csv").read_bytes()
    response = staff_client.post(
        "/imports/messages/", {"file": SimpleUploadedFile("messages.csv", data)}
    )
    page = response.content.decode()
    # Zoë's reply (an opt-out) and Bartholomew's, which answers the Outbox message that the
    # export confirms as sent the day before.
    assert "2 new replies recorded (1 asked not to be contacted)" in page
    assert "1 Outbox message confirmed as sent" in page
    zoe = conversation["zoe"]
    zoe.refresh_from_db()
    assert zoe.do_not_contact and zoe.stage == "replied"
    waiting = conversation["waiting"]
    waiting.refresh_from_db()
    assert waiting.status == "sent" and waiting.channel == "manual"
    response = staff_client.post(
        "/imports/messages/", {"file": SimpleUploadedFile("messages.csv", data)}
    )
    assert "0 new replies recorded" in response.content.decode()
    assert Reply.objects.count() == 2
    assert Reply.objects.get(contact=conversation["bart"]).message == waiting


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "empty"),
        ("not_a_csv.pdf.csv", "PDF"),
        ("connections_by_mistake.csv", "Connections.csv"),
        ("headerless.csv", "CONVERSATION ID"),
    ],
)
def test_messages_import_rejects_bad_files(staff_client, conversation, name, message):
    data = (FIXTURES / name).read_bytes()
    response = staff_client.post("/imports/messages/", {"file": SimpleUploadedFile(name, data)})
    assert message in response.content.decode()
    assert not Reply.objects.exists()


def test_messages_import_takes_a_file_of_up_to_three_times_the_import_limit(
    staff_client, conversation, settings
):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    data = (FIXTURES / "current.csv").read_bytes()
    padded = data + b"\n" * (2 * 1024 * 1024)
    response = staff_client.post(
        "/imports/messages/", {"file": SimpleUploadedFile("messages.csv", padded)}
    )
    assert "2 new replies recorded" in response.content.decode()

    data += b"\n" * (3 * 1024 * 1024 + 1 - len(data))
    response = staff_client.post(
        "/imports/messages/", {"file": SimpleUploadedFile("messages.csv", data)}
    )
    page = response.content.decode()
    assert "This file is 3.0 MB, over the 3 MB limit." in page
    assert 'id="messages-result"' not in page
    assert Reply.objects.count() == 2  # the first file's


def test_an_export_confirms_only_its_own_members_outbox(
    staff_client, conversation, colleagues_waiting_message
):
    """Bartholomew also waits in a colleague's Outbox: Alice's export says nothing about that
    message, so it stays waiting — through the page (the importer owns Alice's account) and
    through the command without --owner (matched by the export's sender name)."""
    theirs = colleagues_waiting_message
    data = (FIXTURES / "current.csv").read_bytes()
    staff_client.post("/imports/messages/", {"file": SimpleUploadedFile("messages.csv", data)})
    theirs.refresh_from_db()
    conversation["waiting"].refresh_from_db()
    assert (theirs.status, conversation["waiting"].status) == ("released", "sent")


def test_an_export_records_replies_only_to_the_exporters_own_messages(
    staff_client, conversation, other_staff_user
):
    """Zoë answered Alice in Alice's conversation; a message Bob sent her earlier is not what
    she answered, and a member's upload must not write onto a colleague's message."""
    bobs = LinkedInAccountFactory(owner=other_staff_user, display_name="Bob Baker")
    bobs_message = MessageFactory(
        account=bobs,
        contact=conversation["zoe"],
        status="sent",
        sent_at=datetime.datetime(2025, 11, 19, 9, 0, tzinfo=datetime.UTC),
    )
    data = (FIXTURES / "current.csv").read_bytes()
    staff_client.post("/imports/messages/", {"file": SimpleUploadedFile("messages.csv", data)})
    bobs_message.refresh_from_db()
    assert bobs_message.replied_at is None
    reply = Reply.objects.get(contact=conversation["zoe"])
    assert reply.message.account.owner.username == "alice"


def test_an_export_with_no_message_of_the_exporter_records_no_reply(
    staff_client, conversation, other_staff_user
):
    """Only Bob ever wrote to Bartholomew here: Alice's export cannot attach his answer to
    Alice's conversation to Bob's message."""
    conversation["waiting"].delete()
    bobs = LinkedInAccountFactory(owner=other_staff_user, display_name="Bob Baker")
    MessageFactory(
        account=bobs,
        contact=conversation["bart"],
        status="sent",
        sent_at=datetime.datetime(2025, 11, 1, tzinfo=datetime.UTC),
    )
    data = (FIXTURES / "current.csv").read_bytes()
    staff_client.post("/imports/messages/", {"file": SimpleUploadedFile("messages.csv", data)})
    assert not Reply.objects.filter(contact=conversation["bart"]).exists()
