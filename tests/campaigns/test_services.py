import datetime
import gc
from collections import Counter

import pytest

from campaigns import planning, services
from campaigns.models import Campaign, Enrollment, Reply, Variant
from contacts.models import Network, Stage
from linkedin_crm.models import AuditEvent
from messaging import personalize
from messaging.models import Message, MessageEvent
from tests.campaigns.factories import AudienceFactory, CampaignFactory, add_step
from tests.contacts.factories import ConnectionFactory, ContactFactory, TagFactory, give_role
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory
from tests.status_guard import bypass

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def world(staff_user):
    # Sending from Bob's account as well as her own: Alice is a Manager here.
    give_role(staff_user, "Manager")
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
    services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
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
        planning.assign_variant(variants, campaign_id=campaign.pk, contact_id=pk, step=1).label
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
    plan = services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
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
        services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    campaign.refresh_from_db()
    assert (
        campaign.status == "draft"
        and not Enrollment.objects.exists()
        and not Message.objects.exists()
    )


def test_launching_twice_is_refused(world):
    services.campaign_launch(campaign=world["campaign"], actor=world["campaign"].owner, now=NOW)
    with pytest.raises(services.CampaignError, match="Only a draft"):
        services.campaign_launch(campaign=world["campaign"], actor=world["campaign"].owner, now=NOW)
    assert Message.objects.count() == 6


def test_follow_ups_wait_for_the_delay_and_stop_on_reply(world):
    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    with bypass():  # the state this test starts from
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
    with bypass():  # the state this test starts from
        follow_ups.update(status="sent", sent_at=NOW + datetime.timedelta(days=3))
    services.campaigns_advance(now=NOW + datetime.timedelta(days=4))
    campaign.refresh_from_db()
    assert campaign.status == "completed"


def test_a_reply_cancels_a_follow_up_waiting_in_the_outbox(world):
    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    with bypass():  # the state this test starts from
        Message.objects.filter(stream=campaign.stream).update(status="sent", sent_at=NOW)
    services.campaigns_advance(now=NOW + datetime.timedelta(days=3))
    follow_ups = Message.objects.filter(campaign_link__step__order=2)
    with bypass():  # the state this test starts from
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
    services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    people = world["people"]
    first = Message.objects.filter(stream=campaign.stream)
    with bypass():  # the state this test starts from
        first.update(status="sent", sent_at=NOW)
    with bypass():  # the state this test starts from
        first.filter(contact=people[0]).update(status="failed", sent_at=None)  # LinkedIn refused
    with bypass():  # the state this test starts from
        first.filter(contact=people[1]).update(
            status="cancelled", sent_at=None
        )  # skipped in Outbox
    people[2].mark_do_not_contact("asked on the phone")
    later = NOW + datetime.timedelta(days=3)
    assert services.campaigns_advance(now=later)["queued"] == 3  # not to 0, 1 or 2
    states = dict(Enrollment.objects.values_list("contact_id", "state"))
    assert [states[p.pk] for p in people[:3]] == ["stopped"] * 3
    with bypass():  # the state this test starts from
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
    services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    first = Message.objects.filter(stream=campaign.stream)
    with bypass():  # the state this test starts from
        first.update(status="sent", sent_at=NOW)
    with bypass():  # the state this test starts from
        first.filter(contact=world["people"][0]).update(status="uncertain", sent_at=None)
    later = NOW + datetime.timedelta(days=3)
    services.campaigns_advance(now=later)
    with bypass():  # the state this test starts from
        Message.objects.filter(campaign_link__step__order=2).update(status="sent", sent_at=later)
    services.campaigns_advance(now=later + datetime.timedelta(minutes=5))
    campaign.refresh_from_db()
    assert campaign.status == "running"  # a person has to say what the uncertain one was


def test_pause_holds_resume_releases_cancel_cancels(world):
    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    services.campaign_pause(campaign=campaign, actor=campaign.owner)
    assert set(Message.objects.values_list("held", flat=True)) == {True}
    assert not Message.objects.due(NOW).exists()
    services.campaign_resume(campaign=campaign, actor=campaign.owner, now=NOW)
    assert Message.objects.due(NOW).count() == 6
    assert services.campaign_cancel(campaign=campaign, actor=campaign.owner) == 6
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}
    assert set(MessageEvent.objects.values_list("status", "note")) == {
        ("cancelled", "The campaign was cancelled.")
    }
    assert set(Enrollment.objects.values_list("state", flat=True)) == {"stopped"}
    with pytest.raises(services.CampaignError):
        services.campaign_resume(campaign=campaign, actor=campaign.owner)


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
    assert contact.do_not_contact and contact.dnc_reason == "Asked not to be contacted in a reply."
    # The reply's words stay with the reply, readable by whoever may read the message: the
    # contact page is the whole team's.
    assert "keine weiteren Nachrichten" not in contact.dnc_reason
    assert "keine weiteren Nachrichten" in reply.text
    assert reply.opted_out
    # Both changes are on the contact's record (no one recorded this reply: no actor).
    recorded = AuditEvent.objects.filter(object_type="contact", object_id=str(contact.pk))
    assert sorted(recorded.values_list("action", "actor_name")) == [
        ("do_not_contact", ""),
        ("stage_change", ""),
    ]


def test_a_reply_with_the_verb_first_marks_do_not_contact(world):
    """Issue #13: "Bitte kontaktieren Sie mich nicht mehr." made the contact Replied but not
    do-not-contact; the old pattern knew "nicht mehr kontaktieren" only in that order."""
    contact = world["people"][4]
    MessageFactory(contact=contact, account=world["alice"], status="sent", sent_at=NOW)

    reply = services.reply_record(
        contact=contact,
        text="Bitte kontaktieren Sie mich nicht mehr.",
        received_at=NOW + datetime.timedelta(hours=1),
    )

    contact.refresh_from_db()
    assert reply.opted_out
    assert contact.stage == Stage.REPLIED and contact.do_not_contact


def test_a_friendly_reply_does_not_mark_do_not_contact(world):
    contact = world["people"][4]
    MessageFactory(contact=contact, account=world["alice"], status="sent", sent_at=NOW)

    reply = services.reply_record(
        contact=contact,
        text="Bitte kontaktieren Sie mich gerne nächste Woche.",
        received_at=NOW + datetime.timedelta(hours=1),
    )

    contact.refresh_from_db()
    assert not reply.opted_out
    assert contact.stage == Stage.REPLIED and not contact.do_not_contact


def test_the_opt_out_phrases_setting_adds_phrases(settings):
    settings.OPT_OUT_PHRASES = ["kein Newsletter"]

    assert services.is_opt_out("Bitte KEIN Newsletter mehr!")
    assert not services.is_opt_out("Der Newsletter ist gut.")


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
        services.campaign_pause(campaign=campaign, actor=campaign.owner)
    assert Campaign.objects.get().status == "draft"


# --- the plan behind the dry run and the launch -----------------------------------------------


def test_variant_assignment_is_pinned():
    """Follow-up steps are assigned when they are queued, weeks after the launch: the
    assignment must never change between releases, or a running campaign would switch a
    contact's variant half-way."""
    even = [Variant(label="B", weight=1), Variant(label="A", weight=1)]
    uneven = [Variant(label="C", weight=2), Variant(label="A", weight=3), Variant(label="B")]

    def labels(variants, step):
        return "".join(
            planning.assign_variant(variants, campaign_id=7, contact_id=pk, step=step).label
            for pk in range(1, 21)
        )

    assert labels(even, 1) == "AAABAAAABBBABAAAAAAB"
    assert labels(uneven, 2) == "AACCACACBBCACCAACCBC"


def test_the_launch_does_what_the_dry_run_showed(world, staff_user):
    campaign, people = world["campaign"], world["people"]
    people[0].mark_do_not_contact("asked")
    other = CampaignFactory(owner=staff_user, status="running")
    Enrollment.objects.create(campaign=other, contact=people[2], state="active")
    planned = services.plan_launch(campaign, now=NOW)
    shown = {
        r.contact.pk: (r.sender, r.variant, r.skip_reason, r.message if r.sender else "")
        for r in planned.recipients
    }

    launched = services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)

    enrollments = Enrollment.objects.filter(campaign=campaign).select_related("sender")
    assert len(enrollments) == len(shown) == len(launched.recipients) == 6
    for enrollment in enrollments:
        sender, variant, reason, message = shown[enrollment.contact_id]
        assert (enrollment.sender, enrollment.skip_reason) == (sender, reason)
        if reason:
            assert (enrollment.state, enrollment.last_step, enrollment.variants) == (
                "skipped",
                0,
                {},
            )
            assert not enrollment.messages.exists()
        else:
            assert (enrollment.state, enrollment.last_step, enrollment.created_at) == (
                "active",
                1,
                NOW,
            )
            assert enrollment.variants == {"1": variant.pk}
            link = enrollment.messages.select_related("message").get()
            assert (link.variant, link.step.order) == (variant, 1)
            assert link.message.body == message
            assert link.message.account_id == sender.pk
            assert link.message.contact_id == enrollment.contact_id


def test_skip_reasons_take_precedence_in_order(world, staff_user):
    campaign, tag = world["campaign"], world["tag"]
    running = CampaignFactory(owner=staff_user, status="running")

    def person(name, *, dnc=False, reachable=True, busy=False, recent=False, connected=True):
        contact = ContactFactory(first_name=name, tags=[tag])
        if not reachable:
            contact.profile_url, contact.member_urn = None, ""
            contact.save()
        if dnc:
            contact.mark_do_not_contact("asked")
        if busy:
            Enrollment.objects.create(campaign=running, contact=contact, state="active")
        if recent:
            MessageFactory(contact=contact, account=world["alice"], status="queued")
        if connected:
            ConnectionFactory(contact=contact, network=world["alice"].network)
        return contact

    everything = dict(dnc=True, reachable=False, busy=True, recent=True, connected=False)
    expected = {
        person("All of it", **everything): "do-not-contact",
        person("No way", **{**everything, "dnc": False}): "no way to message",
        person("Busy", busy=True, recent=True, connected=False): (
            "already in another running campaign"
        ),
        person("Recent", recent=True, connected=False): "messaged in the last 30 days",
        person("Stranger", connected=False): "no sender is connected to this contact",
        person("Fine"): "",
    }
    reasons = {
        r.contact_id: r.skip_reason for r in services.plan_launch(campaign, now=NOW).recipients
    }
    assert {contact.first_name: reasons[contact.pk] for contact in expected} == {
        contact.first_name: reason for contact, reason in expected.items()
    }


def test_what_counts_as_busy_or_recently_messaged(world, staff_user):
    campaign, people = world["campaign"], world["people"]
    for status, person in zip(["draft", "completed", "paused"], people[:3], strict=True):
        other = CampaignFactory(owner=staff_user, status=status)
        Enrollment.objects.create(campaign=other, contact=person, state="active")
    running = CampaignFactory(owner=staff_user, status="running")
    Enrollment.objects.create(campaign=running, contact=people[3], state="replied")
    alice = world["alice"]
    old = NOW - datetime.timedelta(days=31)
    MessageFactory(contact=people[4], account=alice, status="sent", sent_at=old)
    MessageFactory(contact=people[4], account=alice, status="failed")
    MessageFactory(contact=people[5], account=alice, status="released", released_at=old)

    reasons = [r.skip_reason for r in services.plan_launch(campaign, now=NOW).recipients]

    assert reasons == [
        "",  # enrolled in a draft
        "",  # enrolled in a completed campaign
        "already in another running campaign",  # a paused one
        "",  # replied in a running one
        "",  # sent 31 days ago, and a failed message
        "messaged in the last 30 days",  # a released message, however old
    ]


@pytest.mark.parametrize(
    ("member_urn", "profile_url"),
    [
        ("", None),
        ("", ""),
        ("urn:li:person:x", None),
        (" ", None),
        ("", "https://www.linkedin.com/in/someone"),
    ],
)
def test_no_way_to_message_is_the_contacts_own_rule(world, member_urn, profile_url):
    contact = ContactFactory(member_urn=member_urn, profile_url=profile_url, tags=[world["tag"]])
    ConnectionFactory(contact=contact, network=world["alice"].network)
    plan = services.plan_launch(world["campaign"], now=NOW)
    reason = next(r.skip_reason for r in plan.recipients if r.contact_id == contact.pk)
    assert (reason == "no way to message") is (not contact.can_be_messaged)
    assert reason in ("", "no way to message")


def test_round_robin_gives_each_contact_the_least_used_eligible_sender(staff_user):
    tag = TagFactory(name="Round")
    shared = Network.objects.default_for(staff_user)
    first = LinkedInAccountFactory(owner=staff_user, network=shared, display_name="First")
    second = LinkedInAccountFactory(display_name="Second")  # its own network
    third = LinkedInAccountFactory(network=shared, display_name="Third")
    gone = LinkedInAccountFactory(network=shared, display_name="Gone", status="disconnected")
    networks = [[shared], [shared], [shared, second.network], [second.network], [shared]]
    networks += [[shared, second.network], [shared]]
    for index, held in enumerate(networks):
        contact = ContactFactory(first_name=f"C{index}", tags=[tag])
        for network in held:
            ConnectionFactory(contact=contact, network=network)
    audience = AudienceFactory(owner=staff_user, query=f"tags={tag.pk}")
    campaign = CampaignFactory(
        owner=staff_user, audience=audience, senders=[first, second, third, gone]
    )
    add_step(campaign, 1, {"A": "Hi {{ first_name }}"})

    plan = services.plan_launch(campaign, now=NOW)

    # Each goes to the eligible sender with the fewest so far; a tie to the lowest id.
    assert [r.sender.display_name for r in plan.recipients] == [
        "First",  # First 0, Third 0
        "Third",  # First 1, Third 0
        "Second",  # First 1, Second 0, Third 1
        "Second",  # only Second
        "First",  # First 1, Third 1
        "Third",  # First 2, Second 2, Third 1
        "First",  # First 2, Third 2
    ]
    assert {s.display_name: n for s, n in plan.per_sender.items()} == {
        "First": 3,
        "Third": 2,
        "Second": 2,
    }
    assert list(plan.per_sender) == [first, third, second]  # in order of first use


def test_senders_in_more_networks_than_one_mask_holds(staff_user):
    tag = TagFactory(name="Many networks")
    senders = [LinkedInAccountFactory(display_name=f"Sender {n:02d}") for n in range(62)]
    last_only = ContactFactory(first_name="Last", tags=[tag])
    ConnectionFactory(contact=last_only, network=senders[-1].network)
    both_ends = ContactFactory(first_name="Ends", tags=[tag])
    ConnectionFactory(contact=both_ends, network=senders[0].network)
    ConnectionFactory(contact=both_ends, network=senders[61].network)
    middle = ContactFactory(first_name="Middle", tags=[tag])
    ConnectionFactory(contact=middle, network=senders[60].network)
    audience = AudienceFactory(owner=staff_user, query=f"tags={tag.pk}")
    campaign = CampaignFactory(owner=staff_user, audience=audience, senders=senders)
    add_step(campaign, 1, {"A": "Hi {{ first_name }}"})

    plan = services.plan_launch(campaign, now=NOW)

    assert [r.sender for r in plan.recipients] == [senders[61], senders[0], senders[60]]


def test_missing_values_are_counted_as_the_linter_counts_them(staff_user):
    tag = TagFactory(name="Gaps")
    alice = LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")
    blank = LinkedInAccountFactory(display_name=" ")
    names = [("Ann", "Lee", "Acme"), ("", "", ""), ("  ", "Lee", "Acme"), ("\u00a0\t", "", "")]
    names += [("Bo", " ", "Initech"), ("Cy", "Diaz", "\u2003"), ("Di", "", "Acme")]
    for index, (first, last, company) in enumerate(names * 3):
        contact = ContactFactory(first_name=first, last_name=last, company=company, tags=[tag])
        dated = None if index % 4 == 0 else datetime.date(2021, 3, index + 1)
        ConnectionFactory(contact=contact, network=alice.network, connected_on=dated)
        if index % 3 == 0:
            ConnectionFactory(contact=contact, network=blank.network, connected_on=dated)
    audience = AudienceFactory(owner=staff_user, query=f"tags={tag.pk}")
    campaign = CampaignFactory(owner=staff_user, audience=audience, senders=[alice, blank])
    bodies = {
        "A": "Hi {{ first_name }} at {{ company }}, {{ position|default:'you' }}",
        "B": "Dear {{ full_name }}, connected on {{ connected_on }}. {{ sender_name }}",
        "C": "{{ last_name }}{{ industry|default:'' }} {{ sender_first_name }}",
    }
    add_step(campaign, 1, bodies, weights={"A": 2, "B": 2, "C": 1})

    plan = services.plan_launch(campaign, now=NOW)

    # What the linter says over every recipient's real context.
    plan.load(plan.recipients)
    contexts = {label: [] for label in bodies}
    for row in plan.enrolled:
        contexts[row.variant.label].append(row.context)
    expected = []
    for label, body in bodies.items():
        result = personalize.lint_for_recipients(body, contexts[label])
        expected += [f"Step 1 variant {label}: {line}" for line in result.missing_summary()]
    assert len(expected) >= 6  # every kind of gap is there to count
    assert plan.warnings == expected


def test_a_message_shows_when_the_contact_connected_with_its_sender(world):
    campaign, people = world["campaign"], world["people"]
    campaign.steps.get(order=1).variants.update(body="Connected on {{ connected_on }}")
    for person in people:
        person.connections.filter(network=world["alice"].network).update(
            connected_on=datetime.date(2020, 1, 2)
        )
        person.connections.filter(network=world["bob"].network).update(
            connected_on=datetime.date(2023, 4, 5)
        )
    plan = services.plan_launch(campaign, now=NOW)
    messages = {r.sender.display_name: r.message for r in plan.recipients}
    assert messages == {
        "Alice Archer": "Connected on 02 Jan 2020",
        "Bob Baker": "Connected on 05 Apr 2023",
    }


def test_a_recipient_whose_message_cannot_be_rendered_is_skipped_at_launch(world):
    campaign, people = world["campaign"], world["people"]
    campaign.steps.get(order=1).variants.update(body="{% if company %}Hi {{ company }}{% endif %}")
    people[1].company = ""
    people[1].save()

    plan = services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)

    reason = "cannot be rendered: The message is empty for this recipient."
    assert [r.skip_reason for r in plan.recipients] == ["", reason, "", "", "", ""]
    skipped = Enrollment.objects.get(campaign=campaign, contact=people[1])
    variant = next(r.variant for r in plan.recipients if r.contact_id == people[1].pk)
    assert (skipped.state, skipped.skip_reason, skipped.last_step) == ("skipped", reason, 0)
    assert skipped.variants == {"1": variant.pk}
    assert Message.objects.filter(stream=campaign.stream).count() == 5
    assert not Message.objects.filter(contact=people[1]).exists()


def test_planning_and_launching_leave_the_garbage_collector_as_they_found_it(world, staff_user):
    services.plan_launch(world["campaign"], now=NOW)
    assert gc.isenabled()
    services.campaign_launch(campaign=world["campaign"], actor=world["campaign"].owner, now=NOW)
    assert gc.isenabled()
    with pytest.raises(services.CampaignError):
        services.campaign_launch(campaign=world["campaign"], actor=world["campaign"].owner, now=NOW)
    assert gc.isenabled()

    draft = CampaignFactory(
        owner=staff_user, audience=world["campaign"].audience, senders=[world["alice"]]
    )
    add_step(draft, 1, {"A": "Hi {{ first_name }}"})
    gc.disable()  # as a process that manages its own collections would
    try:
        services.plan_launch(draft, now=NOW)
        assert not gc.isenabled()
        services.campaign_launch(campaign=draft, actor=draft.owner, now=NOW)
        assert not gc.isenabled()
        draft.refresh_from_db()
        assert draft.launched_at == NOW
    finally:
        gc.enable()


def test_a_contact_in_a_scheduled_campaign_is_already_busy(world, staff_user):
    later = CampaignFactory(owner=staff_user, status="scheduled")
    Enrollment.objects.create(campaign=later, contact=world["people"][0], state="active")
    plan = services.plan_launch(world["campaign"], now=NOW)
    reasons = {r.contact.pk: r.skip_reason for r in plan.recipients}
    assert reasons[world["people"][0].pk] == "already in another running campaign"


def test_steps_with_a_gap_cannot_launch(world, client, staff_user):
    campaign = world["campaign"]
    campaign.steps.get(order=1).delete()  # only step 2 is left: the admin can do this
    with pytest.raises(services.CampaignError, match="without gaps"):
        services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    assert not Enrollment.objects.exists() and not Message.objects.exists()
    client.force_login(staff_user)
    client.post(f"/campaigns/{campaign.pk}/steps/", {"delay_days": "2"})  # after the last one
    assert list(campaign.steps.values_list("order", flat=True)) == [2, 3]


def test_follow_ups_know_the_connection_date_and_stop_when_they_cannot_be_rendered(world):
    campaign = world["campaign"]
    campaign.steps.get(order=2).variants.update(body="We connected on {{ connected_on }}.")
    services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    with bypass():  # the state this test starts from
        Message.objects.filter(stream=campaign.stream).update(status="sent", sent_at=NOW)
    later = NOW + datetime.timedelta(days=3)
    assert services.campaigns_advance(now=later)["queued"] == 6
    follow_ups = Message.objects.filter(campaign_link__step__order=2)
    expected = personalize.format_date(datetime.date(2022, 6, 2))
    assert set(follow_ups.values_list("body", flat=True)) == {f"We connected on {expected}."}


def test_a_follow_up_that_renders_empty_stops_its_enrollment(world):
    campaign = world["campaign"]
    campaign.steps.get(order=2).variants.update(body="{% if company == 'Nope' %}Hi{% endif %}")
    services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    with bypass():  # the state this test starts from
        Message.objects.filter(stream=campaign.stream).update(status="sent", sent_at=NOW)
    assert services.campaigns_advance(now=NOW + datetime.timedelta(days=3))["queued"] == 0
    assert set(Enrollment.objects.values_list("state", "skip_reason")) == {
        ("stopped", "step 2 cannot be rendered for this contact")
    }
    campaign.refresh_from_db()
    assert campaign.status == "completed"


def test_a_launched_step_emptied_in_the_admin_does_not_stop_the_tick(world):
    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    with bypass():  # the state this test starts from
        Message.objects.filter(stream=campaign.stream).update(status="sent", sent_at=NOW)
    campaign.steps.get(order=2).variants.all().delete()
    assert services.campaigns_advance(now=NOW + datetime.timedelta(days=3)) == {"queued": 0}


def test_follow_ups_stop_for_senders_the_launcher_may_no_longer_use(world):
    """Alice launched as a Manager with her and Bob's accounts. Once she is a Member again,
    the follow-ups through Bob's account stop (her own go on), and nothing is sent on an
    authority she no longer has."""
    from django.contrib.auth.models import Group

    campaign = world["campaign"]
    services.campaign_launch(campaign=campaign, actor=campaign.owner, now=NOW)
    with bypass():  # the state this test starts from
        Message.objects.filter(stream=campaign.stream).update(status="sent", sent_at=NOW)
    alice = campaign.owner
    alice.groups.remove(Group.objects.get(name="Manager"))
    assert services.campaigns_advance(now=NOW + datetime.timedelta(days=3))["queued"] == 3
    follow_ups = Message.objects.filter(campaign_link__step__order=2)
    assert set(follow_ups.values_list("account", flat=True)) == {world["alice"].pk}
    stopped = Enrollment.objects.filter(campaign=campaign, sender=world["bob"])
    assert set(stopped.values_list("state", "skip_reason")) == {
        ("stopped", "whoever launched the campaign may no longer send from this sender")
    }
