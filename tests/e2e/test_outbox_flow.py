"""The Outbox in a real browser: a member works through 20 messages by keyboard, at desktop and
at phone width, in two actions a message ("copy and open", then "I sent it"); an edit that was
not saved is what gets recorded; the composer previews as one types and refuses before
queueing."""

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from messaging.models import Message, MessageTemplate
from tests.contacts.factories import ConnectionFactory, ContactFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

MESSAGES = 20
# For a person to look at (the page fixture keeps only each test's last state).
SCREENSHOTS = Path(tempfile.gettempdir()) / "outbox-screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def account(e2e_staff_user):
    return LinkedInAccountFactory(owner=e2e_staff_user, display_name="Maya Okafor", daily_limit=40)


@pytest.fixture
def outbox(account):
    """20 messages waiting for Maya to send by hand (no API scope, no member URNs)."""
    return [
        MessageFactory(
            account=account,
            status="released",
            body=f"Hi {n:02}, shall we talk next week?\nMaya",
            contact__first_name=f"Person{n:02}",
            contact__last_name="Tester",
            contact__member_urn="",
            contact__profile_url=f"https://www.linkedin.com/in/person-{n:02}",
        )
        for n in range(MESSAGES)
    ]


def current(page: Page):
    return page.locator("article.outbox-item.current")


def shot(page: Page, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=False)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_member_works_through_20_messages_with_two_keys_each(
    logged_in_page, live_server, outbox, linkedin_tabs, viewport
):
    page = logged_in_page
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/outbox/")
    name = "desktop" if viewport is DESKTOP else "phone"
    expect(current(page)).to_have_id(f"message-{outbox[0].pk}")
    expect(page.locator("#outbox-position")).to_have_text(
        f"Message 1 of {MESSAGES} · 0 of 40 sent today"
    )
    shot(page, f"{name}-start")
    # No horizontal scrolling at this width.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    actions = 0
    for n, message in enumerate(outbox):
        expect(current(page)).to_have_id(f"message-{message.pk}")
        progress = page.locator(f"#acct-{message.account_id}")
        expect(progress).to_contain_text(f"{MESSAGES - n} waiting · {n} of 40 sent today")
        expect(page.locator("#outbox-position")).to_have_text(
            f"Message 1 of {MESSAGES - n} · {n} of 40 sent today"
        )
        if n == 3:
            shot(page, f"{name}-after-3")
        page.keyboard.press("c")
        actions += 1
        expect(current(page).locator(".copy-open")).to_have_text("Copied — profile opened")
        assert page.evaluate("navigator.clipboard.readText()") == message.body
        page.keyboard.press("s")
        actions += 1
        expect(page.get_by_role("status")).to_have_text(f"Recorded as sent to {message.contact}.")
    expect(page.get_by_text("Nothing waiting.")).to_be_visible()
    shot(page, f"{name}-done")

    # The measurement of issue #13: two actions a message, from opening the Outbox.
    assert actions / MESSAGES == 2
    print(f"\nOutbox at {viewport['width']} px: {actions / MESSAGES:g} actions a message")
    assert linkedin_tabs == [m.contact.profile_url for m in outbox]
    sent = Message.objects.filter(account=outbox[0].account).order_by("pk")
    assert [(m.status, m.channel, m.body) for m in sent] == [
        ("sent", "manual", m.body) for m in outbox
    ]


def test_the_keys_move_skip_and_edit(logged_in_page, live_server, outbox, linkedin_tabs):
    page = logged_in_page
    page.goto(f"{live_server.url}/outbox/")
    page.keyboard.press("j")
    page.keyboard.press("ArrowDown")
    expect(current(page)).to_have_id(f"message-{outbox[2].pk}")
    page.keyboard.press("k")
    expect(current(page)).to_have_id(f"message-{outbox[1].pk}")
    # Skip: the message is cancelled and the one after it comes into focus.
    page.keyboard.press("x")
    expect(page.get_by_role("status")).to_have_text(f"Skipped the message to {outbox[1].contact}.")
    expect(current(page)).to_have_id(f"message-{outbox[2].pk}")
    # Edit: the keys type into the text box until Esc gives them back.
    page.keyboard.press("e")
    page.keyboard.type(" See you!")
    expect(current(page).locator(".unsaved-note")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("k")
    expect(current(page)).to_have_id(f"message-{outbox[0].pk}")
    # Mouse and touch: the buttons do what the keys do.
    page.get_by_role("button", name="Next").click()
    expect(current(page)).to_have_id(f"message-{outbox[2].pk}")
    current(page).get_by_role("button", name="I sent it").click()
    expect(page.get_by_role("status")).to_have_text(f"Recorded as sent to {outbox[2].contact}.")
    expect(current(page)).to_have_id(f"message-{outbox[3].pk}")
    page.locator(f"#message-{outbox[5].pk} .outbox-snippet").click()
    expect(current(page)).to_have_id(f"message-{outbox[5].pk}")
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert [statuses[m.pk] for m in outbox[:4]] == ["released", "cancelled", "sent", "released"]
    edited = Message.objects.get(pk=outbox[2].pk)
    assert edited.body == outbox[2].body + " See you!"


def test_i_sent_it_records_the_edited_text_that_was_copied(
    logged_in_page, live_server, outbox, linkedin_tabs
):
    """Defect 1, as it happened: edit without "Save edit", copy and open, "I sent it"."""
    page = logged_in_page
    page.goto(f"{live_server.url}/outbox/")
    box = current(page).get_by_label(f"Message to {outbox[0].contact}")
    box.fill("Hi 00, changed my mind: lunch on Friday?")
    note = current(page).locator(".unsaved-note")
    expect(note).to_have_text(
        "Edited: “I sent it” records this text; “Save edit” keeps it for later."
    )
    current(page).get_by_role("button", name="Copy and open LinkedIn profile").click()
    assert page.evaluate("navigator.clipboard.readText()") == (
        "Hi 00, changed my mind: lunch on Friday?"
    )
    shot(page, "defect-1-unsaved-edit")
    current(page).get_by_role("button", name="I sent it").click()
    expect(page.get_by_role("status")).to_have_text(f"Recorded as sent to {outbox[0].contact}.")
    message = Message.objects.get(pk=outbox[0].pk)
    assert (message.status, message.body) == ("sent", "Hi 00, changed my mind: lunch on Friday?")


def test_the_composer_previews_as_one_types_and_refuses_before_queueing(
    logged_in_page, live_server, account
):
    page = logged_in_page
    zoe = ContactFactory(first_name="Zoë", last_name="Brandt", company="Nordlicht")
    ConnectionFactory(contact=zoe, network=account.network)
    MessageTemplate.objects.create(name="Intro", body="Hallo {{ first_name }} von {{ company }}")
    page.goto(f"{live_server.url}/contacts/{zoe.pk}/message/")
    page.get_by_label("Send from").select_option(label="Maya Okafor — connected")
    page.get_by_label("Start from a template").select_option(label="Intro")
    editor = page.get_by_label("Message", exact=True)
    expect(editor).to_have_value("Hallo {{ first_name }} von {{ company }}")
    preview = page.locator("#preview")
    expect(preview).to_have_text("Hallo Zoë von Nordlicht")
    editor.press("End")
    editor.type(", bis bald!")
    expect(preview).to_have_text("Hallo Zoë von Nordlicht, bis bald!")
    editor.type(" {{ frist_name }}")
    expect(page.locator("#compose-preview")).to_contain_text("frist_name")
    expect(page.get_by_role("button", name="Queue message")).to_have_count(0)
    for _ in range(len(" {{ frist_name }}")):
        editor.press("Backspace")
    expect(preview).to_have_text("Hallo Zoë von Nordlicht, bis bald!")
    shot(page, "composer-preview")

    # Marked do-not-contact in another tab: the preview says so before anything is queued.
    zoe.mark_do_not_contact("asked on the phone")
    editor.type(" :)")
    expect(page.locator("#refusal")).to_have_text("Cannot be queued: do-not-contact.")
    expect(page.get_by_role("button", name="Queue message")).to_have_count(0)
    expect(editor).to_have_value("Hallo {{ first_name }} von {{ company }}, bis bald! :)")
    shot(page, "composer-refusal")
    assert not Message.objects.exists()


def test_the_composer_queues_what_was_previewed(logged_in_page, live_server, account):
    page = logged_in_page
    ann = ContactFactory(first_name="Ann", last_name="Lee")
    ConnectionFactory(contact=ann, network=account.network)
    page.goto(f"{live_server.url}/contacts/{ann.pk}/message/")
    page.get_by_label("Send from").select_option(label="Maya Okafor — connected")
    page.get_by_label("Message", exact=True).fill("Hi {{ first_name }}!")
    expect(page.locator("#preview")).to_have_text("Hi Ann!")
    page.get_by_role("button", name="Queue message").click()
    expect(page.get_by_role("status")).to_have_text(
        "Queued. It goes out at the sender's next free slot."
    )
    assert Message.objects.get().body == "Hi Ann!"
