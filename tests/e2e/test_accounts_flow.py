"""Connecting a LinkedIn account in a real browser, against the sandbox's consent page."""

import re

import pytest
from playwright.sync_api import Page, expect

from messaging.models import LinkedInAccount


@pytest.mark.django_db(transaction=True)
def test_connect_validate_pause_resume_disconnect(sandbox_settings, logged_in_page: Page):
    page = logged_in_page
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="LinkedIn accounts"
    ).click()
    expect(page.get_by_text("Sandbox mode")).to_be_visible()
    page.get_by_role("button", name="Connect LinkedIn account").click()

    # The sandbox's consent page, as LinkedIn's would be.
    expect(page).to_have_url(re.compile(r"/oauth/v2/authorization"))
    page.get_by_label("Sofía Márquez").check()
    page.get_by_role("button", name="Approve").click()

    expect(page).to_have_url(re.compile(r"/linkedin-accounts/$"))
    expect(page.get_by_text("Connected LinkedIn account Sofía Márquez.")).to_be_visible()
    row = page.locator("table tbody tr", has_text="Sofía Márquez")
    expect(row.locator(".badge")).to_have_text("Active")
    account = LinkedInAccount.objects.get()
    expect(row).to_contain_text(f"{account.access_token_expires_at:%d %b %Y}")

    row.get_by_role("link", name="Sofía Márquez").click()
    expect(page.locator("#token-expiry")).to_contain_text(
        f"{account.access_token_expires_at:%d %b %Y}"
    )
    page.get_by_role("button", name="Validate now").click()
    expect(page.get_by_text("LinkedIn accepts this account’s token.")).to_be_visible()
    expect(page.locator("#last-validated")).not_to_have_text("never")

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#account-status")).to_have_text("Paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#account-status")).to_have_text("Active")

    page.get_by_role("link", name="Disconnect…").click()
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("its tokens were deleted")).to_be_visible()
    account.refresh_from_db()
    assert account.status == "disconnected" and account.access_token == ""


@pytest.mark.django_db(transaction=True)
def test_cancel_on_the_consent_page(sandbox_settings, logged_in_page: Page):
    page = logged_in_page
    page.goto(page.url.replace("/contacts/", "/linkedin-accounts/"))
    page.get_by_role("button", name="Connect LinkedIn account").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/linkedin-accounts/$"))
    expect(
        page.get_by_text("You cancelled connecting LinkedIn; nothing was changed.")
    ).to_be_visible()
    assert not LinkedInAccount.objects.exists()
