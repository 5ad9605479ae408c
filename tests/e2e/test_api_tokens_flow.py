"""Making an API token in a real browser, using it, revoking it; and the interactive API docs
rendering from our own static files under the strict Content-Security-Policy (the page fixture
fails the test on any CSP violation Chromium reports)."""

import re

import pytest
from django.test import Client
from playwright.sync_api import Page, expect


@pytest.mark.django_db(transaction=True)
def test_make_use_and_revoke_a_token(logged_in_page: Page):
    page = logged_in_page
    page.locator(".account-menu summary").click()  # the person's menu holds it
    page.locator(".account-menu").get_by_role("link", name="API tokens").click()
    expect(page.get_by_text("You have no API tokens yet.")).to_be_visible()
    page.get_by_label("Name").fill("Zapier")
    page.get_by_label("Read-only (may only read, never write)").check()
    page.get_by_role("button", name="Create token").click()

    raw = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"lcrm_[\w-]{43}", raw)
    row = page.locator("table tbody tr", has_text="Zapier")
    expect(row).to_contain_text("Read-only")
    expect(row).to_contain_text("Active")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/contacts/").status_code == 200

    page.goto(page.url)  # a new visit never shows the secret again
    expect(page.locator("#new-token")).to_have_count(0)
    row.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text("Revoked the token “Zapier”.")).to_be_visible()
    expect(page.locator("table tbody tr", has_text="Zapier")).to_contain_text("Revoked")
    assert api.get("/api/v1/contacts/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_the_api_docs_render_under_the_csp(logged_in_page: Page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.get_by_text("LinkedIn CRM API")).to_be_visible()
    expect(page.get_by_text("/api/v1/contacts/", exact=True).first).to_be_visible()
