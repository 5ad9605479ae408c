"""The contact list's main flow in a real browser: log in, filter contacts by a tag and a search
term, open a contact, add a note, go back, bulk-tag two contacts, and see the result; a bulk
change too large for the request, followed on its page while the worker applies it."""

import re

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Contact, Note
from tests.contacts.factories import ContactFactory, TagFactory
from tests.contacts.worker import run_queued_tasks

NEW_TAG = "Köln 2025"
NOTE = "Called Zoë: prefers e-mail, follow up in Q3 ✉"


def _contact(first_name, last_name, company, tags=()):
    return ContactFactory(
        first_name=first_name,
        last_name=last_name,
        company=company,
        position="Head of Partnerships",
        email="",
        tags=list(tags),
    )


@pytest.fixture
def contacts(transactional_db):
    vip = TagFactory(name="VIP")
    other = TagFactory(name="Press")
    # Created oldest first; the list shows the newest first.
    return {
        "zoe": _contact("Zoë", "Müller", "Nordlicht GmbH", [vip]),
        "asa": _contact("Åsa", "Müller", "Fjord AB"),  # matches the search, not the tag
        "jurgen": _contact("Jürgen", "MÜLLER", "Bäckerei Groß", [vip, other]),
        "chloe": _contact("Chloé", "Ångström", "Lumière SA", [vip]),  # the tag, not the search
        "renee": _contact("Renée", "Dubois", "Café Noir", [other]),
    }


def rows(page: Page):
    return page.locator("table.contacts tbody tr")


def row(page: Page, contact: Contact):
    return rows(page).filter(has=page.get_by_role("link", name=str(contact), exact=True))


@pytest.mark.django_db(transaction=True)
# `contacts` before `logged_in_page`: the data exists when the sign-in lands on the list.
def test_filter_note_and_bulk_tag(contacts, logged_in_page: Page, live_server):
    page = logged_in_page
    zoe, asa, jurgen = contacts["zoe"], contacts["asa"], contacts["jurgen"]
    expect(page.locator("#total-count")).to_have_text("5")

    # Filter by a tag and a search term (case-insensitive beyond ASCII: "müller" finds MÜLLER).
    form = page.locator("#filter-form")
    form.get_by_label("Search", exact=True).fill("müller")
    # The tags are a searchable chip picker (static/js/chips.js): typing a tag's name picks it.
    form.get_by_role("combobox", name="Tags (any of)").fill("VIP")
    expect(form.get_by_role("button", name="Remove VIP")).to_be_visible()
    form.get_by_role("button", name="Apply filter").click()

    expect(page).to_have_url(re.compile(r"/contacts/\?.*q=m%C3%BCller"))
    expect(page.locator("#total-count")).to_have_text("2")
    expect(rows(page)).to_have_count(2)
    expect(rows(page).locator("td:nth-child(2) a")).to_have_text(["Jürgen MÜLLER", "Zoë Müller"])

    # Open a contact and add a note.
    page.get_by_role("link", name="Zoë Müller", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/contacts/{zoe.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Zoë Müller")
    page.get_by_label("New note").fill(NOTE)
    page.get_by_role("button", name="Add note").click()

    expect(page).to_have_url(f"{live_server.url}/contacts/{zoe.pk}/")
    expect(page.get_by_role("status")).to_have_text("Note added.")
    expect(page.locator("ul.notes .note-body")).to_have_text([NOTE])
    assert list(Note.objects.filter(contact=zoe).values_list("body", flat=True)) == [NOTE]

    # Back to the list, then tag two contacts at once.
    page.locator(".breadcrumb").get_by_role("link", name="Contacts").click()
    expect(page).to_have_url(f"{live_server.url}/contacts/")
    expect(rows(page)).to_have_count(5)

    page.get_by_role("checkbox", name=f"Select {zoe}", exact=True).check()
    page.get_by_role("checkbox", name=f"Select {asa}", exact=True).check()
    page.get_by_label("Action", exact=True).select_option(label="Add tag")
    page.locator("#bulk-tag").fill(NEW_TAG)
    page.get_by_role("button", name="Apply", exact=True).click()

    expect(page.get_by_role("status")).to_have_text(f"Tagged 2 contacts “{NEW_TAG}”.")
    expect(rows(page)).to_have_count(5)
    for contact in (zoe, asa):
        expect(row(page, contact).locator(".tag", has_text=NEW_TAG)).to_have_count(1)
    expect(row(page, zoe).locator(".tag")).to_have_text(["Köln 2025", "VIP"])
    expect(rows(page).locator(".tag", has_text=NEW_TAG)).to_have_count(2)
    expect(row(page, jurgen).locator(".tag")).to_have_text(["Press", "VIP"])

    tagged = Contact.objects.filter(tags__name=NEW_TAG)
    assert set(tagged.values_list("pk", flat=True)) == {zoe.pk, asa.pk}


@pytest.mark.django_db(transaction=True)
def test_page_size_and_note_deletion_work_from_static_scripts(contacts, logged_in_page: Page):
    """The per-page choice and the "Delete this note?" question were inline handlers, which the
    Content-Security-Policy refuses; static/js/app.js does them now."""
    page = logged_in_page
    page.get_by_label("Per page").select_option("25")
    expect(page).to_have_url(re.compile(r"per_page=25"))

    zoe = contacts["zoe"]
    Note.objects.create(contact=zoe, body="Short-lived note")
    row(page, zoe).get_by_role("link", name="Zoë Müller").click()
    delete = page.get_by_role("button", name="Delete note")
    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.click()
    # In the notes and in the timeline; the notes are where it is deleted.
    expect(page.get_by_role("region", name="Notes").get_by_text("Short-lived note")).to_be_visible()
    assert Note.objects.filter(contact=zoe).exists()

    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    expect(page.get_by_text("Note deleted.")).to_be_visible()
    assert not Note.objects.filter(contact=zoe).exists()


@pytest.mark.django_db(transaction=True)
def test_a_long_unbroken_name_stays_inside_the_table(logged_in_page: Page):
    """Issue #13: one 200-character name without a space pushed the table's other columns off
    screen. It wraps in its column; every column stays in view."""
    page = logged_in_page
    page.set_viewport_size({"width": 1280, "height": 900})
    ContactFactory(first_name="W" * 200, last_name="", company="C" * 200, position="CTO")
    page.reload()
    table = page.locator("table.contacts")
    expect(table.locator("tbody tr")).to_have_count(1)
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
    connected = table.locator("th").filter(has_text="Connected")
    box, view = connected.bounding_box(), wrap.bounding_box()
    assert box["x"] + box["width"] <= view["x"] + view["width"]


@pytest.mark.django_db(transaction=True)
def test_a_bulk_change_over_the_threshold_runs_in_the_worker_and_its_page_follows_it(
    contacts, logged_in_page: Page, live_server, settings
):
    """Issue #16: "all matching" over BULK_IN_REQUEST_MAX is queued; its page polls the progress
    and shows the result once the worker is done, on a phone's width too."""
    settings.BULK_IN_REQUEST_MAX = 2
    page = logged_in_page
    page.get_by_role("checkbox", name=f"Select {contacts['zoe']}", exact=True).check()
    page.get_by_label("Select all 5 matching").check()
    page.get_by_label("Action", exact=True).select_option(label="Set stage")
    page.locator("#bulk-stage").select_option(label="Meeting")
    page.get_by_role("button", name="Apply", exact=True).click()

    expect(page).to_have_url(re.compile(r"/contacts/bulk/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Set stage: Meeting")
    expect(page.get_by_text("Waiting for the worker…")).to_be_visible()
    assert not Contact.objects.filter(stage="meeting").exists()
    page.set_viewport_size({"width": 375, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    run_queued_tasks()
    expect(page.get_by_text("Moved 5 contacts to “Meeting”. 5 contacts matched.")).to_be_visible()
    page.get_by_role("link", name="Back to the contacts").click()
    expect(page).to_have_url(f"{live_server.url}/contacts/")
    assert Contact.objects.filter(stage="meeting").count() == 5
