"""The dashboard in a real browser: signing in lands on it, every chart is drawn with its text
equivalent, the sending panel refreshes itself (and clears the worker warning once a worker
runs), and the page holds together on a desktop and on a 390 px phone (screenshots of both
are saved in test-results/screenshots/ and looked at)."""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.models import Task
from playwright.sync_api import Page, expect

from campaigns.models import Campaign, Enrollment
from contacts.models import Network, Stage
from messaging.models import LinkedInAccount, Message
from tests.campaigns.factories import CampaignFactory
from tests.contacts.factories import ConnectionFactory, ContactFactory, ImportBatchFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

CHARTS = ["chart-stages", "chart-owners", "chart-companies", "chart-industries", "chart-years"]
S = Message.Status


@pytest.fixture
def team_data(e2e_staff_user):
    """A small team's week: contacts in two networks, two senders (one expiring soon), messages
    in every state over the last days, a running campaign, two imports; no worker yet."""
    now = timezone.now()
    mine = Network.objects.default_for(e2e_staff_user)
    companies = ["Société Lumière", "Acme Rockets", "Nordlicht GmbH", "東京テック", "Globex"]
    industries = ["Software", "Finance", "Software", "", "Energy"]
    stages = [Stage.LEAD] * 6 + [Stage.CONTACTED] * 3 + [Stage.REPLIED, Stage.CUSTOMER]
    people = []
    for index in range(22):
        contact = ContactFactory(
            first_name=["Zoë", "Jürgen", "Åsa", "Chloé"][index % 4],
            company=companies[index % 5],
            industry=industries[index % 5],
            stage=stages[index % len(stages)],
            created_at=now - datetime.timedelta(days=index * 9),
        )
        ConnectionFactory(
            contact=contact,
            network=mine,
            connected_on=datetime.date(2016 + index % 10, 1 + index % 12, 1),
        )
        people.append(contact)
    other = Network.objects.create(owner=e2e_staff_user, name="Client network")
    for contact in people[:6]:
        ConnectionFactory(contact=contact, network=other, connected_on=None)

    def sender(name, **fields):
        return LinkedInAccountFactory(
            owner=e2e_staff_user,
            display_name=name,
            timezone="UTC",
            window_days=list(range(7)),
            window_start=datetime.time(0, 0),
            window_end=datetime.time.max,
            daily_limit=25,
            min_interval_seconds=120,
            jitter_seconds=0,
            **fields,
        )

    maya = sender("Maya Okafor")
    lea = sender("Léa Dubois", access_token_expires_at=now + datetime.timedelta(days=3))
    sender("Sam Rivera", status=LinkedInAccount.Status.NEEDS_RECONNECT)
    for day in range(12):
        for index in range(day % 4 + 1):
            contact = people[(day + index) % len(people)]
            claimed = now - datetime.timedelta(days=day, minutes=index * 7)
            status = S.FAILED if (day, index) == (3, 1) else S.SENT
            MessageFactory(
                account=maya if index % 2 else lea,
                contact=contact,
                status=status,
                claimed_at=claimed,
                sent_at=claimed if status == S.SENT else None,
                replied_at=claimed + datetime.timedelta(hours=2) if index == 2 else None,
            )
    MessageFactory(account=maya, contact=people[1], status=S.RELEASED, claimed_at=now)
    MessageFactory(
        account=lea,
        contact=people[2],
        status=S.UNCERTAIN,
        claimed_at=now - datetime.timedelta(days=1),
    )
    for contact in people[10:18]:
        MessageFactory(account=maya, contact=contact, status=S.QUEUED)

    campaign = CampaignFactory(
        name="Webinar follow-up", status=Campaign.Status.RUNNING, senders=[maya]
    )
    for contact, state in zip(people, ["active"] * 5 + ["replied", "completed"], strict=False):
        Enrollment.objects.create(campaign=campaign, contact=contact, sender=maya, state=state)
    ImportBatchFactory(network=mine, file_name="Connections.csv", created=22)
    ImportBatchFactory(
        network=mine,
        file_name="Connections (Excel).csv",
        status="failed",
        created_at=now - datetime.timedelta(days=2),
    )
    return {"people": people}


def save_screenshot(page: Page, request, name: str) -> Path:
    folder = Path(request.config.getoption("--output")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


# `team_data` before `logged_in_page`: the data exists when the sign-in lands on the dashboard.
def test_dashboard_charts_text_equivalents_refresh_and_phone_layout(
    team_data, logged_in_page: Page, live_server, request
):
    page = logged_in_page
    # htmx's 30-second poll runs on a clock the test can move.
    page.clock.install()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")

    expect(page.locator("#contacts-total")).to_have_text("22")
    for chart in [*CHARTS, "chart-sends"]:
        svg = page.locator(f"#{chart} svg[role=img]")
        expect(svg).to_be_visible()
        expect(svg.locator("rect").first).to_be_attached()
        labelled = svg.get_attribute("aria-labelledby").split()
        assert labelled == [f"{chart}-title", f"{chart}-desc"]
        assert page.locator(f"#{chart}-title").text_content().strip()
        assert page.locator(f"#{chart}-desc").text_content().strip()
    expect(page.locator("#chart-stages-desc")).to_have_text(
        "6 bars; the largest: Lead, 12 contacts."
    )
    # The text equivalent: the same numbers as a table, one click away.
    stages = page.locator("#chart-stages")
    expect(stages.get_by_role("table")).to_be_hidden()
    stages.get_by_text("Data table").click()
    table = stages.get_by_role("table", name="Contacts by stage")
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name="Lead 12")).to_be_visible()
    sends = page.locator("#chart-sends")
    expect(sends.locator(".chart-legend")).to_contain_text("Sent")
    expect(page.get_by_role("img", name=re.compile("Messages per day"))).to_be_visible()

    panel = page.locator("#sending-panel")
    expect(panel.locator("#queue-depth")).to_have_text("8")
    expect(panel.get_by_role("link", name="1 uncertain message")).to_have_attribute(
        "href", "/messages/?status=uncertain"
    )
    expect(page.locator("#accounts-attention")).to_contain_text("Léa Dubois")
    expect(page.locator("#accounts-attention")).to_contain_text("Sam Rivera")
    expect(page.locator("#recent-imports")).to_contain_text("Connections (Excel).csv")
    expect(page.get_by_text("2 of 7 contacts done · 1 replied")).to_be_visible()

    # No worker has run: the warning is there, and goes once one runs and the panel refreshes.
    alert = page.locator("#worker-alert")
    expect(alert).to_contain_text("No worker has run in the last 5 minutes")
    expect(page.locator("#worker-warning")).to_be_visible()
    Task.objects.create(
        id="e2e" + "0" * 29,
        name="dispatch",
        func="messaging.tasks.dispatch",
        started=timezone.now(),
        stopped=timezone.now(),
        success=True,
    )
    with page.expect_response(re.compile(r"/dashboard/sending/$")):
        page.clock.fast_forward("00:31")
    expect(alert).to_be_empty()
    expect(page.locator("#worker-warning")).to_have_count(0)
    expect(page.locator("#worker-status")).to_contain_text("Last task finished")
    expect(page.locator("#sending-panel")).to_have_attribute("hx-trigger", "every 30s")

    body = page.locator("body")
    for raw in ("{{", "{%", "None"):
        expect(body).not_to_contain_text(raw)
    page.set_viewport_size({"width": 1280, "height": 900})
    save_screenshot(page, request, "dashboard-desktop")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("#contacts-total")).to_have_text("22")
    # Nothing sticks out sideways on a phone: wide tables scroll inside their own box.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the phone"
    for chart in CHARTS:
        box = page.locator(f"#{chart} svg").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, chart
    save_screenshot(page, request, "dashboard-phone")
