import datetime
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services
from campaigns.models import Audience, Campaign, Enrollment, Reply, Variant
from contacts.models import Contact
from messaging.models import Message
from tests.campaigns.factories import AudienceFactory, CampaignFactory, add_step
from tests.contacts.factories import ConnectionFactory, ContactFactory, TagFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory
from tests.status_guard import bypass

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin_messages"


@pytest.fixture
def account(staff_user):
    return LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")


@pytest.fixture
def campaign(staff_user, account):
    tag = TagFactory(name="Target")
    for name in ("Ann", "Ben", "Cat"):
        contact = ContactFactory(first_name=name, tags=[tag])
        ConnectionFactory(contact=contact, network=account.network)
    audience = AudienceFactory(owner=staff_user, query=f"tags={tag.pk}")
    campaign = CampaignFactory(owner=staff_user, audience=audience, senders=[account])
    add_step(campaign, 1, {"A": "Hi {{ first_name }}", "B": "Hello {{ first_name }}"})
    return campaign


def test_pages_require_staff(anon_client, non_staff_client, campaign):
    for url in ["/campaigns/", f"/campaigns/{campaign.pk}/", f"/campaigns/{campaign.pk}/dry-run/"]:
        assert anon_client.get(url).status_code == 302
        assert non_staff_client.get(url).status_code == 403
    assert non_staff_client.post(f"/campaigns/{campaign.pk}/launch/").status_code == 403
    assert Campaign.objects.get().status == "draft"


def test_create_a_campaign_with_steps_and_variants(staff_client, staff_user, account):
    audience = AudienceFactory(owner=staff_user)
    response = staff_client.post(
        "/campaigns/",
        {
            "name": "Q1 outreach",
            "audience": audience.pk,
            "senders": [account.pk],
            "starts_at": "2026-12-01T09:00",
        },
    )
    campaign = Campaign.objects.get()
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    staff_client.post(
        f"/campaigns/{campaign.pk}/steps/", {"delay_days": "5", "stop_on_reply": "on"}
    )
    staff_client.post(
        f"/campaigns/{campaign.pk}/steps/", {"delay_days": "4", "stop_on_reply": "on"}
    )
    steps = list(campaign.steps.all())
    assert [(s.order, s.delay_days) for s in steps] == [(1, 0), (2, 4)]
    staff_client.post(
        f"/campaigns/{campaign.pk}/variants/",
        {"step": steps[0].pk, "label": "a", "body": "Hi {{ first_name }}", "weight": "1"},
    )
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/variants/",
        {"step": steps[0].pk, "label": "A", "body": "Dup", "weight": "1"},
        follow=True,
    )
    assert "has a variant A already" in response.content.decode()
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/variants/",
        {"step": steps[0].pk, "label": "B", "body": "Hi {{ frist_name }}", "weight": "1"},
        follow=True,
    )
    assert "frist_name" in response.content.decode()
    assert list(Variant.objects.values_list("label", flat=True)) == ["A"]


def test_bad_campaign_input_is_refused(staff_client):
    response = staff_client.post("/campaigns/", {"name": "", "audience": "999", "senders": ["999"]})
    page = response.content.decode()
    assert "This field is required" in page and "Select a valid choice" in page
    assert not Campaign.objects.exists()


def test_dry_run_shows_every_recipient_and_changes_nothing(staff_client, campaign):
    skipped = Contact.objects.get(first_name="Cat")
    skipped.mark_do_not_contact("asked")
    page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/").content.decode()
    assert 'id="dry-enrolled">2<' in page
    assert "Skipped: do-not-contact" in page
    assert "Hi Ann" in page or "Hello Ann" in page
    assert "Alice Archer" in page and "goes out" in page
    assert not Enrollment.objects.exists() and not Message.objects.exists()


MONDAY_7_DEC = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.UTC)


@time_machine.travel(MONDAY_7_DEC, tick=False)
def test_dry_run_forecasts_follow_ups_after_their_delay(staff_client, staff_user, account):
    """Issue #13: with step 2 three days after step 1, the dry run said the last message goes
    out on the first day. The account sends one message every 150 s (120 s + half of 60 s of
    jitter) from 09:00 UTC, Monday to Friday."""
    campaign = big_campaign(staff_user, account, 3)
    add_step(campaign, 2, {"A": "Still there, {{ first_name }}?"}, delay_days=3)

    page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/").content.decode()

    # Step 1: Mon 09:00, 09:02:30, 09:05; step 2: three days after each, on Thursday.
    assert "(3 recipients, all steps): 6 messages;" in page
    assert "the last goes out on Thu 10 Dec 2026 around 09:05." in page


@time_machine.travel(MONDAY_7_DEC, tick=False)
def test_dry_run_forecasts_from_the_campaigns_start(staff_client, staff_user, account):
    campaign = big_campaign(staff_user, account, 3)
    add_step(campaign, 2, {"A": "Still there, {{ first_name }}?"}, delay_days=3)
    campaign.starts_at = datetime.datetime(2027, 1, 15, 14, 0, tzinfo=datetime.UTC)  # a Friday
    campaign.save()

    page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/").content.decode()

    # Step 1 Fri 14:00 … 14:05; step 2 due Mon 18 Jan (three days on, a Monday) 14:00 … 14:05.
    assert "the last goes out on Mon 18 Jan 2027 around 14:05." in page


def big_campaign(owner, account, size):
    tag = TagFactory(name=f"Big {size}")
    for index in range(size):
        contact = ContactFactory(first_name=f"P{index:03d}", tags=[tag])
        ConnectionFactory(contact=contact, network=account.network)
    audience = AudienceFactory(owner=owner, query=f"tags={tag.pk}")
    campaign = CampaignFactory(owner=owner, audience=audience, senders=[account])
    add_step(campaign, 1, {"A": "Hi {{ first_name }}", "B": "Hello {{ first_name }}"})
    return campaign


def test_dry_run_pages_show_the_plans_rows_in_order(staff_client, staff_user, account):
    campaign = big_campaign(staff_user, account, 120)
    ids = sorted(Contact.objects.values_list("pk", flat=True))
    plan = {r.contact_id: r for r in services.plan_launch(campaign).recipients}

    for number, shown in [(1, ids[:50]), (2, ids[50:100]), (3, ids[100:])]:
        page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/?page={number}").content
        rows = re.findall(
            r'<tr><td><a href="/contacts/(\d+)/">(.*?)</a></td><td>(.*?)</td><td>(.*?)</td>'
            r"<td>(.*?)</td></tr>",
            page.decode(),
        )
        assert [int(row[0]) for row in rows] == shown
        for pk, name, sender, label, message in rows:
            planned = plan[int(pk)]
            assert (name, sender, label) == (
                str(planned.contact),
                "Alice Archer",
                planned.variant.label,
            )
            assert message == planned.message
        assert f"Page {number} of 3" in page.decode()
        assert 'id="dry-enrolled">120<' in page.decode()


def test_dry_run_queries_do_not_grow_with_the_audience(staff_client, staff_user, account):
    counts = []
    for size in (4, 140):
        campaign = big_campaign(staff_user, account, size)
        for number in (1, 2):
            with CaptureQueriesContext(connection) as queries:
                response = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/?page={number}")
            assert response.status_code == 200
            counts.append(len(queries))
    assert len(set(counts)) == 1, counts


def test_dry_run_of_a_campaign_without_steps_shows_what_blocks_it(
    staff_client, staff_user, account
):
    campaign = big_campaign(staff_user, account, 3)
    campaign.steps.all().delete()
    page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/").content.decode()
    assert "Add a first step with at least one variant." in page
    assert 'id="dry-enrolled">3<' in page
    assert page.count("<td>Alice Archer</td><td>—</td><td></td>") == 3


def test_launch_pause_resume_cancel(staff_client, campaign):
    response = staff_client.post(f"/campaigns/{campaign.pk}/launch/", follow=True)
    assert "Launched: 3 enrolled, 0 skipped." in response.content.decode()
    assert Message.objects.filter(stream=f"campaign:{campaign.pk}").count() == 3
    staff_client.post(f"/campaigns/{campaign.pk}/pause/")
    assert Campaign.objects.get().status == "paused"
    staff_client.post(f"/campaigns/{campaign.pk}/resume/")
    assert Campaign.objects.get().status == "running"
    response = staff_client.post(f"/campaigns/{campaign.pk}/launch/", follow=True)
    assert "Only a draft campaign can be launched." in response.content.decode()
    staff_client.post(f"/campaigns/{campaign.pk}/cancel/")
    assert Campaign.objects.get().status == "cancelled"
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}


def test_the_list_and_the_campaign_page_count_enrollments_alike(staff_client, campaign):
    """Issue #13: the list said "Enrolled 38" (skipped included) while the page said Active 23,
    Skipped 15. The list, the page and the dashboard now count "enrolled" as the launch message
    does: everyone but the skipped, with the skipped beside it."""
    tag = campaign.audience.query.split("=")[1]
    for name in ("Dan", "Eve"):
        ContactFactory(first_name=name, tags=[int(tag)], do_not_contact=True)
    launched = staff_client.post(f"/campaigns/{campaign.pk}/launch/", follow=True)
    assert "Launched: 3 enrolled, 2 skipped." in launched.content.decode()
    with bypass():  # the state this test starts from
        Message.objects.update(status="sent", sent_at=timezone.now())
    staff_client.post(f"/messages/{Message.objects.first().pk}/reply/", {"text": "Thanks!"})

    listed = staff_client.get("/campaigns/").content.decode()
    page = staff_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    dashboard = staff_client.get("/").content.decode()

    row = re.search(rf'<tr><td><a href="/campaigns/{campaign.pk}/">.*?</tr>', listed).group()
    assert '<td class="num">3</td><td class="num">2</td>' in row
    assert 'id="count-enrolled">3<' in page and 'id="count-skipped">2<' in page
    assert 'id="count-active">2<' in page and 'id="count-replied">1<' in page
    assert 'id="count-stopped">0<' in page
    assert "1 of 3 contacts done · 1 replied" in dashboard


def test_a_launched_campaign_cannot_be_edited(staff_client, campaign):
    staff_client.post(f"/campaigns/{campaign.pk}/launch/")
    variant = Variant.objects.first()
    response = staff_client.post(f"/campaigns/variants/{variant.pk}/delete/", follow=True)
    assert "cannot change" in response.content.decode()
    assert Variant.objects.filter(pk=variant.pk).exists()


def test_results_show_rates_and_a_verdict(staff_client, campaign):
    staff_client.post(f"/campaigns/{campaign.pk}/launch/")
    with bypass():  # the state this test starts from
        Message.objects.update(status="sent", sent_at=timezone.now())
    first = Message.objects.first()
    staff_client.post(f"/messages/{first.pk}/reply/", {"text": "Interested!"})
    page = staff_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Results" in page and "Reply rate" in page
    assert "A vs B:" in page
    assert 'id="count-replied">1<' in page


def test_save_as_audience_from_the_contact_list(staff_client):
    response = staff_client.post(
        "/audiences/save/", {"name": "Berlin CTOs", "query": "q=cto&company=Acme"}
    )
    assert response["Location"] == "/contacts/?q=cto&company=Acme"
    assert Audience.objects.get().query == "q=cto&company=Acme"
    response = staff_client.post("/audiences/save/", {"name": "", "query": "q=x"}, follow=True)
    assert "Give the audience a name." in response.content.decode()
    assert Audience.objects.count() == 1


def test_mark_replied_stops_follow_ups_and_reads_opt_outs(staff_client, account):
    contact = ContactFactory(first_name="Opt")
    message = MessageFactory(
        account=account, contact=contact, status="sent", sent_at=timezone.now()
    )
    response = staff_client.post(
        f"/messages/{message.pk}/reply/", {"text": "Please remove me"}, follow=True
    )
    assert "marked do-not-contact" in response.content.decode()
    contact.refresh_from_db()
    assert contact.stage == "replied" and contact.do_not_contact
    assert Reply.objects.get().message == message


def test_mark_replied_on_another_members_message_is_not_found(staff_client):
    foreign = MessageFactory(status="sent")
    assert staff_client.post(f"/messages/{foreign.pk}/reply/", {"text": "x"}).status_code == 404
    assert not Reply.objects.exists()


# --- messages.csv ---------------------------------------------------------------------------


@pytest.fixture
def conversation(staff_user):
    # The export is Alice Archer's (tests/fixtures/linkedin_messages/current.csv).
    account = LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")
    zoe = ContactFactory(
        first_name="Zoë", last_name="Müller", profile_url="https://www.linkedin.com/in/zoe-mueller"
    )
    bart = ContactFactory(
        first_name="Bartholomew", profile_url="https://www.linkedin.com/in/bartholomew-quince"
    )
    MessageFactory(
        account=account,
        contact=zoe,
        status="sent",
        sent_at=datetime.datetime(2025, 11, 18, 16, 5, tzinfo=datetime.UTC),
    )
    waiting = MessageFactory(
        account=account,
        contact=bart,
        status="released",
        released_at=datetime.datetime(2025, 11, 13, tzinfo=datetime.UTC),
    )
    return {"zoe": zoe, "bart": bart, "waiting": waiting}


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
    assert "1 Outbox message(s) confirmed as sent" in page
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


def test_an_export_confirms_only_its_own_members_outbox(staff_client, conversation):
    """Bartholomew also waits in a colleague's Outbox: Alice's export says nothing about that
    message, so it stays waiting — through the page (the importer owns Alice's account) and
    through the command without --owner (matched by the export's sender name)."""
    colleague = LinkedInAccountFactory(display_name="Colin Colleague")
    theirs = MessageFactory(
        account=colleague,
        contact=conversation["bart"],
        status="released",
        released_at=datetime.datetime(2025, 11, 12, tzinfo=datetime.UTC),
    )
    data = (FIXTURES / "current.csv").read_bytes()
    staff_client.post("/imports/messages/", {"file": SimpleUploadedFile("messages.csv", data)})
    theirs.refresh_from_db()
    conversation["waiting"].refresh_from_db()
    assert (theirs.status, conversation["waiting"].status) == ("released", "sent")


def test_the_command_without_owner_confirms_the_exporters_messages_only(conversation, capsys):
    colleague = LinkedInAccountFactory(display_name="Colin Colleague")
    theirs = MessageFactory(
        account=colleague,
        contact=conversation["bart"],
        status="released",
        released_at=datetime.datetime(2025, 11, 12, tzinfo=datetime.UTC),
    )
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


def test_admin_adds_a_selection_to_a_draft_campaign_and_pauses(client, campaign):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    from campaigns import services
    from tests.contacts.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    ids = list(Contact.objects.values_list("pk", flat=True)[:2])
    response = client.post(
        "/admin/contacts/contact/", {"action": "add_to_campaign", ACTION_CHECKBOX_NAME: ids}
    )
    draft = Campaign.objects.exclude(pk=campaign.pk).get()
    assert response["Location"] == f"/campaigns/{draft.pk}/"
    assert draft.status == "draft"
    assert sorted(
        services.audience_contacts(draft.audience).values_list("pk", flat=True)
    ) == sorted(ids)

    services.campaign_launch(campaign=campaign, actor=campaign.owner)
    client.post(
        "/admin/campaigns/campaign/",
        {"action": "pause_campaigns", ACTION_CHECKBOX_NAME: [campaign.pk]},
    )
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    client.post(
        "/admin/campaigns/campaign/",
        {"action": "resume_campaigns", ACTION_CHECKBOX_NAME: [campaign.pk]},
    )
    campaign.refresh_from_db()
    assert campaign.status == "running"


def test_edit_a_draft_campaign(staff_client, staff_user, campaign):
    other = LinkedInAccountFactory(owner=staff_user, display_name="Second Sender")
    audience = AudienceFactory(owner=staff_user, name="Other audience")
    url = f"/campaigns/{campaign.pk}/edit/"
    assert "Second Sender" in staff_client.get(url).content.decode()
    response = staff_client.post(
        url,
        {
            "name": "Renamed",
            "audience": audience.pk,
            "senders": [other.pk],
            "starts_at": "2026-12-02T10:30",
        },
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Renamed" and campaign.audience == audience
    assert list(campaign.senders.all()) == [other]
    assert campaign.starts_at.strftime("%Y-%m-%d %H:%M") == "2026-12-02 10:30"


def test_bad_campaign_edit_is_refused_and_changes_nothing(staff_client, campaign, account):
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/edit/",
        {"name": "", "audience": campaign.audience_id, "senders": [], "starts_at": "soon"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page and "Enter a valid date/time." in page
    campaign.refresh_from_db()
    assert campaign.name != "" and list(campaign.senders.all()) == [account]


def test_a_launched_campaign_keeps_its_audience_senders_and_start(
    staff_client, staff_user, campaign, account
):
    staff_client.post(f"/campaigns/{campaign.pk}/launch/")
    campaign.refresh_from_db()
    starts_at, audience = campaign.starts_at, campaign.audience
    other = LinkedInAccountFactory(owner=staff_user)
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/edit/",
        {
            "name": "Only the name changes",
            "audience": AudienceFactory(owner=staff_user).pk,
            "senders": [other.pk],
            "starts_at": "2030-01-01T09:00",
        },
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Only the name changes"
    assert campaign.audience == audience and campaign.starts_at == starts_at
    assert list(campaign.senders.all()) == [account]
    page = staff_client.get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    assert "Fixed at launch." in page


def test_edit_and_delete_steps_and_variants_of_a_draft(staff_client, campaign):
    add_step(campaign, 2, {"A": "Following up, {{ first_name }}"}, delay_days=3)
    add_step(campaign, 3, {"A": "Last try, {{ first_name }}"}, delay_days=7)
    variant = Variant.objects.get(step__order=1, label="B")
    response = staff_client.post(
        f"/campaigns/variants/{variant.pk}/edit/",
        {"step": variant.step_id, "label": "b", "body": "Hey {{ first_name }}", "weight": 3},
    )
    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.label, variant.body, variant.weight) == ("B", "Hey {{ first_name }}", 3)
    # A label another variant of the step has, and a template with an unknown variable.
    response = staff_client.post(
        f"/campaigns/variants/{variant.pk}/edit/",
        {"step": variant.step_id, "label": "A", "body": "Hi {{ frist_name }}", "weight": 1},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "has a variant A already" in page and "frist_name" in page
    variant.refresh_from_db()
    assert variant.label == "B"

    second = campaign.steps.get(order=2)
    staff_client.post(f"/campaigns/steps/{second.pk}/edit/", {"delay_days": 4})
    second.refresh_from_db()
    assert second.delay_days == 4 and not second.stop_on_reply

    first = campaign.steps.get(order=1)
    staff_client.post(f"/campaigns/steps/{first.pk}/delete/")
    steps = list(campaign.steps.values_list("order", "delay_days"))
    assert steps == [(1, 0), (2, 7)]  # renumbered; the new first step goes out at launch
    assert not Variant.objects.filter(pk=variant.pk).exists()


def test_delete_a_draft_but_not_a_launched_campaign(staff_client, campaign, staff_user, account):
    launched = CampaignFactory(owner=staff_user, audience=campaign.audience, senders=[account])
    add_step(launched, 1, {"A": "Hi"})
    staff_client.post(f"/campaigns/{launched.pk}/launch/")
    response = staff_client.post(f"/campaigns/{launched.pk}/delete/", follow=True)
    assert "Only a draft can be deleted" in response.content.decode()
    step = launched.steps.get()
    staff_client.post(f"/campaigns/steps/{step.pk}/delete/")
    assert Campaign.objects.filter(pk=launched.pk).exists() and launched.steps.exists()

    response = staff_client.post(f"/campaigns/{campaign.pk}/delete/", follow=True)
    assert "Deleted the draft" in response.content.decode()
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_edit_pages_require_staff(anon_client, non_staff_client, campaign):
    step = campaign.steps.get()
    variant = step.variants.first()
    for url in [
        f"/campaigns/{campaign.pk}/edit/",
        f"/campaigns/steps/{step.pk}/edit/",
        f"/campaigns/variants/{variant.pk}/edit/",
    ]:
        assert anon_client.get(url).status_code == 302
        assert non_staff_client.get(url).status_code == 403
    assert non_staff_client.post(f"/campaigns/{campaign.pk}/delete/").status_code == 403
    assert non_staff_client.post(f"/campaigns/steps/{step.pk}/delete/").status_code == 403
    assert Campaign.objects.filter(pk=campaign.pk).exists() and campaign.steps.exists()


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


def test_the_admin_keeps_a_launched_campaign_as_launched(client, campaign):
    from campaigns import services
    from tests.contacts.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    variant = Variant.objects.filter(step__campaign=campaign).first()
    assert client.get(f"/admin/campaigns/variant/{variant.pk}/change/").status_code == 200
    services.campaign_launch(campaign=campaign, actor=campaign.owner)
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    form = page.context["adminform"].form
    assert {"status", "audience", "senders", "starts_at"}.isdisjoint(form.fields)
    assert not page.context["inline_admin_formsets"][0].has_change_permission
    response = client.post(f"/admin/campaigns/variant/{variant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Variant.objects.filter(pk=variant.pk).exists()
    add = client.get("/admin/campaigns/variant/add/").context["adminform"].form
    assert not add.fields["step"].queryset.filter(campaign=campaign).exists()


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
