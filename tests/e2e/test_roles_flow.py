"""Roles in a real browser: a Member sees and acts only on their own LinkedIn account, Outbox
and campaigns; once an Admin makes them a Manager on the team page, they see the team's."""

import re

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Campaign
from messaging.models import Message
from tests.campaigns.factories import AudienceFactory, CampaignFactory, add_step
from tests.contacts.factories import ConnectionFactory, ContactFactory, UserFactory, give_role
from tests.e2e.conftest import STAFF_PASSWORD
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".whoami")).to_have_text(username)


def _sign_out(page: Page) -> None:
    page.locator(".account-menu summary").click()  # the person's menu holds it
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


@pytest.fixture
def team(transactional_db):
    def member(username, role):
        user = UserFactory(username=username, password=STAFF_PASSWORD, is_staff=True)
        return give_role(user, role)

    mia, ben = member("mia", "Member"), member("ben", "Member")
    ada = member("ada", "Admin")
    mias = LinkedInAccountFactory(owner=mia, display_name="Mia Moreau")
    bens = LinkedInAccountFactory(owner=ben, display_name="Ben Becker")
    contact = ContactFactory(first_name="Chris", last_name="Client")
    ConnectionFactory(contact=contact, network=bens.network)
    MessageFactory(account=bens, contact=contact, status="released", body="Ben's own words")
    ConnectionFactory(contact=ContactFactory(first_name="Dana"), network=bens.network)
    audience = AudienceFactory(owner=ben, query="q=Dana")
    campaign = CampaignFactory(owner=ben, audience=audience, senders=[bens], name="Ben's push")
    add_step(campaign, 1, {"A": "Hello {{ first_name }}"})
    return {"mia": mia, "ada": ada, "mias": mias, "bens": bens, "campaign": campaign}


@pytest.mark.django_db(transaction=True)
def test_a_member_sees_only_their_own_then_a_manager_sees_the_team(page: Page, live_server, team):
    base = live_server.url
    campaign, bens = team["campaign"], team["bens"]

    _sign_in(page, base, "mia")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Team")).to_have_count(0)
    nav.get_by_role("link", name="LinkedIn accounts").click()
    expect(page.get_by_role("link", name="Mia Moreau")).to_be_visible()
    expect(page.get_by_text("Ben Becker")).to_have_count(0)
    nav.get_by_role("link", name="Outbox").click()
    expect(page.get_by_text("Ben's own words")).to_have_count(0)
    nav.get_by_role("link", name="Campaigns").click()
    expect(page.get_by_text("Ben's push")).to_have_count(0)
    # Typing the addresses does not help.
    for path in (f"/campaigns/{campaign.pk}/", f"/linkedin-accounts/{bens.pk}/"):
        response = page.goto(f"{base}{path}")
        assert response.status == 404, path
    page.goto(f"{base}/team/")
    expect(page.get_by_text("The team page is for Admins.")).to_be_visible()
    page.goto(f"{base}/")
    _sign_out(page)

    # The Admin makes Mia a Manager.
    _sign_in(page, base, "ada")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    page.get_by_label("Role of mia").select_option("Manager")
    page.locator("tr", has_text="mia").get_by_role("button", name="Change").click()
    expect(page.get_by_text("mia is now Manager.")).to_be_visible()
    _sign_out(page)

    _sign_in(page, base, "mia")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="LinkedIn accounts").click()
    expect(page.get_by_role("link", name="Ben Becker")).to_be_visible()
    nav.get_by_role("link", name="Outbox").click()
    # The message's text stands in its list entry and in its editor (the Outbox in focus).
    expect(page.get_by_role("textbox", name="Message to Chris Client")).to_have_value(
        "Ben's own words"
    )
    nav.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Ben's push").click()
    page.get_by_role("link", name="Launch…").click()
    page.get_by_role("button", name="Launch to 1 contact").click()
    expect(page.get_by_text("Launched: 1 enrolled, 0 skipped.")).to_be_visible()
    expect(page.get_by_text("launched by mia")).to_be_visible()
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.status == "running" and campaign.launched_by == team["mia"]
    assert Message.objects.filter(stream=campaign.stream, created_by=team["mia"]).count() == 1
