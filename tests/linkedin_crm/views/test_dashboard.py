"""The dashboard at / and its sending panel (issue #7): access, empty database, the numbers
against data made here, the query budget, the worker's heartbeat and account health."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_q.models import Schedule, Task

from campaigns.models import Campaign, CampaignMessage, Enrollment
from contacts.models import Network, Stage
from linkedin_crm import dashboard
from messaging.management.commands.setup_schedules import SCHEDULES
from messaging.models import LinkedInAccount, Message
from tests.campaigns.factories import CampaignFactory, add_step
from tests.contacts.factories import ConnectionFactory, ContactFactory, ImportBatchFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

UTC = datetime.UTC
# A Wednesday morning; the month began two and a half weeks ago.
NOW = datetime.datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
WEEKDAYS = [0, 1, 2, 3, 4]
S = Message.Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def ago(**delta) -> datetime.datetime:
    return NOW - datetime.timedelta(**delta)


def worker_ran(at: datetime.datetime) -> Task:
    return Task.objects.create(
        id=f"{int(at.timestamp()):032x}",
        name=f"task-{at:%H%M%S}",
        func="messaging.tasks.dispatch",
        started=at - datetime.timedelta(seconds=1),
        stopped=at,
        success=True,
    )


def account(owner, name, **fields) -> LinkedInAccount:
    defaults = {
        "daily_limit": 10,
        "timezone": "UTC",
        "window_days": WEEKDAYS,
        "window_start": datetime.time(9, 0),
        "window_end": datetime.time(17, 0),
        "min_interval_seconds": 0,
        "jitter_seconds": 0,
    }
    return LinkedInAccountFactory(owner=owner, display_name=name, **{**defaults, **fields})


def message(sender, contact, status, claimed_at=None, **fields) -> Message:
    return MessageFactory(
        account=sender, contact=contact, status=status, claimed_at=claimed_at, **fields
    )


@pytest.fixture
def team(staff_user, other_staff_user):
    """Alice (staff_user) and Bob, their contacts, Alice's three senders and Bob's one, their
    messages, a running and a paused campaign, two imports, a worker that ran a minute ago."""
    alice, bob = staff_user, other_staff_user
    alice_net = Network.objects.default_for(alice)
    bob_net = Network.objects.default_for(bob)
    bob_client = Network.objects.create(owner=bob, name="Client X")

    def person(stage, company, industry, created_at):
        return ContactFactory(
            stage=stage, company=company, industry=industry, created_at=created_at
        )

    this_month, last_month, last_year = ago(days=2), ago(days=40), ago(days=400)
    people = [
        person(Stage.LEAD, "Acme", "Software", this_month),
        person(Stage.LEAD, "Acme", "Software", this_month),
        person(Stage.LEAD, "Acme", "Software", this_month),
        person(Stage.CONTACTED, "Globex", "Finance", last_month),
        person(Stage.CONTACTED, "Globex", "Finance", last_month),
        person(Stage.CUSTOMER, "Acme", "", last_year),
        person(Stage.REPLIED, "", "", last_year),
    ]
    for index, contact in enumerate(people[:5]):
        connected = datetime.date(2019, 3, 1) if index < 2 else datetime.date(2024, 7, 1)
        ConnectionFactory(contact=contact, network=alice_net, connected_on=connected)
    for contact in people[3:5]:
        ConnectionFactory(contact=contact, network=bob_net, connected_on=datetime.date(2024, 1, 1))
    for contact in people[5:]:
        ConnectionFactory(contact=contact, network=bob_net, connected_on=None)
    # The same person in two of Bob's networks is one of his contacts.
    ConnectionFactory(contact=people[3], network=bob_client, connected_on=None)

    maya = account(alice, "Maya Okafor")
    sam = account(alice, "Sam Rivera", status=LinkedInAccount.Status.NEEDS_RECONNECT)
    lea = account(alice, "Léa Dubois", access_token_expires_at=NOW + datetime.timedelta(days=3))
    bobs = account(bob, "Bob Brown")
    first, second = people[0], people[1]
    message(maya, first, S.SENT, ago(hours=2), sent_at=ago(hours=2), replied_at=ago(hours=1))
    message(maya, second, S.SENT, ago(hours=1, minutes=30), sent_at=ago(hours=1))
    message(maya, people[2], S.RELEASED, ago(hours=1), released_at=ago(hours=1))
    message(maya, people[3], S.UNCERTAIN, ago(days=1))
    message(maya, people[4], S.FAILED, ago(days=3))
    message(maya, people[5], S.SENT, ago(days=40), sent_at=ago(days=40), replied_at=ago(days=39))
    for contact in people[:3]:
        message(maya, contact, S.QUEUED)
    message(bobs, people[6], S.SENT, ago(hours=3), sent_at=ago(hours=3))
    message(bobs, people[5], S.UNCERTAIN, ago(days=1))

    running = CampaignFactory(
        name="Webinar follow-up", status=Campaign.Status.RUNNING, senders=[maya]
    )
    for contact, state in zip(
        people,
        ["active", "active", "replied", "completed", "skipped"],
        strict=False,
    ):
        Enrollment.objects.create(campaign=running, contact=contact, sender=maya, state=state)
    paused = CampaignFactory(name="Old offer", status=Campaign.Status.PAUSED)
    step = add_step(paused, 1, {"A": "Hi {{ first_name }}"})
    for contact in people[5:]:
        enrollment = Enrollment.objects.create(campaign=paused, contact=contact, sender=lea)
        held = message(lea, contact, S.QUEUED, stream=paused.stream, held=True)
        CampaignMessage.objects.create(
            message=held, enrollment=enrollment, step=step, variant=step.variants.get()
        )

    ImportBatchFactory(network=alice_net, file_name="Connections.csv", created=5)
    ImportBatchFactory(
        network=bob_net, file_name="old.csv", status="failed", created_at=ago(days=3)
    )
    worker_ran(ago(minutes=1))
    return {"alice": alice, "bob": bob, "maya": maya, "sam": sam, "lea": lea, "bobs": bobs}


def rows_of(chart) -> dict:
    return {row[0]: row[1:] for row in chart.rows}


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/dashboard/sending/"])
def test_it_sends_anonymous_visitors_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("url", ["/", "/dashboard/sending/"])
def test_it_refuses_signed_in_users_who_are_not_staff(non_staff_client, url):
    assert non_staff_client.get(url).status_code == 403


def test_it_is_home_and_first_in_the_nav(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Dashboard</h1>" in html
    nav = html[html.index('<nav aria-label="Main">') :]
    assert nav.index(">Dashboard</a>") < nav.index(">Contacts</a>")
    assert re.search(r'<a href="/" aria-current="page">(<svg.*?</svg>)?Dashboard</a>', html)


def test_signing_in_lands_on_the_dashboard(client, staff_user):
    response = client.post(
        "/accounts/login/", {"login": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


# --- an empty database ---------------------------------------------------------------------------


def test_an_empty_database_says_what_to_do_first(staff_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        response = staff_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        'No contacts yet — <a href="/imports/">import your LinkedIn Connections.csv</a>',
        'No LinkedIn account connected yet — <a href="/linkedin-accounts/">connect one</a>.',
        "No message has gone out in the last 30 days.",
        "No message sent in the last 90 days.",
        'No campaign running — <a href="/campaigns/">start one</a>.',
        'No import yet — <a href="/imports/">import a Connections.csv</a>.',
        "Last task finished: never.",
    ):
        assert text in html, text
    # No chart of nothing: the only pictures are the icons.
    assert re.findall(r'<svg(?! class="icon")', html) == []
    assert "{{" not in html and "{%" not in html


# --- the numbers ---------------------------------------------------------------------------------


def test_contacts_by_stage_company_industry_year_and_owner(staff_client, team):
    response = staff_client.get("/")
    contacts = response.context["contacts"]
    assert contacts["total"] == 7
    assert contacts["new_this_month"] == 3
    assert rows_of(contacts["stages"]) == {
        "Lead": ("3",),
        "Contacted": ("2",),
        "Replied": ("1",),
        "Meeting": ("0",),
        "Customer": ("1",),
        "Not interested": ("0",),
    }
    assert contacts["companies"].rows == (("Acme", "4"), ("Globex", "2"))
    assert contacts["industries"].rows == (("Software", "3"), ("Finance", "2"))
    # From the first year with a connection to this year; connections without a date are left
    # out, and the same person connected to two members counts in each network.
    years = rows_of(contacts["years"])
    assert list(years)[0] == "2019" and list(years)[-1] == "2026"
    assert years["2019"] == ("2",) and years["2024"] == ("5",) and years["2020"] == ("0",)
    assert contacts["owners"].rows == (("Alice Archer", "5"), ("Bob", "4"))
    html = response.content.decode()
    assert '<dd id="contacts-total">7</dd>' in html
    assert '<a class="badge badge-lead" href="/contacts/?stage=lead">Lead 3</a>' in html


def test_sending_per_account_against_cap_window_and_next_slot(staff_client, team):
    response = staff_client.get("/")
    sending = response.context["sending"]
    rows = {row.account.display_name: row for row in sending["rows"]}
    assert list(rows) == ["Léa Dubois", "Maya Okafor", "Sam Rivera"]  # Alice's, not Bob's
    maya = rows["Maya Okafor"]
    # Today: two sent and one released to the Outbox took slots; yesterday's does not count.
    assert (maya.used_today, maya.queued, maya.outbox, maya.uncertain) == (3, 3, 1, 1)
    assert maya.window_open
    # Seven slots left today, no interval: the next is now, and the three queued go out a
    # dispatcher tick (a minute) apart.
    assert maya.next_slot == NOW
    assert maya.empty_at == NOW + datetime.timedelta(minutes=2)
    lea = rows["Léa Dubois"]
    assert (lea.queued, lea.held) == (2, 2)
    assert lea.empty_at is None  # everything it has is held by the paused campaign
    sam = rows["Sam Rivera"]
    assert not sam.sending and sam.next_slot is None
    assert sending["queued"] == 5 and sending["held"] == 2
    assert sending["outbox"] == 1 and sending["uncertain"] == 1
    assert sending["empty_at"] == NOW + datetime.timedelta(minutes=2)
    html = response.content.decode()
    assert 'href="/messages/?status=uncertain">1 uncertain message</a> needs a decision' in html
    assert 'max="10" value="3" aria-hidden="true"></meter> 3 / 10' in html
    assert (
        '<td class="hide-narrow">Mon–Fri 09:00–17:00 UTC <span class="muted">(open)</span>' in html
    )


def test_the_next_slot_follows_window_cap_and_a_429_hold(staff_user, staff_client, frozen):
    maya = account(staff_user, "Maya", daily_limit=2)
    contact = ContactFactory()
    message(maya, contact, S.QUEUED)
    row = lambda: staff_client.get("/").context["sending"]["rows"][0]  # noqa: E731
    assert row().next_slot == NOW
    # The cap is used up: tomorrow when the window opens.
    for _ in range(2):
        message(maya, ContactFactory(), S.SENT, ago(minutes=30))
    tomorrow_nine = datetime.datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    assert row().next_slot == tomorrow_nine
    assert row().empty_at == tomorrow_nine
    # After the window closes on Friday, the next slot is Monday morning.
    frozen.move_to(datetime.datetime(2026, 11, 20, 18, 0, tzinfo=UTC))
    assert row().next_slot == datetime.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    # LinkedIn said 429 on Monday at 09:00: held until Tuesday, when the cap is fresh.
    frozen.move_to(datetime.datetime(2026, 11, 23, 9, 5, tzinfo=UTC))
    LinkedInAccount.objects.filter(pk=maya.pk).update(
        hold_until=datetime.datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    )
    assert row().next_slot == datetime.datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_today_is_counted_in_each_accounts_time_zone(staff_user, staff_client):
    tokyo = account(staff_user, "Kenji", timezone="Asia/Tokyo", daily_limit=50)
    # 01:00 on the 18th in Tokyo (today there) and 23:00 on the 17th (yesterday there).
    message(tokyo, ContactFactory(), S.SENT, datetime.datetime(2026, 11, 17, 16, 0, tzinfo=UTC))
    message(tokyo, ContactFactory(), S.SENT, datetime.datetime(2026, 11, 17, 14, 0, tzinfo=UTC))
    (row,) = staff_client.get("/").context["sending"]["rows"]
    assert row.used_today == 1


def test_messages_per_day_by_status_for_the_whole_team(staff_client, team):
    chart = staff_client.get("/").context["sends_per_day"]
    assert chart.columns == ("Day", "Sent", "In Outbox", "Sending", "Uncertain", "Failed", "Total")
    days = rows_of(chart)
    assert len(days) == 30 and list(days)[-1] == "18 Nov" and list(days)[0] == "20 Oct"
    assert days["18 Nov"] == ("3", "1", "0", "0", "0", "4")  # Bob's sent message too
    assert days["17 Nov"] == ("0", "0", "0", "2", "0", "2")
    assert days["15 Nov"] == ("0", "0", "0", "0", "1", "1")
    assert sum(int(row[-1]) for row in days.values()) == 7  # the 40-day-old one is out


def test_a_day_is_a_calendar_day_in_the_sites_time_zone(staff_user, staff_client, settings):
    maya = account(staff_user, "Maya")
    late = datetime.datetime(2026, 11, 17, 23, 30, tzinfo=UTC)
    message(maya, ContactFactory(), S.SENT, late, sent_at=late)
    assert rows_of(staff_client.get("/").context["sends_per_day"])["17 Nov"][0] == "1"
    settings.TIME_ZONE = "Europe/Berlin"  # 00:30 on the 18th there
    days = rows_of(staff_client.get("/").context["sends_per_day"])
    assert days["18 Nov"][0] == "1" and days["17 Nov"][0] == "0"


def test_reply_rates_over_30_and_90_days_with_their_interval(staff_client, team):
    response = staff_client.get("/")
    thirty, ninety = response.context["reply_rates"]
    assert (thirty.days, thirty.sent, thirty.replied) == (30, 3, 1)
    assert (ninety.days, ninety.sent, ninety.replied) == (90, 4, 2)
    assert thirty.label == "33.3% (6.1–79.2%)"
    assert ninety.label == "50.0% (15.0–85.0%)"
    assert "<td>33.3% (6.1–79.2%)</td>" in response.content.decode()


def test_running_campaigns_with_their_progress(staff_client, team):
    response = staff_client.get("/")
    (campaign,) = response.context["campaigns"]  # the paused one is not running
    assert campaign.name == "Webinar follow-up"
    assert (campaign.enrolled, campaign.done, campaign.replied) == (4, 2, 1)
    html = response.content.decode()
    assert '<progress max="4" value="2"' in html
    assert "2 of 4 contacts done · 1 replied" in html


def test_running_campaigns_are_only_those_the_member_may_open(team, other_staff_user):
    """Bob (a Member) does not see Alice's campaign: its link would lead nowhere for him."""
    from django.test import Client

    client = Client()
    client.force_login(other_staff_user)
    assert client.get("/").context["campaigns"] == []


def test_recent_imports_with_their_status(staff_client, team):
    html = staff_client.get("/").content.decode()
    recent = html[html.index('id="recent-imports"') :]
    assert recent.index("Connections.csv") < recent.index("old.csv")  # newest first
    assert '<span class="badge badge-batch-failed">Failed</span>' in recent
    assert "5 new, 0 updated" in recent


def test_the_page_stays_within_20_queries(staff_client, team, django_assert_max_num_queries):
    # The longest path: a silent worker (the schedule is looked up to explain it), a member
    # with two networks (counted distinctly), seen by a member who is not a superuser (their
    # permissions are loaded).
    Task.objects.all().delete()
    with django_assert_max_num_queries(20):
        response = staff_client.get("/")
    assert response.context["worker"].stale
    with django_assert_max_num_queries(10):
        staff_client.get("/dashboard/sending/")


# --- scope ---------------------------------------------------------------------------------------


def test_a_member_sees_the_sending_side_of_the_accounts_they_manage(team, client):
    bob = team["bob"]
    client.force_login(bob)
    sending = client.get("/").context["sending"]
    assert [row.account.display_name for row in sending["rows"]] == ["Bob Brown"]
    assert sending["uncertain"] == 1 and sending["queued"] == 0
    bob.user_permissions.add(Permission.objects.get(codename="manage_all_accounts"))
    client.force_login(bob)
    sending = client.get("/").context["sending"]
    assert len(sending["rows"]) == 4 and sending["uncertain"] == 2


# --- the sending panel, refreshed by htmx --------------------------------------------------------


def test_the_sending_panel_refreshes_itself_and_the_worker_status(staff_client, team):
    page = staff_client.get("/").content.decode()
    assert 'hx-get="/dashboard/sending/" hx-trigger="every 30s" hx-swap="outerHTML"' in page
    response = staff_client.get("/dashboard/sending/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="sending-panel"')
    assert 'hx-trigger="every 30s"' in html
    assert '<dd id="queue-depth">5</dd>' in html
    # The worker's status and alert travel with it, swapped in place out of band.
    assert (
        '<article class="card" id="worker-status" aria-labelledby="worker-h" hx-swap-oob="true">'
        in html
    )
    assert '<div id="worker-alert" hx-swap-oob="true">' in html
    assert "<h2" not in html and "<html" not in html  # a fragment, not the page


# --- health --------------------------------------------------------------------------------------


def test_the_worker_warning_comes_and_goes_with_its_heartbeat(staff_client, frozen):
    Schedule.objects.create(name="Dispatch", func=dashboard.DISPATCH_TASK, schedule_type="I")
    worker_ran(ago(minutes=4))
    html = staff_client.get("/").content.decode()
    assert "No worker has run" not in html
    assert "(4\xa0minutes ago)" in html
    frozen.shift(datetime.timedelta(minutes=2))  # six minutes of silence
    for url in ("/", "/dashboard/sending/"):
        html = staff_client.get(url).content.decode()
        assert "<strong>No worker has run in the last 5 minutes.</strong>" in html
        assert '<p class="flash-error notice" role="alert">' in html
        assert "setup_schedules" not in html
    worker_ran(NOW + datetime.timedelta(minutes=2))
    html = staff_client.get("/dashboard/sending/").content.decode()
    assert "No worker has run" not in html
    assert '<div id="worker-alert" hx-swap-oob="true"></div>' in html  # the alert clears


def test_a_task_finished_seconds_ago_is_less_than_a_minute_ago(staff_client):
    worker_ran(ago(seconds=20))
    assert "(less than a minute ago)." in staff_client.get("/").content.decode()


def test_a_worker_that_never_ran_and_a_missing_schedule_are_explained(staff_client):
    # The schedule looked for is the one setup_schedules creates.
    assert dashboard.DISPATCH_TASK in {func for func, _, _ in SCHEDULES.values()}
    html = staff_client.get("/").content.decode()
    assert "Last task finished: never." in html
    assert (
        "The dispatch schedule is missing, too: run <code>python manage.py setup_schedules</code>"
        in html
    )


def test_accounts_that_need_reconnecting_or_expire_within_7_days(staff_user, staff_client):
    soon = account(
        staff_user, "Soon", access_token_expires_at=NOW + datetime.timedelta(days=6, hours=23)
    )
    account(staff_user, "Later", access_token_expires_at=NOW + datetime.timedelta(days=8))
    broken = account(staff_user, "Broken", status=LinkedInAccount.Status.NEEDS_RECONNECT)
    account(staff_user, "Resting", status=LinkedInAccount.Status.PAUSED)
    response = staff_client.get("/")
    attention = response.context["sending"]["attention"]
    assert [row.account for row in attention] == [broken, soon]
    html = response.content.decode()
    listed = html[
        html.index('id="accounts-attention"') : html.index(
            "</ul>", html.index('id="accounts-attention"')
        )
    ]
    assert "Expiring in 6 days" in listed and "Soon" in listed
    assert "Needs reconnect" in listed and "Broken" in listed
    assert "Later" not in listed and "Resting" not in listed
    assert f'href="/linkedin-accounts/{soon.pk}/"' in listed


def test_all_accounts_fine_says_so(staff_user, staff_client):
    account(staff_user, "Fine")
    html = staff_client.get("/").content.decode()
    assert "Every account is connected, with a token valid for a week or more." in html


def test_the_dashboard_and_the_outbox_count_todays_slots_alike(staff_user, staff_client):
    """Issue #13: the dashboard said 8 / 27 while the Outbox said 0 of 27 sent today. The cap
    rule counts a message waiting in the Outbox (whatever day it was released) as a taken
    slot: the dashboard was right. The Outbox now shows the same 8 taken, beside how many of
    them went out (what its Send checks against the cap)."""
    maya = account(staff_user, "Maya Okafor", daily_limit=27)
    for hours in range(6):  # released yesterday and today, none sent yet
        message(maya, ContactFactory(), S.RELEASED, released_at=ago(hours=hours * 5))
    message(maya, ContactFactory(), S.SENT, ago(hours=1), sent_at=ago(hours=1))
    message(maya, ContactFactory(), S.UNCERTAIN, ago(hours=2))
    message(maya, ContactFactory(), S.SENT, ago(days=1), sent_at=ago(days=1))  # yesterday's

    dashboard_html = staff_client.get("/").content.decode()
    outbox_html = staff_client.get("/outbox/").content.decode()

    assert 'max="27" value="8" aria-hidden="true"></meter> 8 / 27' in dashboard_html
    assert "6 waiting · " in outbox_html
    assert "2 of 27 sent today · " in outbox_html
    assert "8 of 27 of today's slots taken" in outbox_html


# --- the team figures, computed once for every viewer -------------------------------------------


@pytest.fixture
def shared_figures(settings):
    settings.DASHBOARD_CACHE_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_team_figures_are_computed_once_for_every_viewer(team, shared_figures):
    alice, bob = signed_in(team["alice"]), signed_in(team["bob"])
    first = alice.get("/")
    assert first.context["contacts"]["total"] == 7
    ContactFactory(created_at=NOW)  # within the 30 seconds: not on anyone's page yet
    with CaptureQueriesContext(connection) as queries:
        second = bob.get("/")
    assert second.context["contacts"]["total"] == 7
    assert second.context["reply_rates"][0].sent == first.context["reply_rates"][0].sent == 3
    assert second.context["figures_at"] == first.context["figures_at"] == NOW
    assert 'as of <time datetime="2026-11-18T10:00:00+00:00">10:00</time>' in (
        second.content.decode()
    )
    # Bob's request counted no contact: the figures came from the cache.
    assert not [q for q in queries if "contacts_contact" in q["sql"] and "COUNT" in q["sql"]]


def test_a_member_never_sees_what_a_manager_may(team, shared_figures):
    """The figures shared are the team's only: the sending panel and the running campaigns are
    Bob's own, even right after a Manager's visit filled the cache."""
    alice = team["alice"]
    alice.user_permissions.add(
        Permission.objects.get(codename="manage_all_accounts"),
        Permission.objects.get(codename="manage_all_campaigns"),
    )
    manager = signed_in(alice).get("/")
    assert len(manager.context["sending"]["rows"]) == 4
    assert [c.name for c in manager.context["campaigns"]] == ["Webinar follow-up"]
    member = signed_in(team["bob"]).get("/")
    assert member.context["figures_at"] == manager.context["figures_at"]  # shared
    assert [row.account.display_name for row in member.context["sending"]["rows"]] == ["Bob Brown"]
    assert member.context["sending"]["uncertain"] == 1
    assert member.context["campaigns"] == []
    html = member.content.decode()
    assert "Maya Okafor" not in html and "Webinar follow-up" not in html
    refresh = signed_in(team["bob"]).get("/dashboard/sending/").content.decode()
    assert "Bob Brown" in refresh and "Maya Okafor" not in refresh


def test_the_figures_are_computed_again_once_30_seconds_old(team, shared_figures, frozen):
    client = signed_in(team["alice"])
    assert client.get("/").context["contacts"]["total"] == 7
    ContactFactory(created_at=NOW)
    frozen.shift(29)
    assert client.get("/").context["contacts"]["total"] == 7
    frozen.shift(1)
    response = client.get("/")
    assert response.context["contacts"]["total"] == 8
    assert response.context["figures_at"] == NOW + datetime.timedelta(seconds=30)


def test_viewers_see_the_old_figures_while_one_computes_the_next(team, shared_figures, frozen):
    client = signed_in(team["alice"])
    client.get("/")
    ContactFactory(created_at=NOW)
    frozen.shift(45)
    key = dashboard.TEAM_FIGURES_KEY.format(zone="UTC")
    assert cache.add(f"{key}:computing", True, 60)  # another web process is at it
    response = client.get("/")
    assert response.context["contacts"]["total"] == 7
    assert response.context["figures_at"] == NOW  # and says how old they are
    cache.delete(f"{key}:computing")
    assert client.get("/").context["contacts"]["total"] == 8


def test_each_time_zone_has_its_own_figures(staff_user, shared_figures, settings):
    late = datetime.datetime(2026, 11, 17, 23, 30, tzinfo=UTC)
    message(account(staff_user, "Maya"), ContactFactory(), S.SENT, late, sent_at=late)
    client = signed_in(staff_user)
    assert rows_of(client.get("/").context["sends_per_day"])["17 Nov"][0] == "1"
    settings.TIME_ZONE = "Europe/Berlin"  # 00:30 on the 18th there
    assert rows_of(client.get("/").context["sends_per_day"])["18 Nov"][0] == "1"


def test_the_cache_costs_a_few_queries_once_and_saves_most_of_them_after(
    staff_client, team, shared_figures, django_assert_max_num_queries
):
    # The uncached page's 20 (above), plus reading and storing the figures: with the database
    # cache, storing is a count (the cache culls past its size), a look-up and an insert, in a
    # savepoint here. Once every 30 seconds; every other request reads them in one query.
    Task.objects.all().delete()
    with django_assert_max_num_queries(20 + 6):
        staff_client.get("/")
    with django_assert_max_num_queries(12):
        response = staff_client.get("/")
    assert response.context["contacts"]["total"] == 7
