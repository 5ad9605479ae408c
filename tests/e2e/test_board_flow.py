"""The stage board in a real browser: drag a card to another column, move one with the arrow
keys and with its menu, and page a long column with "Show more"."""

import pytest
from playwright.sync_api import Page, expect

from contacts.board_views import COLUMN_PAGE
from contacts.models import Contact, Stage
from linkedin_crm.models import AuditEvent
from tests.contacts.factories import ContactFactory, TagFactory


@pytest.fixture
def ada(transactional_db):
    return ContactFactory(first_name="Ada", last_name="Lovelace", company="Engines Ltd")


def column(page: Page, stage: str):
    return page.locator(f'.board-cards[data-stage="{stage}"]')


def count(page: Page, stage: str):
    return page.locator(f"#column-{stage} [data-count]")


def card(page: Page, contact: Contact):
    return page.locator(f"#card-{contact.pk}")


def stage_changes(contact: Contact) -> list[dict]:
    events = AuditEvent.objects.filter(object_type="contact", object_id=str(contact.pk))
    return [event.detail for event in events.order_by("id")]


def test_a_card_dragged_to_another_column_changes_the_stage(ada, logged_in_page: Page):
    page = logged_in_page
    ContactFactory(first_name="Bea", last_name="Busy", stage=Stage.MEETING)
    page.get_by_role("link", name="Stage board").click()
    expect(page.get_by_role("heading", name="Stage board", level=1)).to_be_visible()
    expect(count(page, "lead")).to_have_text("1")
    expect(count(page, "meeting")).to_have_text("1")

    card(page, ada).drag_to(column(page, "meeting"))

    expect(page.get_by_role("status").filter(has_text="Moved Ada")).to_have_text(
        "Moved Ada Lovelace to “Meeting”."
    )
    expect(column(page, "meeting").locator(f"#card-{ada.pk}")).to_be_visible()
    expect(count(page, "lead")).to_have_text("0")
    expect(count(page, "meeting")).to_have_text("2")
    expect(card(page, ada).get_by_label("Stage of Ada Lovelace")).to_have_value("meeting")
    ada.refresh_from_db()
    assert ada.stage == Stage.MEETING
    assert stage_changes(ada) == [{"from": "lead", "to": "meeting"}]

    # What the server has, after a reload.
    page.reload()
    expect(column(page, "meeting").locator(f"#card-{ada.pk}")).to_be_visible()
    expect(count(page, "meeting")).to_have_text("2")


def test_arrow_keys_and_the_menu_move_a_card_too(ada, logged_in_page: Page):
    page = logged_in_page
    page.goto(page.url.replace("/contacts/", "/contacts/board/"))
    # Reach the card from the keyboard: Tab from its column's last link before it.
    page.get_by_role("link", name="Ada Lovelace").focus()
    page.keyboard.press("Shift+Tab")
    expect(card(page, ada)).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(column(page, "contacted").locator(f"#card-{ada.pk}")).to_be_visible()
    expect(card(page, ada)).to_be_focused()  # still in hand for the next press
    page.keyboard.press("ArrowRight")
    expect(column(page, "replied").locator(f"#card-{ada.pk}")).to_be_visible()
    expect(count(page, "replied")).to_have_text("1")
    page.keyboard.press("ArrowLeft")
    expect(column(page, "contacted").locator(f"#card-{ada.pk}")).to_be_visible()
    ada.refresh_from_db()
    assert ada.stage == Stage.CONTACTED
    assert stage_changes(ada) == [
        {"from": "lead", "to": "contacted"},
        {"from": "contacted", "to": "replied"},
        {"from": "replied", "to": "contacted"},
    ]

    # The menu, by keyboard: choose the stage, Tab to "Move", Enter; the page comes back.
    menu = page.get_by_label("Stage of Ada Lovelace")
    menu.focus()
    menu.select_option("customer")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Move Ada Lovelace")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Moved Ada Lovelace to “Customer”.")).to_be_visible()
    expect(column(page, "customer").locator(f"#card-{ada.pk}")).to_be_visible()
    ada.refresh_from_db()
    assert ada.stage == Stage.CUSTOMER


def test_show_more_pages_a_long_column_and_keeps_the_filter(transactional_db, logged_in_page):
    page = logged_in_page
    vip = TagFactory(name="VIP")
    ContactFactory.create_batch(COLUMN_PAGE + 2, tags=[vip])
    ContactFactory.create_batch(3)  # leads without the tag
    page.goto(page.url.replace("/contacts/", f"/contacts/board/?tags={vip.pk}"))
    expect(count(page, "lead")).to_have_text(str(COLUMN_PAGE + 2))
    expect(column(page, "lead").locator(".board-card")).to_have_count(COLUMN_PAGE)
    page.get_by_role("button", name="Show more in Lead").click()
    expect(column(page, "lead").locator(".board-card")).to_have_count(COLUMN_PAGE + 2)
    expect(page.get_by_role("button", name="Show more in Lead")).to_have_count(0)
