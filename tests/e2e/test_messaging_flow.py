"""Bulk messaging in a real browser: filter the contact list, compose one message for the
filtered contacts, read the previews and the forecast, queue; a dispatcher tick releases them to
the Outbox; send one through LinkedIn's API (the sandbox) and record the other as sent by hand;
see both as sent."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import Network
from messaging.dispatch import dispatch_tick
from messaging.linkedin import client_from_settings
from messaging.models import LinkedInAccount, Message
from tests.contacts.factories import ConnectionFactory, ContactFactory
from tests.messaging.factories import LinkedInAccountFactory

SENDER = "Maya Okafor"
MISSING_CONFIRMATION = "Send anyway to recipients who lack a value the message uses"
BODY = (
    "Hi {{ first_name }}, how are things at {{ company }}? Coffee next week? "
    "{{ sender_first_name }}"
)
FORECAST = re.compile(
    r"^Forecast: 2 messages; at 50/day inside Mon–Sun 00:00–23:59 UTC "
    r"the last goes out on (\w{3} \d{2} \w{3} \d{4} around \d{2}:\d{2})\.$"
)


def rendered(first_name: str) -> str:
    return f"Hi {first_name}, how are things at Acme? Coffee next week? Maya"


@pytest.fixture
def audience(sandbox_settings, e2e_staff_user):
    """The signed-in staff member's sandbox LinkedIn account and three contacts in its network:
    two at Acme (one reachable through the API, one by hand) and one at Acme Rockets, whom the
    company filter leaves out."""
    account = LinkedInAccountFactory(
        owner=e2e_staff_user,
        network=Network.objects.default_for(e2e_staff_user),
        display_name=SENDER,
        member_urn="urn:li:person:sbx-maya-okafor",
        access_token=sandbox_settings.issue_token("sbx-maya-okafor"),
        scopes=["openid", "profile", "email", "w_member_social"],
        mode=LinkedInAccount.Mode.ASSISTED,
        daily_limit=50,
        min_interval_seconds=0,
        jitter_seconds=0,
        timezone="UTC",
        window_days=list(range(7)),
        window_start=datetime.time(0, 0),
        # The last microsecond of the day: the tick must not depend on the time of day.
        window_end=datetime.time.max,
    )

    def contact(first_name, last_name, company, **fields):
        person = ContactFactory(
            first_name=first_name,
            last_name=last_name,
            company=company,
            position="Head of Partnerships",
            email="",
            **fields,
        )
        ConnectionFactory(contact=person, network=account.network)
        return person

    return {
        "account": account,
        "ngozi": contact(
            "Ngozi",
            "Achebe",
            "Acme",
            member_urn="urn:li:person:ngozi-achebe-7f3",
            profile_url="https://www.linkedin.com/in/ngozi-achebe",
        ),
        "emile": contact(
            "Émile",
            "Durand",
            "Acme",
            member_urn="",
            profile_url="https://www.linkedin.com/in/emile-durand",
        ),
        "grace": contact(
            "Grace",
            "Hopper",
            "Acme Rockets",
            member_urn="urn:li:person:grace-hopper-1a2",
            profile_url="https://www.linkedin.com/in/grace-hopper",
        ),
    }


def nav(page: Page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def message_rows(page: Page):
    return page.get_by_role("region", name="Messages").locator("table tbody tr")


@pytest.mark.django_db(transaction=True)
# `audience` before `logged_in_page`: the data exists when the sign-in lands on the list.
def test_bulk_message_queue_tick_and_send_from_the_outbox(
    sandbox_settings, audience, logged_in_page: Page
):
    page = logged_in_page
    account, ngozi, emile = audience["account"], audience["ngozi"], audience["emile"]
    expect(page.locator("#total-count")).to_have_text("3")

    # Filter the list down to Acme (exact company: Acme Rockets is left out).
    form = page.locator("#filter-form")
    form.get_by_label("Company", exact=True).fill("Acme")
    form.get_by_role("button", name="Apply filter").click()
    expect(page).to_have_url(re.compile(r"/contacts/\?.*company=Acme"))
    expect(page.locator("#total-count")).to_have_text("2")
    contact_rows = page.locator("table.contacts tbody tr")
    expect(contact_rows).to_have_count(2)

    # Select both and open the bulk composer.
    page.get_by_role("checkbox", name=f"Select {ngozi}", exact=True).check()
    page.get_by_role("checkbox", name=f"Select {emile}", exact=True).check()
    page.get_by_role("button", name="Message…").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Message 2 contacts")
    page.get_by_label("Message", exact=True).fill(BODY)
    page.get_by_label("Send from").select_option(label=SENDER)
    expect(page.get_by_role("button", name=re.compile(r"^Queue"))).to_have_count(0)
    page.get_by_role("button", name="Preview").click()

    # Previews with the real values, the linter's verdict and the forecast.
    expect(page.get_by_role("heading", name="2 will be queued, 0 skipped")).to_be_visible()
    previews = page.locator("article.message-preview-item")
    expect(previews.get_by_role("heading", level=3)).to_have_text([str(ngozi), str(emile)])
    expect(previews.locator(".message-preview")).to_have_text(
        [rendered("Ngozi"), rendered("Émile")]
    )
    # Everyone has a first name and a company, so there is nothing to warn about or confirm.
    expect(page.get_by_text("Every recipient has every value the message uses.")).to_be_visible()
    expect(page.get_by_text("Add a fallback such as")).to_have_count(0)
    expect(page.get_by_role("note")).to_have_count(0)  # both are in the sender's network
    forecast = page.locator("#forecast")
    expect(forecast).to_have_text(FORECAST)
    # No queue ahead and a free cap: the last one goes out about a minute from now.
    last_out = datetime.datetime.strptime(
        FORECAST.match(forecast.inner_text()).group(1), "%a %d %b %Y around %H:%M"
    ).replace(tzinfo=datetime.UTC)
    assert abs(last_out - timezone.now()) <= datetime.timedelta(minutes=5)
    # The form kept what was written and chosen.
    expect(page.get_by_label("Message", exact=True)).to_have_value(BODY)
    expect(page.get_by_label("Send from")).to_have_value(str(account.pk))

    # Not confirmed: nobody lacks a value, so "Send anyway" is not needed.
    expect(page.get_by_label(MISSING_CONFIRMATION)).not_to_be_checked()
    page.get_by_role("button", name="Queue 2 messages").click()
    expect(page).to_have_url(re.compile(rf"/messages/\?account={account.pk}&status=queued$"))
    expect(page.get_by_role("status")).to_have_text(
        re.compile(rf"Queued 2 messages from {SENDER}; skipped 0\. 2 messages; at 50/day ")
    )
    expect(message_rows(page)).to_have_count(2)
    expect(message_rows(page).locator("td:nth-child(3)")).to_have_text(["Queued", "Queued"])
    queued = Message.objects.filter(account=account)
    assert sorted(queued.values_list("contact_id", "body", "status")) == [
        (ngozi.pk, rendered("Ngozi"), "queued"),
        (emile.pk, rendered("Émile"), "queued"),
    ]

    # The worker's tick: an assisted account's messages wait in the Outbox for a person.
    client = client_from_settings()
    try:
        result = dispatch_tick(client=client)
    finally:
        client.close()
    assert (result.claimed, result.released, result.sent) == (2, 2, 0)
    assert set(queued.values_list("status", flat=True)) == {"released"}
    assert sandbox_settings.sent_messages() == []

    nav(page, "Outbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
    group = page.get_by_role("region", name=re.compile(rf"^{SENDER}"))
    expect(group.get_by_role("heading", level=2)).to_have_text(
        f"{SENDER} 2 waiting · 0 of 50 sent today · 2 of 50 of today's slots taken"
    )
    ngozi_item = page.locator("article.outbox-item", has=page.get_by_role("link", name=str(ngozi)))
    emile_item = page.locator("article.outbox-item", has=page.get_by_role("link", name=str(emile)))
    expect(ngozi_item.get_by_label(f"Message to {ngozi}")).to_have_value(rendered("Ngozi"))
    expect(emile_item.get_by_label(f"Message to {emile}")).to_have_value(rendered("Émile"))
    # With a member URN the API can send it; without one, a person sends it on LinkedIn.
    expect(ngozi_item.get_by_role("button", name="I sent it")).to_have_count(0)
    expect(emile_item.get_by_role("button", name="Send via LinkedIn")).to_have_count(0)
    # The Outbox folds all but the message in focus; a click on one brings it into focus.
    emile_item.locator(".outbox-snippet").click()
    expect(emile_item.get_by_role("button", name="Copy and open LinkedIn profile")).to_be_visible()

    ngozi_item.locator(".outbox-snippet").click()
    ngozi_item.get_by_role("button", name="Send via LinkedIn").click()
    expect(page.get_by_role("status")).to_have_text(f"Sent to {ngozi}.")
    sent = sandbox_settings.sent_messages()
    assert [(m["sender_sub"], m["recipients"], m["body"]) for m in sent] == [
        ("sbx-maya-okafor", [ngozi.member_urn], rendered("Ngozi"))
    ]
    expect(ngozi_item).to_have_count(0)
    expect(group.get_by_role("heading", level=2)).to_have_text(
        f"{SENDER} 1 waiting · 1 of 50 sent today · 2 of 50 of today's slots taken"
    )

    emile_item.get_by_role("button", name="I sent it").click()
    expect(page.get_by_role("status")).to_have_text(f"Recorded as sent to {emile}.")
    expect(page.get_by_text("Nothing waiting.")).to_be_visible()
    assert len(sandbox_settings.sent_messages()) == 1  # "I sent it" calls no API

    # Both show as sent in the message list.
    nav(page, "Messages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages")
    expect(message_rows(page)).to_have_count(2)
    for person in (ngozi, emile):
        row = message_rows(page).filter(has=page.get_by_role("link", name=str(person), exact=True))
        expect(row.locator("td:nth-child(3)")).to_have_text("Sent")
        expect(row.locator("td:nth-child(5)")).to_have_text(re.compile(r"^sent "))
    expect(page.locator(".status-counts")).to_have_text("Sent: 2")

    by_contact = {m.contact_id: m for m in Message.objects.filter(account=account)}
    assert by_contact.keys() == {ngozi.pk, emile.pk}
    api, manual = by_contact[ngozi.pk], by_contact[emile.pk]
    assert (api.status, api.channel, api.external_id) == ("sent", "api", sent[0]["id"])
    assert (manual.status, manual.channel, manual.external_id) == ("sent", "manual", "")
    assert api.sent_at is not None and manual.sent_at is not None
