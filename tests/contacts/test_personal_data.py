"""A person's rights: everything stored about them as JSON, and erasure that leaves only a keyed
hash of their identifiers, so that no later import brings them back."""

import datetime
import io
import json
from pathlib import Path

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from campaigns import services as campaign_services
from campaigns.messages_csv import parse_messages
from campaigns.models import CampaignMessage, Enrollment, Reply
from contacts import personal_data, services
from contacts.models import (
    Connection,
    Contact,
    ContactAlias,
    ImportBatch,
    ImportChange,
    MergeLog,
    Network,
    Note,
    Suppression,
)
from linkedin_crm.models import AuditEvent
from messaging.models import Message, MessageEvent
from tests.campaigns.factories import CampaignFactory, add_step
from tests.contacts.factories import (
    ConnectionFactory,
    ContactFactory,
    ImportBatchFactory,
    NoteFactory,
    TagFactory,
)
from tests.contacts.worker import run_queued_tasks
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

pytestmark = pytest.mark.django_db
HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
URL = "https://www.linkedin.com/in/zelda-quist"
OLD_URL = "https://www.linkedin.com/in/zq-old-profile"
# What names the person anywhere: none of it may remain after the erasure.
TRACES = ["Zelda", "Quist", "zelda@quist.example", "zelda-quist", "zq-old-profile", "zq@old"]
CONNECTIONS = (
    HEADER
    + f"Zelda,Quist,{URL},zelda@quist.example,Quist & Co,Owner,05 Jan 2026\n"
    + "Bram,Other,https://www.linkedin.com/in/bram-other,,Elsewhere,CTO,06 Jan 2026\n"
)


@pytest.fixture
def person(staff_user, other_staff_user):
    """Zelda, with something of every kind stored about her."""
    zelda = ContactFactory(
        first_name="Zelda",
        last_name="Quist",
        profile_url=URL,
        email="zelda@quist.example",
        company="Quist & Co",
        position="Owner",
        tags=[TagFactory(name="VIP")],
    )
    ConnectionFactory(contact=zelda, network=Network.objects.default_for(staff_user))
    NoteFactory(contact=zelda, author=staff_user, body="Zelda prefers calls on Fridays")
    ContactAlias.objects.create(contact=zelda, kind="url", value=OLD_URL)
    ContactAlias.objects.create(contact=zelda, kind="email", value="zq@old.example")
    account = LinkedInAccountFactory(owner=staff_user)
    message = MessageFactory(contact=zelda, account=account, status="sent", body="Hi Zelda!")
    MessageEvent.objects.create(message=message, status="sent", note="sent to Zelda")
    campaign = CampaignFactory(owner=staff_user)
    step = add_step(campaign, 1, {"A": "Hi {{ first_name }}"})
    enrollment = Enrollment.objects.create(campaign=campaign, contact=zelda, sender=account)
    CampaignMessage.objects.create(
        message=message, enrollment=enrollment, step=step, variant=step.variants.get()
    )
    Reply.objects.create(contact=zelda, message=message, text="Yes, Friday works")
    ImportChange.objects.create(
        batch=ImportBatchFactory(), contact=zelda, fields={"position": ["Founder", "Owner"]}
    )
    MergeLog.objects.create(
        survivor=zelda, merged_contact_id=999, merged_snapshot={"first_name": "Zelda"}
    )
    # A record whose survivor was merged into Zelda later: it lost its survivor, not her data.
    MergeLog.objects.create(
        survivor=None,
        merged_contact_id=998,
        merged_snapshot={"first_name": "Zelda", "profile_url": OLD_URL, "email": ""},
    )
    kind = ContentType.objects.get_for_model(Contact)
    LogEntry.objects.create(
        user=staff_user,
        content_type=kind,
        object_id=str(zelda.pk),
        object_repr=str(zelda),
        action_flag=CHANGE,
        change_message="[]",
    )
    ImportBatchFactory(
        errors=[
            {"line": 3, "message": 'E-mail "zelda@quist.example;" is not an e-mail address'},
            {"line": 4, "message": "Position cut to 300 characters"},
        ]
    )
    return zelda


@pytest.fixture
def bystander(staff_user):
    bram = ContactFactory(first_name="Bram", last_name="Other", profile_url=None)
    NoteFactory(contact=bram, body="Keep me")
    MessageFactory(contact=bram, account=LinkedInAccountFactory(owner=staff_user))
    ConnectionFactory(contact=bram)
    return bram


def everything_stored() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


# --- erasure ---------------------------------------------------------------------------------


def test_the_erase_page_says_what_will_be_deleted(manager_client, person):
    page = manager_client.get(f"/contacts/{person.pk}/erase/").content.decode()
    assert "Erase Zelda Quist?" in page
    for kind, count in [
        ("messages", 1),
        ("message-events", 1),
        ("replies", 1),
        ("enrollments", 1),
        ("campaign-messages", 1),
        ("notes", 1),
        ("connections", 1),
        ("aliases", 1 + 1),
        ("import-changes", 1),
        ("merges", 2),
        ("tags", 1),
    ]:
        assert f'<span id="count-{kind}">{count}</span>' in page, kind
    assert Contact.objects.filter(pk=person.pk).exists()


def test_it_erases_everything_and_keeps_only_hashes_and_an_audit_event(
    manager_client, manager, person, bystander
):
    assert any(trace in everything_stored() for trace in TRACES)
    response = manager_client.post(f"/contacts/{person.pk}/erase/", follow=True)
    assert f"Contact #{person.pk} was erased" in response.content.decode()
    stored = everything_stored()
    assert [trace for trace in TRACES if trace in stored] == []
    for model in (Message, MessageEvent, Reply, Enrollment, CampaignMessage, Note, Connection):
        assert model.objects.count() == (1 if model in (Message, Note, Connection) else 0), model
    assert not ContactAlias.objects.exists() and not ImportChange.objects.exists()
    assert not MergeLog.objects.exists() and not LogEntry.objects.exists()
    assert Contact.objects.get() == bystander and bystander.notes.count() == 1
    assert ImportBatch.objects.exclude(errors=[]).get().errors == [
        {"line": 4, "message": "Position cut to 300 characters"}
    ]
    assert sorted(Suppression.objects.values_list("kind", flat=True)) == [
        "email",
        "email",
        "url",
        "url",
    ]
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.via) == ("erase", manager, "page")
    assert (event.object_type, event.object_id) == ("contact", str(person.pk))
    assert event.counts["messages"] == 1 and event.counts["notes"] == 1
    assert event.counts["import problems"] == 1


def test_a_reimport_of_the_same_file_reports_the_person_suppressed(manager, staff_user):
    network = Network.objects.default_for(staff_user)
    first = services.import_file(
        data=CONNECTIONS.encode(), file_name="c.csv", user=staff_user, network=network
    )
    assert first.created == 2
    zelda = Contact.objects.get(first_name="Zelda")
    personal_data.person_erase(contact=zelda, actor=manager)
    again = services.import_file(
        data=CONNECTIONS.encode(), file_name="c.csv", user=staff_user, network=network
    )
    assert (again.created, again.updated, again.unchanged, again.suppressed) == (0, 0, 1, 1)
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Bram"]
    event = AuditEvent.objects.filter(action="import").latest("id")
    assert event.counts["suppressed"] == 1


def test_the_wizard_shows_suppressed_rows_and_creates_nothing(
    staff_client, staff_user, manager, person
):
    personal_data.person_erase(contact=person, actor=manager)
    # The same person under their old e-mail, and with no URL at all: still left out.
    data = (
        HEADER
        + f"Zelda,Quist,{URL},,Quist & Co,Owner,05 Jan 2026\n"
        + "Zelda,Q,,zq@old.example,,,05 Jan 2026\n"
        + f"Zelda,Quist,{OLD_URL},,,,05 Jan 2026\n"
    ).encode()
    network = Network.objects.default_for(staff_user).pk
    staff_client.post("/imports/", {"file": SimpleUploadedFile("c.csv", data), "network": network})
    run_queued_tasks()
    batch = ImportBatch.objects.get(status="pending")
    assert (batch.created, batch.suppressed) == (0, 3)
    page = staff_client.get(f"/imports/{batch.pk}/").content.decode()
    assert 'id="count-suppressed">3<' in page
    response = staff_client.post(f"/imports/{batch.pk}/confirm/", follow=True)
    assert "Imported: 0 new, 0 updated, 0 unchanged, 3 suppressed." in response.content.decode()
    assert not Contact.objects.exists()


def test_an_import_waiting_for_confirmation_loses_the_persons_rows(
    staff_user, manager, person, bystander
):
    data = (
        CONNECTIONS.replace("Owner,05", "Chair,05")
        + "Zelda,Quist,https://www.linkedin.com/in/zelda-new,zelda@quist.example,,,05 Jan 2026\n"
    )
    batch = services.import_preview(
        data=data.encode(),
        file_name="c.csv",
        user=staff_user,
        network=Network.objects.default_for(staff_user),
    )
    assert (batch.created, batch.updated) == (2, 1)
    personal_data.person_erase(contact=person, actor=manager)
    batch.refresh_from_db()
    assert (batch.created, batch.updated, batch.suppressed) == (1, 0, 2)
    assert not any(trace in json.dumps(batch.plan) for trace in TRACES)
    services.import_confirm(batch=batch, actor=staff_user)
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Bram", "Bram"]


def test_it_waits_for_an_import_being_applied(manager_client, person):
    ImportBatchFactory(status="running")
    response = manager_client.post(f"/contacts/{person.pk}/erase/", follow=True)
    assert "Nothing was erased. An import is being applied right now" in (response.content.decode())
    assert Contact.objects.filter(pk=person.pk).exists() and Message.objects.exists()
    assert not Suppression.objects.exists() and not AuditEvent.objects.exists()


def test_messages_csv_leaves_an_erased_person_out(staff_user, manager):
    # The export is Alice Archer's; Zoë's reply to our message is in it.
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin_messages"
    account = LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")
    url = "https://www.linkedin.com/in/zoe-mueller"
    zoe = ContactFactory(first_name="Zoë", profile_url=url)
    personal_data.person_erase(contact=zoe, actor=manager)
    # Someone adds her again by hand, and writes to her.
    again = ContactFactory(first_name="Zoë", profile_url=url)
    sent = datetime.datetime(2025, 11, 18, 16, 5, tzinfo=datetime.UTC)
    MessageFactory(account=account, contact=again, status="sent", sent_at=sent)
    parsed = parse_messages((fixtures / "current.csv").read_bytes())
    result = campaign_services.messages_import(parsed=parsed, actor=staff_user)
    assert result.suppressed == 2  # her reply and our message to her
    assert not Reply.objects.filter(contact=again).exists()
    again.refresh_from_db()
    assert not again.do_not_contact  # her opt-out was not read either


# --- the person's data -----------------------------------------------------------------------


def test_the_export_holds_everything_stored_about_the_person(manager_client, manager, person):
    page = manager_client.get(f"/contacts/{person.pk}/export-data/").content.decode()
    assert "Export everything stored about Zelda Quist?" in page
    response = manager_client.post(f"/contacts/{person.pk}/export-data/")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert f'filename="contact-{person.pk}.json"' in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["contact"]["email"] == "zelda@quist.example" and data["tags"] == ["VIP"]
    assert [note["body"] for note in data["notes"]] == ["Zelda prefers calls on Fridays"]
    [message] = data["messages"]
    assert message["body"] == "Hi Zelda!" and message["account"].startswith("Member")
    assert [event["note"] for event in message["events"]] == ["sent to Zelda"]
    assert message["campaign_link"][0]["variant"].endswith("A")
    assert [reply["text"] for reply in data["replies"]] == ["Yes, Friday works"]
    assert len(data["enrollments"]) == 1 and len(data["enrollments"][0]["messages"]) == 1
    assert sorted(alias["value"] for alias in data["aliases"]) == [OLD_URL, "zq@old.example"]
    assert data["import_changes"][0]["fields"] == {"position": ["Founder", "Owner"]}
    assert len(data["connections"]) == 1 and len(data["merges"]) == 2
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.via) == ("person_export", manager, "page")
    assert event.object_repr == f"contact #{person.pk}" and event.counts["messages"] == 1
    assert Contact.objects.filter(pk=person.pk).exists()


# --- who may -----------------------------------------------------------------------------------


def test_a_member_sees_no_personal_data_actions_and_is_refused(staff_client, staff_user, person):
    detail = staff_client.get(f"/contacts/{person.pk}/").content.decode()
    assert "Erase this person" not in detail and "Export this person" not in detail
    for url in (f"/contacts/{person.pk}/erase/", f"/contacts/{person.pk}/export-data/"):
        assert staff_client.get(url).status_code == 403
        response = staff_client.post(url)
        assert response.status_code == 403
        assert "Can erase a person" in response.content.decode()
    for act in (personal_data.person_erase, personal_data.person_export):
        with pytest.raises(services.PermissionDenied):
            act(contact=person, actor=staff_user)
    assert Contact.objects.filter(pk=person.pk).exists() and Message.objects.count() == 1
    assert not Suppression.objects.exists() and not AuditEvent.objects.exists()


def test_a_manager_sees_them(manager_client, person):
    detail = manager_client.get(f"/contacts/{person.pk}/").content.decode()
    assert "Erase this person…" in detail and "Export this person's data…" in detail


# --- commands ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["erase_contact", "export_person"])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999", "--as", "mia"], "No contact 999999"),
        (["PK"], "Say who is doing this with --as USERNAME"),
        (["PK", "--as", "nobody"], "No active staff user 'nobody'"),
        (["PK", "--as", "alice"], "alice: Erasing a person or exporting everything"),
    ],
)
def test_the_commands_refuse_bad_input_and_change_nothing(
    command, args, message, person, manager, staff_user, capsys
):
    args = [str(person.pk) if arg == "PK" else arg for arg in args]
    with pytest.raises(CommandError, match=message):
        call_command(command, *args)
    assert capsys.readouterr().out == ""
    assert Contact.objects.filter(pk=person.pk).exists() and Message.objects.count() == 1
    assert not Suppression.objects.exists() and not AuditEvent.objects.exists()


def test_the_erase_command(person, manager, capsys):
    call_command("erase_contact", str(person.pk), "--as", "mia")
    assert f"Erased contact {person.pk}: " in capsys.readouterr().out
    assert not Contact.objects.exists() and Suppression.objects.count() == 4
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.via) == ("erase", manager, "command")


def test_the_export_command_writes_stdout_or_a_file(person, manager, capsys, tmp_path):
    call_command("export_person", str(person.pk), "--as", "mia")
    assert json.loads(capsys.readouterr().out)["notes"][0]["body"].startswith("Zelda")
    out = tmp_path / "zelda.json"
    call_command("export_person", str(person.pk), "--as", "mia", "--output", str(out))
    assert json.loads(out.read_text(encoding="utf-8"))["contact"]["id"] == person.pk
    with pytest.raises(CommandError, match="No such folder"):
        call_command("export_person", str(person.pk), "--as", "mia", "--output", "/nope/x.json")
    events = AuditEvent.objects.all()
    assert [(e.action, e.via) for e in events] == [("person_export", "command")] * 2
