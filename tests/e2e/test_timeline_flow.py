"""A contact's timeline in a real browser, on a desktop and on a 390 px phone: the contact page
loads it, the kind chips filter it in place, and "Older" appends the next items."""

import datetime

import pytest
from playwright.sync_api import Page, expect

from contacts import services as contact_services
from contacts.models import Contact, Note
from messaging.models import Message
from tests.contacts.factories import ContactFactory, NoteFactory
from tests.e2e.test_dashboard_flow import save_screenshot
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

T0 = datetime.datetime(2026, 2, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def person(transactional_db, e2e_staff_user):
    contact = ContactFactory(first_name="Zoë", last_name="Müller", company="Nordlicht GmbH")
    account = LinkedInAccountFactory(owner=e2e_staff_user, display_name="Erin's LinkedIn")
    for n in range(30):
        note = NoteFactory(contact=contact, author=e2e_staff_user, body=f"Call notes, day {n + 1}")
        Note.objects.filter(pk=note.pk).update(created_at=T0 + datetime.timedelta(days=n))
    for n in range(3):
        message = MessageFactory(
            contact=contact, account=account, body=f"Hallo Zoë, message {n + 1}", status="sent"
        )
        Message.objects.filter(pk=message.pk).update(
            created_at=T0 + datetime.timedelta(days=10 * n, hours=1)
        )
    contact_services.contacts_set_stage(
        contacts=Contact.objects.filter(pk=contact.pk), stage="meeting", actor=e2e_staff_user
    )
    return contact


def items(page: Page):
    return page.locator("#timeline .timeline-item")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_open_filter_and_load_older(
    person, logged_in_page: Page, live_server, request, width, height
):
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/contacts/{person.pk}/")
    timeline = page.locator("#timeline")
    # Loaded after the page by htmx: the newest first (the stage change made just now).
    expect(items(page)).to_have_count(25)
    expect(items(page).first).to_contain_text("Stage changed from “Lead” to “Meeting”")
    expect(items(page).first).to_contain_text("by e2e-staff")

    # Older: the remaining 9 of 34 (30 notes, 3 messages, 1 change) below the first 25.
    timeline.get_by_role("link", name="Older").click()
    expect(items(page)).to_have_count(34)
    expect(timeline.get_by_role("link", name="Older")).to_have_count(0)
    expect(items(page).last).to_contain_text("Call notes, day 1")

    # A kind chip filters in place, without leaving the contact page.
    timeline.get_by_label("Messages").check()
    expect(items(page)).to_have_count(3)
    expect(items(page).first).to_contain_text("Hallo Zoë, message 3")
    expect(page).to_have_url(f"{live_server.url}/contacts/{person.pk}/")
    expect(timeline.get_by_label("Messages")).to_be_checked()
    timeline.get_by_label("Notes").check()
    expect(items(page)).to_have_count(25)
    expect(timeline.get_by_role("link", name="Older")).to_be_visible()

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the window"
    body = page.locator("body")
    for raw in ("{{", "{%", "None"):
        expect(body).not_to_contain_text(raw)
    save_screenshot(page, request, f"timeline-{width}")
