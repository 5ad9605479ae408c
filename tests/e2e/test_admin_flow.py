"""The Django admin under the Content-Security-Policy, in a real browser: its widgets and
django-import-export's export page work, and Chromium reports no violation (conftest)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.contacts.factories import ContactFactory, NoteFactory, TagFactory, UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin_page(page: Page, live_server, transactional_db) -> Page:
    from django.contrib.contenttypes.models import ContentType

    # An earlier transactional test emptied the tables, content types included, and they were
    # made again with other ids: the admin's history entries must not use the cached ones.
    ContentType.objects.clear_cache()
    UserFactory(username="root", password=PASSWORD, is_staff=True, is_superuser=True)
    # The admin's own sign-in form is not used: it sends people to allauth's (rate-limited).
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username or e-mail").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    return page


def test_the_contact_change_page_and_its_widgets_work(admin_page: Page, live_server):
    TagFactory(name="VIP")
    contact = ContactFactory(first_name="Ann", last_name="Lee")
    NoteFactory(contact=contact, body="Met at the fair")
    page = admin_page
    page.goto(f"{live_server.url}/admin/contacts/contact/{contact.pk}/change/")
    # filter_horizontal's two boxes are built by the admin's script.
    page.locator("#id_tags_from").select_option(label="VIP")
    page.locator("#id_tags_add").click()
    expect(page.locator("#id_tags_to option")).to_have_text(["VIP"])
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert list(contact.tags.values_list("name", flat=True)) == ["VIP"]


def test_the_export_page_select_all_toggle_works(admin_page: Page, live_server):
    ContactFactory()
    page = admin_page
    page.goto(f"{live_server.url}/admin/contacts/contact/export/")
    fields = page.locator('.selectable-field-export-row input[type="checkbox"]:not(.select-toggle)')
    expect(fields.last).to_be_checked()
    # The toggle is django-import-export's onchange= attribute, admitted by hash.
    page.locator('input[name="select-all-toggle"]').uncheck()
    expect(fields.last).not_to_be_checked()
    expect(page.get_by_text(re.compile("This exporter will export"))).to_be_visible()
