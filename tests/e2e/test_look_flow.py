"""The modern-CRM look of issue #15 in a real browser, at desktop (1280 px) and phone (390 px)
widths: the phone menu, the chip filters, the contextual bulk bar and the inline stage edit.
Screenshots of each state go to look-*.png in the temporary folder, to be looked at."""

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Contact
from tests.contacts.factories import ContactFactory, TagFactory

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def contacts(transactional_db):
    vip = TagFactory(name="VIP")
    press = TagFactory(name="Press")
    return {
        "ann": ContactFactory(first_name="Ann", last_name="Archer", company="Acme", tags=[vip]),
        "ben": ContactFactory(first_name="Ben", last_name="Baker", company="Beta", tags=[press]),
        "cat": ContactFactory(first_name="Cat", last_name="Cole", company="Core", tags=[vip]),
    }


def rows(page: Page):
    return page.locator("table.contacts tbody tr")


def shoot(page: Page, name: str):
    page.screenshot(path=Path(tempfile.gettempdir()) / f"look-{name}.png", full_page=False)


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_menu_opens_and_navigates_and_the_list_comes_first(
    contacts, logged_in_page: Page
):
    page = logged_in_page
    page.set_viewport_size(PHONE)
    page.reload()
    # The first contact row starts within the first screen: filters and tools are folded.
    first_row = rows(page).first.bounding_box()
    assert first_row["y"] + first_row["height"] < PHONE["height"], first_row
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    shoot(page, "phone-contacts")

    page.get_by_text("Menu", exact=True).click()
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Contacts")).to_have_attribute("aria-current", "page")
    shoot(page, "phone-menu")
    nav.get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Campaigns")
    expect(nav).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(nav.get_by_role("link", name="Campaigns")).to_have_attribute("aria-current", "page")

    # The personal menu: password, sign out (a POST).
    page.keyboard.press("Escape")
    page.locator(".account-menu summary").click()
    expect(page.get_by_role("link", name="Change password")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/"))


@pytest.mark.django_db(transaction=True)
def test_on_a_desktop_the_menu_is_open_without_a_button(contacts, logged_in_page: Page):
    page = logged_in_page
    page.set_viewport_size(DESKTOP)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.django_db(transaction=True)
def test_chips_filter_the_list_and_remove(contacts, logged_in_page: Page, size):
    page = logged_in_page
    page.set_viewport_size(size)
    page.reload()
    if size is PHONE:
        page.locator(".filter-panel > summary").first.click()
    form = page.locator("#filter-form")
    form.get_by_role("combobox", name="Tags (any of)").fill("VIP")
    expect(form.get_by_role("button", name="Remove VIP")).to_be_visible()
    form.get_by_role("combobox", name="Stage").fill("Lead")
    form.get_by_role("button", name="Remove Lead").click()  # changed her mind
    expect(form.get_by_role("button", name="Remove Lead")).to_have_count(0)
    form.get_by_role("button", name="Apply filter").click()

    expect(page.locator("#total-count")).to_have_text("2")
    expect(page.locator(".match-count")).to_have_text("2 contacts")
    chip = page.get_by_role("link", name="Remove filter Tags (any of): VIP")
    expect(chip).to_be_visible()
    shoot(page, f"chips-{size['width']}")
    chip.click()
    expect(page.locator("#total-count")).to_have_text("3")
    expect(page.get_by_role("list", name="Active filters")).to_have_count(0)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.django_db(transaction=True)
def test_the_bulk_bar_appears_with_the_count(contacts, logged_in_page: Page, size):
    page = logged_in_page
    page.set_viewport_size(size)
    page.reload()
    bar = page.get_by_role("form", name="Bulk actions")
    expect(bar).to_be_hidden()
    page.get_by_role("checkbox", name="Select Ann Archer").check()
    page.get_by_role("checkbox", name="Select Cat Cole").check()
    expect(bar).to_be_visible()
    expect(bar.locator("#bulk-count")).to_have_text("2 selected")
    expect(bar.get_by_label("Select all 3 matching")).to_be_visible()
    # The tag field suggests the team's tags (from the filter's own list, no query of its own).
    names = page.locator("#tag-names option").evaluate_all("options => options.map(o => o.value)")
    assert sorted(names) == ["Press", "VIP"]
    # Only the field the chosen action needs.
    expect(bar.get_by_placeholder("Reason")).to_be_hidden()
    bar.get_by_label("Action", exact=True).select_option(label="Set stage")
    expect(bar.get_by_label("Stage", exact=True)).to_be_visible()
    bar.get_by_label("Stage", exact=True).select_option(label="Meeting")
    shoot(page, f"bulk-{size['width']}")
    bar.get_by_role("button", name="Apply", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Moved 2 contacts to “Meeting”.")
    assert set(Contact.objects.filter(stage="meeting").values_list("first_name", flat=True)) == {
        "Ann",
        "Cat",
    }
    expect(bar).to_be_hidden()


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.django_db(transaction=True)
def test_inline_stage_edit(contacts, logged_in_page: Page, size):
    page = logged_in_page
    page.set_viewport_size(size)
    page.reload()
    ann = contacts["ann"]
    stage = page.get_by_label("Stage of Ann Archer")
    # Wait for the server's answer, which swaps the row in: the select shows the new stage as
    # soon as it is picked, before the row with the new version has come back.
    version = page.locator(f"#contact-{ann.pk} input[name=version]").first
    loaded = version.input_value()
    with page.expect_response(lambda response: "/inline/" in response.url):
        stage.select_option(label="Customer")
    expect(version).not_to_have_value(loaded)  # the row came back, with the new version
    # The row comes back from the server with the saved stage; the page is not reloaded.
    expect(page.locator(f"#contact-{ann.pk} .stage-select")).to_have_class(
        re.compile("badge-customer")
    )
    ann.refresh_from_db()
    assert ann.stage == "customer"
    # And again from the swapped row: it carries the new version.
    with page.expect_response(lambda response: "/inline/" in response.url):
        page.get_by_label("Stage of Ann Archer").select_option(label="Meeting")
    expect(page.locator(f"#contact-{ann.pk} .stage-select")).to_have_class(
        re.compile("badge-meeting")
    )
    ann.refresh_from_db()
    assert ann.stage == "meeting"
    shoot(page, f"inline-{size['width']}")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.django_db(transaction=True)
def test_inline_tag_edit(contacts, logged_in_page: Page, size):
    page = logged_in_page
    page.set_viewport_size(size)
    page.reload()
    ann = contacts["ann"]
    row = page.locator(f"#contact-{ann.pk}")
    # The editor's form is fetched when it is opened, and takes the focus.
    with page.expect_response(lambda response: "/inline/" in response.url):
        row.get_by_label("Edit tags of Ann Archer").click()
    field = row.get_by_label("Tags of Ann Archer, separated by commas")
    expect(field).to_be_focused()
    expect(field).to_have_value("VIP")
    field.fill("VIP, Berlin")
    with page.expect_response(lambda response: "/inline/" in response.url):
        row.get_by_role("button", name="Save tags").click()
    # The row comes back with both tags, drawn by the server; the page is not reloaded.
    expect(page.locator(f"#contact-{ann.pk} .tags-cell .tag")).to_have_text(["Berlin", "VIP"])
    assert sorted(ann.tags.values_list("name", flat=True)) == ["Berlin", "VIP"]
    # Opened again, the fresh row fetches a fresh editor carrying the new version.
    with page.expect_response(lambda response: "/inline/" in response.url):
        page.locator(f"#contact-{ann.pk}").get_by_label("Edit tags of Ann Archer").click()
    expect(page.get_by_label("Tags of Ann Archer, separated by commas")).to_have_value(
        "Berlin, VIP"
    )
