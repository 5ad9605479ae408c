"""A member's morning, in a real browser at desktop and phone width (issue #13's journey): open
the Outbox and work through 20 messages by keyboard, mark two replies to yesterday's messages
(one a German opt-out), and open a contact's timeline to see what happened."""

import datetime
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from messaging.models import Message
from tests.contacts.factories import give_role
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

SCREENSHOTS = Path(tempfile.gettempdir()) / "morning-journey"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
OUTBOX = 20


@pytest.fixture
def morning(e2e_staff_user):
    """Lukas, a Member: 20 messages wait in his Outbox; two he sent yesterday got answers."""
    give_role(e2e_staff_user, "Member")
    account = LinkedInAccountFactory(
        owner=e2e_staff_user, display_name="Lukas Weber", daily_limit=40
    )
    waiting = [
        MessageFactory(
            account=account,
            status="released",
            body=f"Hallo {n:02}, passt Ihnen ein kurzes Gespräch?",
            contact__first_name=f"Person{n:02}",
            contact__last_name="Beispiel",
            contact__member_urn="",
            contact__profile_url=f"https://www.linkedin.com/in/person-{n:02}",
        )
        for n in range(OUTBOX)
    ]
    yesterday = timezone.now() - datetime.timedelta(days=1)
    answered = [
        MessageFactory(
            account=account,
            status="sent",
            sent_at=yesterday,
            claimed_at=yesterday,
            body="Guten Tag, darf ich Ihnen unser Angebot zeigen?",
            contact__first_name=first,
            contact__last_name=last,
        )
        for first, last in [("Jonas", "Keller"), ("Greta", "Vogel")]
    ]
    return {"waiting": waiting, "answered": answered}


def shot(page: Page, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_members_morning(logged_in_page, live_server, morning, linkedin_tabs, viewport):
    page = logged_in_page
    width = "desktop" if viewport is DESKTOP else "phone"
    page.set_viewport_size(viewport)

    # The Outbox: two keys a message, the text sent is the text shown.
    page.goto(f"{live_server.url}/outbox/")
    shot(page, f"{width}-1-outbox")
    for message in morning["waiting"]:
        current = page.locator("article.outbox-item.current")
        expect(current).to_have_id(f"message-{message.pk}")
        page.keyboard.press("c")
        expect(current.locator(".copy-open")).to_have_text("Copied — profile opened")
        page.keyboard.press("s")
        expect(page.get_by_role("status")).to_have_text(f"Recorded as sent to {message.contact}.")
    expect(page.get_by_text("Nothing waiting.")).to_be_visible()
    assert len(linkedin_tabs) == OUTBOX
    waiting_ids = [m.pk for m in morning["waiting"]]
    assert set(Message.objects.filter(pk__in=waiting_ids).values_list("status", flat=True)) == {
        "sent"
    }
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    # Two replies to yesterday's messages: a friendly one, and an opt-out in German.
    friendly, opt_out = morning["answered"]
    for message, text in [
        (friendly, "Gerne, rufen Sie mich morgen an."),
        (opt_out, "Bitte kontaktieren Sie mich nicht mehr."),
    ]:
        page.goto(f"{live_server.url}/messages/{message.pk}/")
        page.get_by_label("Their reply (optional)").fill(text)
        page.get_by_role("button", name="Mark replied").click()
        expect(page.get_by_role("status").first).to_contain_text("Reply recorded")
    shot(page, f"{width}-2-opt-out-recorded")
    expect(page.get_by_role("status").first).to_contain_text("marked do-not-contact")
    friendly.contact.refresh_from_db()
    opt_out.contact.refresh_from_db()
    assert not friendly.contact.do_not_contact
    assert opt_out.contact.do_not_contact

    # The opted-out contact's timeline says what happened, newest first.
    page.goto(f"{live_server.url}/contacts/{opt_out.contact.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("asking not to be contacted")
    expect(timeline).to_contain_text("Bitte kontaktieren Sie mich nicht mehr.")
    expect(timeline).to_contain_text("Guten Tag, darf ich Ihnen unser Angebot zeigen?")
    timeline.scroll_into_view_if_needed()
    shot(page, f"{width}-3-timeline")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
