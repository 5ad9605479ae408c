"""The webhooks page in a real browser: an Admin adds a webhook (after a refused first try),
reads its secret, sees a delivery in the log, redelivers it, turns it off and deletes it."""

import re

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from linkedin_crm import webhooks
from linkedin_crm.models import WebhookSubscription
from tests.contacts.factories import ContactFactory, UserFactory, give_role
from tests.e2e.conftest import STAFF_PASSWORD


@pytest.mark.django_db(transaction=True)
def test_an_admin_manages_a_webhook(page: Page, live_server, receiver):
    give_role(UserFactory(username="ada", password=STAFF_PASSWORD, is_staff=True), "Admin")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or e-mail").fill("ada")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()

    page.get_by_role("link", name="Add webhook").click()
    page.get_by_label("Target URL").fill(receiver.url)
    page.get_by_label("Description").fill("Our CRM sync")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Choose at least one event.")).to_be_visible()
    expect(page.get_by_label("Target URL")).to_have_value(receiver.url)  # kept

    page.get_by_label("A contact was added").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Our CRM sync")).to_be_visible()
    subscription = WebhookSubscription.objects.get()
    page.get_by_text("Signing secret", exact=True).click()
    expect(page.locator("#webhook-secret")).to_have_text(subscription.secret)

    ContactFactory(first_name="Grace")
    assert webhooks.deliver_due().delivered == 1
    page.reload()
    log = page.locator("table")
    expect(log).to_contain_text("contact.created")
    expect(log).to_contain_text("Delivered")
    expect(log).to_contain_text("200")

    page.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_text("will be delivered again shortly")).to_be_visible()
    assert webhooks.deliver_due().delivered == 1
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert Webhook(subscription.secret).verify(again.body, again.headers)["data"]["first_name"] == (
        "Grace"
    )

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Active").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl")).to_contain_text("Off")

    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete webhook").click()
    expect(page).to_have_url(re.compile(r"/settings/webhooks/$"))
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()
    assert not WebhookSubscription.objects.exists()
