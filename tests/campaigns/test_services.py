import datetime
from collections import Counter

import pytest

from campaigns import services
from campaigns.models import Campaign, Enrollment, Reply
from contacts.models import Stage
from messaging.models import Message, MessageEvent
from tests.campaigns.factories import AudienceFactory, CampaignFactory, add_step
from tests.contacts.factories import ConnectionFactory, ContactFactory, TagFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def world(staff_user):
    tag = TagFactory(name="Target")
    alice = LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")
    bob = LinkedInAccountFactory(display_name="Bob Baker")
    people = []
    for index in range(6):
        contact = ContactFactory(first_name=f"P{index}", company="Acme", tags=[tag])
        ConnectionFactory(contact=contact, network=alice.network)
        if index % 2:
            ConnectionFactory(contact=contact, network=bob.network)
        people.append(contact)
    audience = AudienceFactory(owner=staff_user, query=f"tags={tag.pk}")
    campaign = CampaignFactory(
        owner=staff_user, audience=audience, senders=[alice, bob], starts_at=NOW
    )
    add_step(campaign, 1, {"A": "Hi {{ first_name }} (A)", "B": "Hello {{ first_name }} (B)"})
    add_step(campaign, 2, {"A": "Following up, {{ first_name }}"}, delay_days=3)
    return {"campaign": campaign, "people": people, "alice": alice, "bob": bob, "tag": tag}


def test_launch_enrolls_spreads_senders_and_queues_step_one(world):
    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, now=NOW)
    assert campaign.status == "running" and campaign.audience_count_at_launch == 6
    enrollments = Enrollment.objects.filter(campaign=campaign)
    assert enrollments.filter(state="active").count() == 6
    senders = Counter(e.sender.display_name for e in enrollments)
    assert senders == {"Alice Archer": 3, "Bob Baker": 3}  # round-robin among the eligible
    for enrollment in enrollments.filter(sender=world["bob"]):
        assert enrollment.contact.connections.filter(network=world["bob"].network).exists()
    messages = Message.objects.filter(stream=campaign.stream)
    assert messages.count() == 6 and set(messages.values_list("status", flat=True)) == {"queued"}
    first = messages.select_related("contact").first()
    assert first.body in (
        f"Hi {first.contact.first_name} (A)",
        f"Hello {first.contact.first_name} (B)",
    )


def test_variants_are_assigned_deterministically_by_weight(world):
    campaign = world["campaign"]
    plan_one = [
        (r.contact.pk, r.variant.label) for r in services.plan_launch(campaign, now=NOW).enrolled
    ]
    plan_two = [
        (r.contact.pk, r.variant.label) for r in services.plan_launch(campaign, now=NOW).enrolled
    ]
    assert plan_one == plan_two
    variants = list(campaign.steps.get(order=1).variants.all())
    for variant in variants:
        variant.weight = 3 if variant.label == "A" else 1
    counts = Counter(
        services.assign_variant(variants, campaign_id=campaign.pk, contact_id=pk, step=1).label
        for pk in range(4000)
    )
    assert 0.70 < counts["A"] / 4000 < 0.80


def test_launch_skips_with_reasons(world, staff_user):
    campaign = world["campaign"]
    people = world["people"]
    people[0].mark_do_not_contact("asked")
    people[1].profile_url = None
    people[1].member_urn = ""
    people[1].save()
    stranger = ContactFactory(first_name="Stranger", tags=[world["tag"]])  # no sender connected
    other = CampaignFactory(owner=staff_user, status="running")
    Enrollment.objects.create(campaign=other, contact=people[2], state="active")
    MessageFactory(
        contact=people[3],
        account=world["alice"],
        status="sent",
        sent_at=NOW - datetime.timedelta(days=5),
    )
    plan = services.campaign_launch(campaign=campaign, now=NOW)
    reasons = {r.contact.pk: r.skip_reason for r in plan.recipients}
    assert reasons[people[0].pk] == "do-not-contact"
    assert reasons[people[1].pk] == "no way to message"
    assert reasons[people[2].pk] == "already in another running campaign"
    assert reasons[people[3].pk] == "messaged in the last 30 days"
    assert reasons[stranger.pk] == "no sender is connected to this contact"
    assert Enrollment.objects.filter(campaign=campaign, state="skipped").count() == 5
    assert Message.objects.filter(stream=campaign.stream).count() == 2


def test_a_campaign_with_template_errors_cannot_launch(world):
    campaign = world["campaign"]
    campaign.steps.get(order=2).variants.update(body="Hi {{ frist_name }}")
    with pytest.raises(services.CampaignError, match="frist_name"):
        services.campaign_launch(campaign=campaign, now=NOW)
    campaign.refresh_from_db()
    assert (
        campaign.status == "draft"
        and not Enrollment.objects.exists()
        and not Message.objects.exists()
    )


def test_launching_twice_is_refused(world):
    services.campaign_launch(campaign=world["campaign"], now=NOW)
    with pytest.raises(services.CampaignError, match="Only a draft"):
        services.campaign_launch(campaign=world["campaign"], now=NOW)
    assert Message.objects.count() == 6


def test_follow_ups_wait_for_the_delay_and_stop_on_reply(world):
    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, now=NOW)
    Message.objects.filter(stream=campaign.stream).update(status="sent", sent_at=NOW)
    replier = world["people"][0]
    services.reply_record(
        contact=replier, text="Sounds good!", received_at=NOW + datetime.timedelta(days=1)
    )
    assert services.campaigns_advance(now=NOW + datetime.timedelta(days=2))["queued"] == 0
    assert services.campaigns_advance(now=NOW + datetime.timedelta(days=3))["queued"] == 5
    follow_ups = Message.objects.filter(campaign_link__step__order=2)
    assert replier.pk not in set(follow_ups.values_list("contact_id", flat=True))
    assert services.campaigns_advance(now=NOW + datetime.timedelta(days=4))["queued"] == 0
    follow_ups.update(status="sent", sent_at=NOW + datetime.timedelta(days=3))
    services.campaigns_advance(now=NOW + datetime.timedelta(days=4))
    campaign.refresh_from_db()
    assert campaign.status == "completed"


def test_a_reply_cancels_a_follow_up_waiting_in_the_outbox(world):
    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, now=NOW)
    Message.objects.filter(stream=campaign.stream).update(status="sent", sent_at=NOW)
    services.campaigns_advance(now=NOW + datetime.timedelta(days=3))
    follow_ups = Message.objects.filter(campaign_link__step__order=2)
    follow_ups.update(status="released", released_at=NOW + datetime.timedelta(days=3))
    replier = world["people"][0]
    services.reply_record(
        contact=replier, text="Sorry, just saw this!", received_at=NOW + datetime.timedelta(days=4)
    )
    theirs = follow_ups.get(contact=replier)
    assert (theirs.status, theirs.last_error) == ("cancelled", "The contact replied.")
    assert list(theirs.events.values_list("status", "note")) == [
        ("cancelled", "The contact replied.")
    ]
    assert follow_ups.filter(status="released").count() == 5  # the others still wait


def test_a_campaign_completes_when_some_first_messages_failed_or_were_skipped(world):
    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, now=NOW)
    people = world["people"]
    first = Message.objects.filter(stream=campaign.stream)
    first.update(status="sent", sent_at=NOW)
    first.filter(contact=people[0]).update(status="failed", sent_at=None)  # LinkedIn refused
    first.filter(contact=people[1]).update(status="cancelled", sent_at=None)  # skipped in Outbox
    people[2].mark_do_not_contact("asked on the phone")
    later = NOW + datetime.timedelta(days=3)
    assert services.campaigns_advance(now=later)["queued"] == 3  # not to 0, 1 or 2
    states = dict(Enrollment.objects.values_list("contact_id", "state"))
    assert [states[p.pk] for p in people[:3]] == ["stopped"] * 3
    Message.objects.filter(campaign_link__step__order=2).update(status="sent", sent_at=later)
    services.campaigns_advance(now=later + datetime.timedelta(minutes=5))
    campaign.refresh_from_db()
    assert campaign.status == "completed"
    assert Counter(Enrollment.objects.values_list("state", flat=True)) == {
        "completed": 3,
        "stopped": 3,
    }


def test_an_uncertain_first_message_keeps_the_campaign_running(world):
    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, now=NOW)
    first = Message.objects.filter(stream=campaign.stream)
    first.update(status="sent", sent_at=NOW)
    first.filter(contact=world["people"][0]).update(status="uncertain", sent_at=None)
    later = NOW + datetime.timedelta(days=3)
    services.campaigns_advance(now=later)
    Message.objects.filter(campaign_link__step__order=2).update(status="sent", sent_at=later)
    services.campaigns_advance(now=later + datetime.timedelta(minutes=5))
    campaign.refresh_from_db()
    assert campaign.status == "running"  # a person has to say what the uncertain one was


def test_pause_holds_resume_releases_cancel_cancels(world):
    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, now=NOW)
    services.campaign_pause(campaign=campaign)
    assert set(Message.objects.values_list("held", flat=True)) == {True}
    assert not Message.objects.due(NOW).exists()
    services.campaign_resume(campaign=campaign, now=NOW)
    assert Message.objects.due(NOW).count() == 6
    assert services.campaign_cancel(campaign=campaign) == 6
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}
    assert set(MessageEvent.objects.values_list("status", "note")) == {
        ("cancelled", "The campaign was cancelled.")
    }
    assert set(Enrollment.objects.values_list("state", flat=True)) == {"stopped"}
    with pytest.raises(services.CampaignError):
        services.campaign_resume(campaign=campaign)


def test_a_reply_moves_the_stage_and_an_opt_out_marks_do_not_contact(world):
    contact = world["people"][4]
    message = MessageFactory(contact=contact, account=world["alice"], status="sent", sent_at=NOW)
    reply = services.reply_record(
        contact=contact,
        text="Bitte keine weiteren Nachrichten.",
        received_at=NOW + datetime.timedelta(hours=1),
    )
    contact.refresh_from_db()
    message.refresh_from_db()
    assert reply.message == message and message.replied_at is not None
    assert contact.stage == Stage.REPLIED
    assert contact.do_not_contact and "keine weiteren Nachrichten" in contact.dnc_reason
    assert reply.opted_out


@pytest.mark.parametrize(
    ("text", "opted_out"),
    [
        ("Please remove me from your list", True),
        ("STOP", True),
        ("Merci de ne plus me contacter", True),
        ("Por favor, darme de baja", True),
        ("Unsubscribe", True),
        ("Let's talk next week", False),
        ("Non-stop growth at Acme!", False),
        ("Please stop messaging me", True),
        ("Happy to chat", False),
    ],
)
def test_opt_out_phrases(text, opted_out):
    assert services.is_opt_out(text) is opted_out


def test_an_imported_reply_is_recorded_once(world):
    contact = world["people"][5]
    first = services.reply_record(
        contact=contact, text="Hi", source="export", external_key="conv-1:2026"
    )
    again = services.reply_record(
        contact=contact, text="Hi", source="export", external_key="conv-1:2026"
    )
    assert first is not None and again is None
    assert Reply.objects.count() == 1


def test_campaign_states_are_guarded(world):
    campaign = world["campaign"]
    with pytest.raises(services.CampaignError, match="Only a running or scheduled"):
        services.campaign_pause(campaign=campaign)
    assert Campaign.objects.get().status == "draft"
