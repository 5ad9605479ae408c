"""A new team member's first hour, in one browser session: sign in, import their LinkedIn
Connections.csv, filter and tag, connect their LinkedIn account (the sandbox), open its sending
settings, message a filtered set with preview and forecast, let the worker tick, send from the
Outbox, record a reply, run a two-variant campaign, and find all of it on the dashboard.

Every page along the way is checked for what a person would notice first: raw template syntax,
mojibake, names with accents and emoji shown as written. A screenshot of each step is saved to
test-results/journey/ (look at them after a change to a page)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Campaign, Enrollment
from contacts.models import Contact, ImportBatch
from messaging.dispatch import dispatch_tick
from messaging.linkedin import client_from_settings
from messaging.models import LinkedInAccount, Message
from tests.contacts.worker import run_queued_tasks

SENDER = "Kenji Watanabe"  # a sandbox member (messaging/sandbox/)
TAG = "Berlin 🐻 2026"
BODY = (
    "Hallo {{ first_name }}, kurze Frage zu {{ company }} — hast du 15 Minuten? "
    "{{ sender_first_name }}"
)
REPLY = "Gerne! Donnerstag passt 👍"

# A real export's shape: LinkedIn's "Notes:" preamble, then the header. Names with accents,
# emoji and a non-Latin script, one without a company, one without a profile URL.
CONNECTIONS_CSV = "\n".join(
    [
        "Notes:",
        '"When exporting your connection data, you may notice that some of the email addresses'
        " are missing. You will only see email addresses for connections who have allowed their"
        " connections to see or download their email address using this setting"
        ' https://www.linkedin.com/psettings/privacy/email"',
        "",
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On",
        "Zoë,Løvås 🚀,https://www.linkedin.com/in/zoe-lovas,,Nordlicht GmbH,Head of Growth,"
        "05 Jan 2026",
        "François,Müller-Lüdenscheidt,https://www.linkedin.com/in/francois-muller,"
        "francois@example.com,Nordlicht GmbH,CTO,28 Dec 2025",
        "Ingrid,Ångström,https://www.linkedin.com/in/ingrid-angstrom,,Nordlicht GmbH,"
        '"Sales Director, DACH",14 Nov 2025',
        "José,Núñez,https://www.linkedin.com/in/jose-nunez,,Café Olé SL,Founder & CEO,03 Oct 2025",
        "美咲,佐藤,https://www.linkedin.com/in/misaki-sato,,Sakura KK,Engineer,01 Sep 2025",
        "Ødegaard,Bjørn,,,,,12 Aug 2025",
        "",
    ]
)
# The list shows the newest first: the file's last row was created last.
NORDLICHT = ["Ingrid Ångström", "François Müller-Lüdenscheidt", "Zoë Løvås 🚀"]

# Text that must never reach a page: template syntax, and UTF-8 read as Latin-1 / cp1252.
GLITCHES = re.compile(r"\{\{|\}\}|\{%|%\}|Ã.|â€|Â\s|\ufffd")


def nav(page: Page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def flash(page: Page):
    return page.get_by_role("status")


@pytest.fixture
def shoot(page: Page, request):
    """Save a numbered screenshot of the current page and check its text for glitches."""
    folder = Path(request.config.getoption("--output")) / "journey"
    folder.mkdir(parents=True, exist_ok=True)
    taken = []

    def shoot(name: str):
        page.wait_for_load_state("networkidle")
        # Help texts, code samples and what someone typed show template syntax on purpose.
        text = page.evaluate(
            """() => {
                const body = document.body.cloneNode(true);
                const shown = ".help, code, pre, textarea, .template-source";
                body.querySelectorAll(shown).forEach((el) => el.remove());
                return body.innerText;
            }"""
        )
        taken.append(name)
        page.screenshot(path=folder / f"{len(taken):02d}-{name}.png", full_page=True)
        glitch = GLITCHES.search(text)
        assert glitch is None, (
            f"{name}: {glitch.group()!r} on {page.url}: "
            f"…{text[max(0, glitch.start() - 80) : glitch.end() + 80]}…"
        )

    return shoot


@pytest.mark.django_db(transaction=True)
def test_a_new_members_first_hour(sandbox_settings, logged_in_page: Page, shoot, tmp_path):
    page = logged_in_page
    shoot("signed-in")

    # 1. Import their Connections.csv: preview, then confirm.
    export = tmp_path / "Connections.csv"
    export.write_text(CONNECTIONS_CSV, encoding="utf-8")
    nav(page, "Imports").click()
    page.get_by_label("Connections.csv").set_input_files(str(export))
    page.get_by_role("button", name="Preview import").click()
    expect(page.get_by_text("Waiting for the worker to read the file")).to_be_visible()
    run_queued_tasks()  # the worker's part
    expect(page.get_by_role("heading", name="Preview: what importing will do")).to_be_visible()
    expect(page.locator("#count-created")).to_have_text("6")
    shoot("import-preview")
    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_text("Imported: 6 new, 0 updated, 0 unchanged.")).to_be_visible()
    shoot("import-result")
    assert Contact.objects.count() == 6
    assert ImportBatch.objects.get().status == ImportBatch.Status.DONE

    # 2. Filter by company, tag everyone matching.
    nav(page, "Contacts").click()
    expect(page.locator("#total-count")).to_have_text("6")
    expect(page.get_by_role("link", name="Zoë Løvås 🚀", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="美咲 佐藤", exact=True)).to_be_visible()
    form = page.locator("#filter-form")
    form.get_by_label("Company", exact=True).fill("Nordlicht GmbH")
    form.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#total-count")).to_have_text("3")
    rows = page.locator("table.contacts tbody tr")
    expect(rows.locator("td:nth-child(2) a")).to_have_text(NORDLICHT)
    for name in NORDLICHT:
        page.get_by_role("checkbox", name=f"Select {name}", exact=True).check()
    page.get_by_label("Action", exact=True).select_option(label="Add tag")
    page.locator("#bulk-tag").fill(TAG)
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(flash(page)).to_have_text(f"Tagged 3 contacts “{TAG}”.")
    expect(rows.locator(".tag", has_text=TAG)).to_have_count(3)
    shoot("contacts-filtered-and-tagged")

    # 3. Connect their LinkedIn account on the sandbox's consent page.
    nav(page, "LinkedIn accounts").click()
    page.get_by_role("button", name="Connect LinkedIn account").click()
    expect(page).to_have_url(re.compile(r"/oauth/v2/authorization"))
    page.get_by_label(SENDER).check()
    page.get_by_role("button", name="Approve").click()
    expect(flash(page)).to_have_text(f"Connected LinkedIn account {SENDER}.")
    shoot("account-connected")
    account = LinkedInAccount.objects.get()
    assert account.network.connections.count() == 6  # their import is their network

    # Send around the clock at once, so the test does not depend on the time of day.
    page.get_by_role("link", name=SENDER).click()
    for day in ("Sat", "Sun"):
        page.get_by_role("checkbox", name=day).check()
    page.get_by_label("Window start").fill("00:00")
    page.get_by_label("Window end").fill("23:59")
    page.get_by_label("Minimum seconds between sends").fill("0")
    page.get_by_label("Random extra seconds").fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(flash(page)).to_contain_text("saved")
    shoot("account-settings")
    account.refresh_from_db()
    assert (account.min_interval_seconds, len(account.window_days)) == (0, 7)

    # 4. Message the tagged contacts: preview, forecast, queue.
    nav(page, "Contacts").click()
    form = page.locator("#filter-form")
    # The tags are a chip picker (static/js/chips.js).
    form.get_by_role("combobox", name="Tags (any of)").fill(TAG)
    form.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#total-count")).to_have_text("3")
    for name in NORDLICHT:
        page.get_by_role("checkbox", name=f"Select {name}", exact=True).check()
    page.get_by_role("button", name="Message…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Message 3 contacts")
    page.get_by_label("Message", exact=True).fill(BODY)
    page.get_by_label("Send from").select_option(label=SENDER)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="3 will be queued, 0 skipped")).to_be_visible()
    expect(page.locator("article.message-preview-item .message-preview").first).to_contain_text(
        "kurze Frage zu Nordlicht GmbH"
    )
    expect(page.locator("#forecast")).to_contain_text("3 messages; at ")
    shoot("compose-preview")
    page.get_by_role("button", name="Queue 3 messages").click()
    expect(flash(page)).to_contain_text(f"Queued 3 messages from {SENDER}; skipped 0.")
    shoot("messages-queued")

    # 5. The worker's tick: an assisted account's messages wait in the Outbox.
    client = client_from_settings()
    try:
        result = dispatch_tick(client=client)
    finally:
        client.close()
    assert (result.claimed, result.released) == (3, 3)

    nav(page, "Outbox").click()
    items = page.locator("article.outbox-item")
    expect(items).to_have_count(3)
    shoot("outbox")
    zoe = items.filter(has=page.get_by_role("link", name="Zoë Løvås 🚀", exact=True))
    expect(zoe.get_by_label("Message to Zoë Løvås 🚀")).to_have_value(
        re.compile(r"^Hallo Zoë, kurze Frage zu Nordlicht GmbH — hast du 15 Minuten\? Kenji$")
    )
    expect(zoe).to_have_class(re.compile(r"\bcurrent\b"))  # the first, in focus
    zoe.get_by_role("button", name="I sent it").click()
    expect(flash(page)).to_have_text("Recorded as sent to Zoë Løvås 🚀.")
    expect(items).to_have_count(2)

    # 6. Zoë answers: record the reply on the message.
    nav(page, "Messages").click()
    page.get_by_role("region", name="Messages").get_by_role(
        "link", name="Zoë Løvås 🚀", exact=True
    ).click()
    page.get_by_label("Their reply (optional)").fill(REPLY)
    page.get_by_role("button", name="Mark replied").click()
    expect(flash(page)).to_contain_text("Reply recorded")
    shoot("reply-recorded")
    zoe_contact = Contact.objects.get(first_name="Zoë")
    assert zoe_contact.stage == "replied"

    # 7. A two-variant campaign for everyone connected since September, from a saved filter.
    nav(page, "Contacts").click()
    form = page.locator("#filter-form")
    form.get_by_label("Connected on or after").fill("2025-09-01")
    form.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#total-count")).to_have_text("5")
    page.get_by_label("Save this filter as an audience").fill("Since September")
    page.get_by_role("button", name="Save as audience").click()
    expect(flash(page)).to_have_text("Saved audience “Since September”. Use it in a campaign.")
    nav(page, "Campaigns").click()
    new = page.get_by_role("region", name="New campaign")
    new.get_by_label("Name").fill("Autumn hello")
    new.get_by_label("Audience").select_option(label="Since September")
    new.get_by_role("checkbox", name=SENDER).check()
    new.get_by_role("button", name="Create campaign").click()
    page.get_by_role("button", name="Add step").click()
    for label, body in (("A", "Hi {{ first_name }}!"), ("B", "Servus {{ first_name }} 👋")):
        variant_form = page.locator("form", has=page.get_by_role("heading", name="Add a variant"))
        variant_form.get_by_label("Label").fill(label)
        variant_form.get_by_label("Body").fill(body)
        variant_form.get_by_role("button", name="Add variant").click()
        expect(flash(page)).to_have_text(f"Added variant {label} to step 1.")
    shoot("campaign-draft")

    # The dry run: José and 美咲 are enrolled; the three just messaged are in the cool-off.
    page.get_by_role("link", name="Dry run").click()
    expect(page.locator("#dry-enrolled")).to_have_text("2")
    expect(page.get_by_text("Skipped: messaged in the last 30 days (3).")).to_be_visible()
    expect(page.get_by_role("link", name="美咲 佐藤", exact=True)).to_be_visible()
    shoot("campaign-dry-run")
    page.locator(".breadcrumb").get_by_role("link", name="Autumn hello").click()
    page.get_by_role("link", name="Launch…").click()
    page.get_by_role("button", name="Launch to 2 contacts").click()
    expect(flash(page)).to_have_text("Launched: 2 enrolled, 3 skipped.")
    expect(page.locator("#campaign-status")).to_have_text("Running")
    campaign = Campaign.objects.get()
    assert set(
        Enrollment.objects.filter(campaign=campaign, state="active").values_list(
            "contact__first_name", flat=True
        )
    ) == {"José", "美咲"}

    client = client_from_settings()
    try:
        result = dispatch_tick(client=client)
    finally:
        client.close()
    assert result.released == 2  # into the Outbox, next to the two from step 4
    nav(page, "Outbox").click()
    expect(page.locator("article.outbox-item")).to_have_count(4)
    nav(page, "Campaigns").click()
    page.get_by_role("link", name="Autumn hello", exact=True).click()
    shoot("campaign-running")

    # 8. The dashboard has all of it.
    nav(page, "Dashboard").click()
    expect(page.locator("#contacts-total")).to_have_text("6")
    expect(page.locator("#contacts-new")).to_have_text("6")
    account_row = page.locator("#sending-accounts tbody tr", has_text=SENDER)
    # Today: Zoë's (sent by hand) and the four in the Outbox took slots of the cap.
    expect(account_row.locator("td:nth-child(2)")).to_have_text(re.compile(r"5 / 100$"))
    expect(page.locator("#outbox-waiting")).to_have_text("4")
    expect(page.locator("#uncertain-count")).to_have_text("0")
    rates = page.locator("#reply-rates tbody tr").first
    expect(rates).to_contain_text("Last 30 days")
    expect(rates.locator("td").nth(1)).to_have_text("1")  # Zoë replied
    running = page.locator(".progress-list li", has_text="Autumn hello")
    expect(running).to_contain_text("0 of 2 contacts done")
    expect(page.locator("#recent-imports")).to_contain_text("Connections.csv")
    # Every chart has its text equivalent.
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 4
    for index in range(charts.count()):
        assert charts.nth(index).locator(":scope > title").text_content().strip()
    shoot("dashboard")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot("dashboard-phone")
    assert Message.objects.filter(status=Message.Status.SENT).count() == 1
