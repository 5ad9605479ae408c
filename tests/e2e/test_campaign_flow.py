"""A two-variant campaign in a real browser: filter the contact list by a tag and save the filter
as an audience, create a campaign for it, add a step with variants A and B, dry-run it, launch
it; a dispatcher tick sends every first message through LinkedIn's API (the sandbox); record two
replies (one an opt-out) and read the results."""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Audience, Campaign, CampaignMessage, Enrollment, Reply
from contacts.models import Network
from messaging.dispatch import dispatch_tick
from messaging.linkedin import client_from_settings
from messaging.models import LinkedInAccount, Message
from tests.contacts.factories import ConnectionFactory, ContactFactory, TagFactory
from tests.messaging.factories import LinkedInAccountFactory

SENDER = "Maya Okafor"
AUDIENCE = "Webinar attendees"
CAMPAIGN = "Webinar follow-up"
VARIANTS = {
    "A": "Hi {{ first_name }}, thanks for joining!",
    "B": "Hello {{ first_name }}, great to have you!",
}
ATTENDEES = [
    ("Amara", "Nwosu"),
    ("Bjørn", "Halvorsen"),
    ("Chen", "Wei"),
    ("Dolores", "Ibarra"),
    ("Élodie", "Martin"),
    ("Farid", "Haddad"),
]
INTERESTED = "Yes, let's talk"
OPT_OUT = "Please remove me from your list"
REPLY_RECORDED = "Reply recorded; follow-ups stop for this contact."
REPLIED_ON = re.compile(r"^Replied \d{2} \w{3} \d{4} \d{2}:\d{2}\.")
FORECAST = re.compile(
    rf"^{SENDER} \(6 recipients, all steps\): 6 messages; at 50/day inside Mon–Sun "
    r"00:00–23:59 UTC the last goes out on \w{3} \d{2} \w{3} \d{4} around \d{2}:\d{2}\.$"
)


def rendered(label: str, first_name: str) -> str:
    return VARIANTS[label].replace("{{ first_name }}", first_name)


@pytest.fixture
def attendees(sandbox_settings, e2e_staff_user):
    """The signed-in staff member's automatic sandbox LinkedIn account, six webinar attendees in
    its network (each reachable through the API) and one customer whom the tag leaves out."""
    account = LinkedInAccountFactory(
        owner=e2e_staff_user,
        network=Network.objects.default_for(e2e_staff_user),
        display_name=SENDER,
        member_urn="urn:li:person:sbx-maya-okafor",
        access_token=sandbox_settings.issue_token("sbx-maya-okafor"),
        scopes=["openid", "profile", "email", "w_member_social"],
        mode=LinkedInAccount.Mode.AUTOMATIC,
        daily_limit=50,
        min_interval_seconds=0,
        jitter_seconds=0,
        timezone="UTC",
        window_days=list(range(7)),
        window_start=datetime.time(0, 0),
        # The last microsecond of the day: the tick must not depend on the time of day.
        window_end=datetime.time.max,
    )
    webinar, customers = TagFactory(name="Webinar"), TagFactory(name="Customers")

    def contact(first_name, last_name, tag):
        slug = f"{first_name}-{last_name}".lower().encode("ascii", "ignore").decode()
        person = ContactFactory(
            first_name=first_name,
            last_name=last_name,
            company="Acme",
            position="Head of Partnerships",
            email="",
            member_urn=f"urn:li:person:{slug}-7f3",
            profile_url=f"https://www.linkedin.com/in/{slug}",
            tags=[tag],
        )
        ConnectionFactory(contact=person, network=account.network)
        return person

    return {
        "account": account,
        "webinar": [contact(first, last, webinar) for first, last in ATTENDEES],
        "customer": contact("Greta", "Lind", customers),
    }


def nav(page: Page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def flash(page: Page):
    return page.get_by_role("status")


@pytest.mark.django_db(transaction=True)
# `attendees` before `logged_in_page`: the data exists when the sign-in lands on the list.
def test_two_variant_campaign_from_a_saved_filter(
    sandbox_settings, attendees, logged_in_page: Page
):
    page = logged_in_page
    account, webinar = attendees["account"], attendees["webinar"]
    expect(page.locator("#total-count")).to_have_text("7")

    # Filter the list by the tag and save the filter as an audience.
    form = page.locator("#filter-form")
    # The tags are a chip picker (static/js/chips.js).
    form.get_by_role("combobox", name="Tags (any of)").fill("Webinar")
    form.get_by_role("button", name="Apply filter").click()
    expect(page).to_have_url(re.compile(r"/contacts/\?.*tags=\d+"))
    expect(page.locator("#total-count")).to_have_text("6")
    expect(page.locator("table.contacts tbody tr")).to_have_count(6)
    page.get_by_label("Save this filter as an audience").fill(AUDIENCE)
    page.get_by_role("button", name="Save as audience").click()
    expect(flash(page)).to_have_text(f"Saved audience “{AUDIENCE}”. Use it in a campaign.")
    # Back on the filtered list.
    expect(page).to_have_url(re.compile(r"/contacts/\?.*tags=\d+"))
    expect(page.locator("#total-count")).to_have_text("6")
    audience = Audience.objects.get(name=AUDIENCE)
    assert audience.owner == attendees["account"].owner
    assert re.search(r"(^|&)tags=\d+", audience.query)

    # A new campaign for the audience, sent by the account, starting now.
    nav(page, "Campaigns").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Campaigns")
    expect(page.get_by_text("No campaigns yet.")).to_be_visible()
    new = page.get_by_role("region", name="New campaign")
    new.get_by_label("Name").fill(CAMPAIGN)
    new.get_by_label("Audience").select_option(label=AUDIENCE)
    new.get_by_role("checkbox", name=SENDER).check()
    start = new.get_by_label("Start at")
    expect(start).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"))  # now, by default
    new.get_by_role("button", name="Create campaign").click()
    expect(flash(page)).to_have_text("Campaign created. Add its steps and variants.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{CAMPAIGN} Draft")
    campaign = Campaign.objects.get(name=CAMPAIGN)
    assert list(campaign.senders.all()) == [account]
    assert campaign.audience == audience

    # Step 1 with variants A and B.
    page.get_by_role("button", name="Add step").click()
    expect(flash(page)).to_have_text("Added step 1.")
    expect(page.locator("article.step").get_by_role("heading", level=3)).to_have_text("Step 1")
    for label, body in VARIANTS.items():
        variant_form = page.locator("form", has=page.get_by_role("heading", name="Add a variant"))
        variant_form.get_by_label("Step").select_option(label="Step 1")
        variant_form.get_by_label("Label").fill(label)
        variant_form.get_by_label("Body").fill(body)
        variant_form.get_by_role("button", name="Add variant").click()
        expect(flash(page)).to_have_text(f"Added variant {label} to step 1.")
    expect(page.locator("article.step .variant .message-preview")).to_have_text(
        list(VARIANTS.values())
    )

    # The dry run: everyone, their sender, variant and rendered first message, and a forecast.
    page.get_by_role("link", name="Dry run").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dry run: {CAMPAIGN}")
    expect(page.get_by_role("alert")).to_have_count(0)  # nothing blocks the launch
    expect(page.locator("#dry-enrolled")).to_have_text("6")
    stats = page.locator("dl.stats")
    expect(stats.locator("div", has_text="Audience").locator("dd")).to_have_text("6")
    # Checked at the end, so that the rest of the flow still runs while it is wrong: the
    # template shows the audience's size as "Skipped" (templates/campaigns/dry_run.html).
    dry_run_skipped = stats.locator("div", has_text="Skipped").locator("dd").inner_text()
    expect(page.get_by_text(re.compile(r"^Skipped: "))).to_have_count(0)  # no reasons listed
    expect(page.get_by_text(FORECAST)).to_be_visible()
    plan_rows = page.locator("table tbody tr")
    expect(plan_rows).to_have_count(6)
    for person in webinar:
        row = plan_rows.filter(has=page.get_by_role("link", name=str(person), exact=True))
        expect(row.locator("td:nth-child(2)")).to_have_text(SENDER)
        label = row.locator("td:nth-child(3)")
        expect(label).to_have_text(re.compile(r"^[AB]$"))
        expect(row.locator("td:nth-child(4)")).to_have_text(
            rendered(label.inner_text(), person.first_name)
        )
    planned = {
        person.pk: plan_rows.filter(has=page.get_by_role("link", name=str(person), exact=True))
        .locator("td:nth-child(3)")
        .inner_text()
        for person in webinar
    }
    # The dry run changed nothing.
    assert not Enrollment.objects.filter(campaign=campaign).exists()
    assert not Message.objects.exists()

    # Launch.
    page.locator(".breadcrumb").get_by_role("link", name=CAMPAIGN).click()
    page.get_by_role("link", name="Launch…").click()
    expect(page.locator("#launch-question")).to_have_text("Launch to 6 contacts from 1 sender?")
    assert not Enrollment.objects.filter(campaign=campaign).exists()  # not before confirming
    page.get_by_role("button", name="Launch to 6 contacts").click()
    expect(flash(page)).to_have_text("Launched: 6 enrolled, 0 skipped.")
    expect(page.locator("#campaign-status")).to_have_text("Running")
    expect(page.locator("#count-active")).to_have_text("6")
    expect(page.get_by_role("button", name="Add variant")).to_have_count(0)
    enrollments = Enrollment.objects.filter(campaign=campaign)
    assert enrollments.count() == 6
    assert set(enrollments.values_list("state", flat=True)) == {Enrollment.State.ACTIVE}
    # The launch kept the dry run's variants (stable per contact).
    assert {
        link.message.contact_id: link.variant.label
        for link in CampaignMessage.objects.select_related("message", "variant")
    } == planned

    # The worker's tick: an automatic account sends all six through the API at once.
    client = client_from_settings()
    try:
        result = dispatch_tick(client=client)
    finally:
        client.close()
    assert (result.claimed, result.sent, result.released) == (6, 6, 0)
    sent = sandbox_settings.sent_messages()
    assert len(sent) == 6
    by_urn = {person.member_urn: person for person in webinar}
    for message in sent:
        assert message["sender_sub"] == "sbx-maya-okafor"
        [urn] = message["recipients"]
        person = by_urn.pop(urn)
        assert message["body"] in {rendered(label, person.first_name) for label in VARIANTS}
        assert message["body"] == rendered(planned[person.pk], person.first_name)
    assert by_urn == {}  # one each
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENT}

    # Record two replies from the message pages.
    interested, opted_out = webinar[0], webinar[1]
    nav(page, "Messages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages")
    expect(page.locator(".status-counts")).to_have_text("Sent: 6")
    for person, text, confirmation in (
        (interested, INTERESTED, REPLY_RECORDED),
        (
            opted_out,
            OPT_OUT,
            f"{REPLY_RECORDED} The reply asks not to be contacted: marked do-not-contact.",
        ),
    ):
        page.get_by_role("region", name="Messages").get_by_role(
            "link", name=str(person), exact=True
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"To {person} Sent")
        page.get_by_label("Their reply (optional)").fill(text)
        page.get_by_role("button", name="Mark replied").click()
        expect(flash(page)).to_have_text(confirmation)
        expect(page.get_by_role("button", name="Mark replied")).to_have_count(0)
        expect(page.get_by_text(REPLIED_ON)).to_be_visible()
        page.locator(".breadcrumb").get_by_role("link", name="Messages").click()

    # The results.
    nav(page, "Campaigns").click()
    page.get_by_role("link", name=CAMPAIGN, exact=True).click()
    expect(page.locator("#count-replied")).to_have_text("2")
    expect(page.locator("#count-active")).to_have_text("4")
    results = page.get_by_role("region", name="Results")
    expect(results.get_by_role("heading", level=3)).to_have_text(["Step 1"])
    result_rows = results.locator("table tbody tr")
    expect(result_rows.locator("td:nth-child(1)")).to_have_text(["A", "B"])
    counts = {
        cells[0]: [int(cell) for cell in cells[1:4]]
        for cells in (row.locator("td").all_inner_texts() for row in result_rows.all())
    }
    planned_counts = {label: list(planned.values()).count(label) for label in VARIANTS}
    replied_labels = [planned[interested.pk], planned[opted_out.pk]]
    assert counts == {
        label: [planned_counts[label], planned_counts[label], replied_labels.count(label)]
        for label in VARIANTS
    }
    assert sum(sent for _, sent, _ in counts.values()) == 6
    assert sum(replied for _, _, replied in counts.values()) == 2
    verdict = results.locator("p.verdict")
    expect(verdict).to_have_count(1)
    expect(verdict).to_have_text(re.compile(r"^A vs B: "))
    # Six sends cannot settle anything (the most lopsided split, 2 of 2 against 0 of 4, gives
    # p = 1/15 by Fisher's exact test): no winner is declared.
    expect(verdict).to_have_text(
        re.compile(r"^A vs B: (No winner yet|Not enough sends|No difference in reply rates)")
    )
    expect(verdict).not_to_have_text(re.compile(r"wins"))

    assert Reply.objects.count() == 2
    assert dict(Reply.objects.values_list("contact_id", "opted_out")) == {
        interested.pk: False,
        opted_out.pk: True,
    }
    assert set(Enrollment.objects.filter(campaign=campaign).values_list("contact_id", "state")) == {
        (
            person.pk,
            Enrollment.State.REPLIED
            if person in (interested, opted_out)
            else Enrollment.State.ACTIVE,
        )
        for person in webinar
    }
    interested.refresh_from_db()
    opted_out.refresh_from_db()
    assert (interested.do_not_contact, interested.stage) == (False, "replied")
    assert (opted_out.do_not_contact, opted_out.stage) == (True, "replied")
    # The reason says why without quoting the reply (the contact page is the whole team's);
    # the words stay with the reply.
    assert opted_out.dnc_reason == "Asked not to be contacted in a reply."
    assert OPT_OUT in opted_out.replies.get().text
    assert Message.objects.filter(replied_at__isnull=False).count() == 2

    # The dry run's "Skipped" must count the skipped recipients (none here), not the audience.
    assert dry_run_skipped == "0", (
        f"The dry run showed Skipped: {dry_run_skipped} for an audience of 6 with 6 enrolled "
        "and nobody skipped"
    )
