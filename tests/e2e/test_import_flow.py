"""The import wizard in a real browser: upload an export, read the preview, confirm, see the
batch, undo it."""

import datetime
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Reply
from contacts.models import Contact, ImportBatch
from tests.contacts.factories import ConnectionFactory, ContactFactory
from tests.contacts.worker import run_queued_tasks
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"
MESSAGES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin_messages"


@pytest.fixture
def known_contact(transactional_db):
    # Already known with an older position: the preview shows it as an update.
    return ContactFactory(
        first_name="Fitzgerald",
        last_name="Orme",
        company="Tallowby & Sons",
        position="Intern",
        profile_url="https://www.linkedin.com/in/fitz-orme",
    )


@pytest.mark.django_db(transaction=True)
def test_upload_preview_confirm_and_undo(known_contact, logged_in_page: Page):
    page = logged_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Imports", exact=True)).to_be_visible()

    # A wrong file is refused with the reader's reason, and nothing changes.
    page.get_by_label("Connections.csv").set_input_files(str(FIXTURES / "doc.pdf.csv"))
    page.get_by_role("button", name="Preview import").click()
    expect(page.get_by_text("This looks like a PDF document")).to_be_visible()
    assert not ImportBatch.objects.exists()

    page.get_by_label("Connections.csv").set_input_files(str(FIXTURES / "current.csv"))
    page.get_by_label("Tags for every imported contact").fill("Berlin 2026")
    page.get_by_role("button", name="Preview import").click()

    # The request only stored the file; the worker prepares the preview while the page polls.
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    expect(page.get_by_text("Waiting for the worker to read the file")).to_be_visible()
    run_queued_tasks()
    expect(page.get_by_role("heading", name="Preview: what importing will do")).to_be_visible()
    expect(page.locator("#count-created")).to_have_text("5")
    expect(page.locator("#count-updated")).to_have_text("1")
    expect(page.locator("del", has_text="Intern")).to_be_visible()
    expect(page.locator("ins", has_text="Apprentice")).to_be_visible()
    assert Contact.objects.count() == 1  # the preview changed nothing

    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_text("Imported: 5 new, 1 updated, 0 unchanged.")).to_be_visible()
    expect(page.get_by_role("heading", name="Result")).to_be_visible()
    assert Contact.objects.count() == 6
    assert Contact.objects.filter(tags__name="Berlin 2026").count() == 6

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.locator("table tbody tr").first).to_contain_text("current.csv")
    expect(page.locator("table tbody tr").first).to_contain_text("Imported")
    page.get_by_role("link", name="current.csv").first.click()

    page.get_by_role("link", name="Undo import…").click()
    expect(page.get_by_role("heading", name="Undo this import?")).to_be_visible()
    page.get_by_role("button", name="Undo import").click()
    expect(page.get_by_text("Waiting for the worker to undo")).to_be_visible()
    run_queued_tasks()
    expect(page.get_by_text("Undone: 5 deleted, 1 restored")).to_be_visible()
    expect(page.locator(".badge", has_text="Undone")).to_be_visible()
    assert list(Contact.objects.values_list("position", flat=True)) == ["Intern"]


@pytest.mark.django_db(transaction=True)
def test_import_a_2018_messages_export_and_read_what_became_of_every_row(
    e2e_staff_user, logged_in_page: Page
):
    account = LinkedInAccountFactory(owner=e2e_staff_user, display_name="Alice Archer")
    for first, last in [("Zoë", "Müller"), ("Sam", "Lee"), ("Sam", "Lee")]:
        contact = ContactFactory(first_name=first, last_name=last, profile_url=None)
        ConnectionFactory(contact=contact, network=account.network)
        if first == "Zoë":
            MessageFactory(
                account=account,
                contact=contact,
                status="sent",
                sent_at=datetime.datetime(2018, 3, 1, 18, 14, tzinfo=datetime.UTC),
            )
    page = logged_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    page.get_by_role("link", name="import LinkedIn's messages.csv").click()

    page.get_by_label("messages.csv").set_input_files(str(MESSAGES / "export_2018.csv"))
    page.get_by_role("button", name="Import replies").click()

    result = page.locator("#messages-result")
    expect(result).to_contain_text("1 new reply recorded")
    expect(result).to_contain_text("1 already known")
    expect(result).to_contain_text(
        "2 rows not taken: several contacts in your network have this name"
    )
    page.get_by_text("Rows not taken, and names not found").click()
    expect(page.locator("#messages-not-taken")).to_contain_text(
        "Line 6: “Quentin Moreau”: no contact in your network has this name"
    )
    assert Reply.objects.get().text == "Danke, gern!"
