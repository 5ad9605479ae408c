"""The dashboard at 100,000 contacts and 300,000 messages: median server time of the full page
and of the sending panel that htmx refreshes, with their query counts.

Budget (issue #7): at most 200 ms median and 20 queries per request, on SQLite.
Run with `make bench` or `python tests/perf/run.py dashboard`.
"""

import datetime
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # run directly: python tests/perf/bench_dashboard.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.run import setup_django

CONTACTS = int(os.environ.get("BENCH_CONTACTS", 100_000))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", 300_000))
WARMUP = 3
REPEAT = int(os.environ.get("BENCH_REPEAT", 15))
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"
BUDGET_MS = 200.0
BUDGET_QUERIES = 20
BATCH = 5000

# Ten senders of a team of four, in several time zones: one needs reconnecting, one's token
# expires in three days, one is paused.
ACCOUNTS = [
    # (owner index, name, time zone, daily limit, status, token days left)
    (0, "Alex Morgan", "Europe/Berlin", 100, "active", 50),
    (0, "Alex Morgan (agency)", "Europe/Berlin", 50, "active", 40),
    (0, "Sam Rivera", "America/New_York", 80, "active", 3),
    (0, "Priya Natarajan", "Asia/Kolkata", 100, "needs_reconnect", 20),
    (1, "Jonas Weber", "Europe/Berlin", 100, "active", 55),
    (1, "Léa Dubois", "Europe/Paris", 60, "active", 30),
    (2, "Kenji Sato", "Asia/Tokyo", 100, "active", 45),
    (2, "Maya Okafor", "Africa/Lagos", 40, "paused", 59),
    (3, "Tomás Ruiz", "America/Mexico_City", 100, "active", 10),
    (3, "Chloé Martin", "UTC", 100, "active", 25),
]
# Of every 10,000 messages: what they are now. Sent ones spread over the last year; a few
# hundred wait in the Outbox, a few hundred are uncertain, a handful are being sent.
STATUS_MIX = [
    ("sent", 7480),
    ("queued", 2000),
    ("cancelled", 300),
    ("failed", 150),
    ("draft", 40),
    ("released", 20),
    ("uncertain", 10),
]
SENDING = 5
HISTORY_DAYS = 365
REPLY_RATE = 0.09
# Three campaigns with 20,000 contacts each: two running, one paused (its queued messages
# held), and two finished ones without enrollments.
CAMPAIGNS_WITH_CONTACTS = 3
ENROLLED_PER_CAMPAIGN = min(20_000, CONTACTS // 4)

TOTAL = re.compile(r'id="contacts-total">([\d,]+)<')


def _spread_created_at(now):
    """seed_contacts creates everyone in the last day; a real base grew over two years."""
    from django.db.models import Max, Min

    from contacts.models import Contact

    bounds = Contact.objects.aggregate(low=Min("pk"), high=Max("pk"))
    low, high = bounds["low"], bounds["high"]
    months = 24
    step = (high - low + 1) // months + 1
    for month in range(months):
        start = low + month * step
        created = now - datetime.timedelta(days=30 * (months - 1 - month) + 1)
        Contact.objects.filter(pk__gte=start, pk__lt=start + step).update(created_at=created)
    # Some of them arrived this month.
    Contact.objects.filter(pk__gt=high - CONTACTS // 50).update(created_at=now)


def seed():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db import connection, transaction
    from django.utils import timezone
    from django_q.models import Task

    from campaigns.models import Audience, Campaign, CampaignMessage, Enrollment, Step, Variant
    from contacts.models import Connection, Contact, ImportBatch, Network
    from linkedin_crm.demo.people import seed_contacts
    from messaging.models import LinkedInAccount, Message

    rng = random.Random(7)
    now = timezone.now()
    User = get_user_model()
    users = [
        User.objects.create_user(
            name, f"{name}@example.com", "unused-password", is_staff=True, first_name=name.title()
        )
        for name in ("bench", "jonas", "kenji", "tomas")
    ]
    # The team lead manages every sender (what the dashboard shows is scoped by this).
    users[0].user_permissions.add(Permission.objects.get(codename="manage_all_accounts"))
    networks = [Network.objects.default_for(user) for user in users]

    started = time.perf_counter()
    seed_contacts(CONTACTS, network=networks[0], seed=1)
    _spread_created_at(now)
    ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        # Jonas keeps a client's network beside his own (an agency): the dashboard counts his
        # contacts across both without counting anyone twice.
        client = Network.objects.create(owner=users[1], name="Jonas's client")
        shares = [(networks[1], 0.2), (client, 0.1), (networks[2], 0.15), (networks[3], 0.05)]
        for network, share in shares:
            Connection.objects.bulk_create(
                [
                    Connection(
                        contact_id=pk,
                        network=network,
                        connected_on=now.date() - datetime.timedelta(days=rng.randrange(3000)),
                    )
                    for pk in rng.sample(ids, int(len(ids) * share))
                ],
                batch_size=2000,
            )
    contacts_seconds = time.perf_counter() - started

    started = time.perf_counter()
    accounts = []
    for n, (owner, name, tz, limit, status, days_left) in enumerate(ACCOUNTS):
        accounts.append(
            LinkedInAccount.objects.create(
                owner=users[owner],
                network=networks[owner],
                display_name=name,
                member_urn=f"urn:li:person:bench-{n}",
                access_token=f"bench-token-{n}",
                access_token_expires_at=now + datetime.timedelta(days=days_left, hours=1),
                status=status,
                daily_limit=limit,
                timezone=tz,
                window_days=[0, 1, 2, 3, 4],
                window_start=datetime.time(8, 0),
                window_end=datetime.time(18, 0),
            )
        )

    audience = Audience.objects.create(name="Everyone", owner=users[0], query="")
    campaigns = []
    statuses = ["running", "running", "paused", "completed", "completed"]
    for n, status in enumerate(statuses):
        campaign = Campaign.objects.create(
            name=f"Bench campaign {n + 1}",
            owner=users[0],
            audience=audience,
            status=status,
            launched_at=now - datetime.timedelta(days=20 + 30 * n),
        )
        campaign.senders.add(*accounts[:4])
        step = Step.objects.create(campaign=campaign, order=1)
        variants = [
            Variant.objects.create(step=step, label=label, body=f"Hi {{{{ first_name }}}} {label}")
            for label in "AB"
        ]
        campaigns.append((campaign, step, variants))

    # Campaign enrollments first: every campaign message belongs to one.
    enrolled = rng.sample(ids, ENROLLED_PER_CAMPAIGN * CAMPAIGNS_WITH_CONTACTS)
    campaign_rows = []  # (contact id, campaign, step, variant, enrollment)
    with transaction.atomic():
        for index, (campaign, step, variants) in enumerate(campaigns[:CAMPAIGNS_WITH_CONTACTS]):
            chunk = enrolled[index * ENROLLED_PER_CAMPAIGN : (index + 1) * ENROLLED_PER_CAMPAIGN]
            states = ["active"] * 70 + ["replied"] * 8 + ["completed"] * 15 + ["skipped"] * 7
            enrollments = Enrollment.objects.bulk_create(
                [
                    Enrollment(
                        campaign=campaign,
                        contact_id=pk,
                        sender=accounts[pk % 4],
                        state=rng.choice(states),
                        last_step=1,
                    )
                    for pk in chunk
                ],
                batch_size=2000,
            )
            for enrollment in enrollments:
                if enrollment.state != "skipped":
                    variant = variants[enrollment.contact_id % 2]
                    campaign_rows.append(
                        (enrollment.contact_id, campaign, step, variant, enrollment)
                    )

    mix = [status for status, weight in STATUS_MIX for _ in range(weight)]
    active = [a for a in accounts if a.status == "active"]

    def message(contact_id, account, stream=""):
        status = rng.choice(mix)
        fields = {}
        if status in ("sent", "failed", "uncertain", "released", "sending", "cancelled"):
            if status == "released":
                claimed = now - datetime.timedelta(minutes=rng.randrange(1, 3 * 24 * 60))
            elif status == "uncertain":
                claimed = now - datetime.timedelta(hours=rng.randrange(1, 24 * 20))
            else:
                claimed = now - datetime.timedelta(seconds=rng.randrange(HISTORY_DAYS * 86400))
            fields.update(claimed_at=claimed)
            if status == "released":
                fields.update(released_at=claimed)
            if status == "sent":
                sent = claimed + datetime.timedelta(seconds=rng.randrange(5, 3 * 3600))
                fields.update(sent_at=min(sent, now), channel="api")
                if rng.random() < REPLY_RATE:
                    replied = sent + datetime.timedelta(hours=rng.randrange(1, 120))
                    if replied < now:
                        fields.update(replied_at=replied)
            created = claimed - datetime.timedelta(hours=rng.randrange(1, 72))
        else:
            created = now - datetime.timedelta(hours=rng.randrange(1, 24 * 30))
            due = now + datetime.timedelta(minutes=rng.randrange(-600, 60 * 24 * 20))
            fields.update(next_attempt_at=due, scheduled_for=due)
        return Message(
            contact_id=contact_id,
            account=account,
            body="Hi there, a bench message about as long as a real first message, with a "
            "question at the end?",
            status=status,
            stream=stream,
            created_at=created,
            **fields,
        )

    with transaction.atomic():
        made = 0
        for start in range(0, len(campaign_rows), BATCH):
            rows = campaign_rows[start : start + BATCH]
            messages = Message.objects.bulk_create(
                [message(pk, e.sender, c.stream) for pk, c, _, _, e in rows], batch_size=1000
            )
            CampaignMessage.objects.bulk_create(
                [
                    CampaignMessage(message=m, enrollment=e, step=s, variant=v)
                    for m, (_, _, s, v, e) in zip(messages, rows, strict=True)
                ],
                batch_size=2000,
            )
            made += len(messages)
        messages = [message(rng.choice(ids), rng.choice(active)) for _ in range(SENDING)]
        for sending in messages:
            sending.status, sending.claimed_at = "sending", now - datetime.timedelta(seconds=20)
        Message.objects.bulk_create(messages)
        made += SENDING
        while made < MESSAGES:
            count = min(BATCH, MESSAGES - made)
            Message.objects.bulk_create(
                [message(rng.choice(ids), rng.choice(active)) for _ in range(count)],
                batch_size=1000,
            )
            made += count

    paused = campaigns[2][0]
    Message.objects.filter(stream=paused.stream, status="queued").update(held=True)

    # The import history: a few dozen batches, some with error reports.
    ImportBatch.objects.bulk_create(
        ImportBatch(
            file_name=f"Connections ({n}).csv",
            sha256=f"{n:064x}",
            network=networks[n % 4],
            uploaded_by=users[n % 4],
            status=rng.choice(["done"] * 8 + ["failed", "undone"]),
            rows=3000,
            created=rng.randrange(3000),
            errors=[{"line": line, "message": "Not a valid e-mail"} for line in range(200)],
            created_at=now - datetime.timedelta(days=n * 7),
        )
        for n in range(40)
    )
    # The worker's history as django-q2 keeps it (its 250 latest successes, some failures),
    # ending ten minutes ago: the worker stopped, so the page takes its longest path (it looks
    # up the dispatch schedule to explain the silence).
    Task.objects.bulk_create(
        Task(
            id=f"{n:032x}",
            name=f"bench-task-{n}",
            func="messaging.tasks.dispatch",
            started=now - datetime.timedelta(minutes=10 + n, seconds=1),
            stopped=now - datetime.timedelta(minutes=10 + n),
            success=n % 50 != 7,
        )
        for n in range(270)
    )
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load in production (as bench_contact_list).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(
        f"Seeded {len(ids):,} contacts in {contacts_seconds:.1f} s; {len(accounts)} accounts, "
        f"{Message.objects.count():,} messages ({len(campaign_rows):,} of 3 campaigns, one "
        f"paused) in {time.perf_counter() - started:.1f} s"
    )
    return users[0]


# --- measuring ---------------------------------------------------------------------------------


class QueryLog:
    """Every query of a request (a connection.execute_wrapper, so it works whatever DEBUG is)."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        self.queries.append(sql)
        return execute(sql, params, many, context)


def timed_request(client, url: str) -> dict:
    from django.db import connection

    log = QueryLog()
    with connection.execute_wrapper(log):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return {"ms": ms, "cpu_ms": cpu_ms, "queries": log.queries, "html": response.text}


def measure(client, url: str) -> dict:
    for _ in range(WARMUP):
        timed_request(client, url)
    runs = [timed_request(client, url) for _ in range(REPEAT)]
    timings = sorted(run["ms"] for run in runs)
    result = {
        "median": statistics.median(timings),
        "cpu": statistics.median(run["cpu_ms"] for run in runs),
        "min": timings[0],
        "p90": timings[min(len(timings) - 1, round(0.9 * (len(timings) - 1)))],
        "queries": max(len(run["queries"]) for run in runs),
        "sample": runs[-1],
    }
    result["ok"] = result["median"] <= BUDGET_MS and result["queries"] <= BUDGET_QUERIES
    return result


def check_numbers(html: str, full_page: bool) -> None:
    """The page shows the database's numbers: the benchmark measures a page that works."""
    from messaging.models import Message

    queued = Message.objects.filter(status="queued").count()
    shown = re.search(r'<dd id="queue-depth">([\d,]+)</dd>', html)
    if shown is None or int(shown.group(1).replace(",", "")) != queued:
        raise RuntimeError(f"The panel shows {shown and shown.group(1)} queued, not {queued:,}.")
    if full_page:
        total = TOTAL.search(html)
        if total is None or int(total.group(1).replace(",", "")) != CONTACTS:
            raise RuntimeError(f"The page shows {total and total.group(1)} contacts.")
        for chart in ("chart-stages", "chart-companies", "chart-years", "chart-sends"):
            if f'<title id="{chart}-title">' not in html:  # drawn, not an empty state
                raise RuntimeError(f"{chart} is not drawn.")


def breakdown(user) -> list[tuple[str, float, float]]:
    """Median wall and CPU time of each panel's numbers, outside the request."""
    from django.utils import timezone

    from linkedin_crm import dashboard

    now = timezone.now()
    parts = [
        ("running campaigns", lambda: dashboard.running_campaigns(user)),
        (
            "contacts (stages, companies, industries, years, owners)",
            lambda: dashboard.contacts_panel(now),
        ),
        (
            "sending panel (accounts, cap, queue, held, forecasts)",
            lambda: dashboard.sending_panel(user, now),
        ),
        ("messages per day (30 days by status)", lambda: dashboard.sends_per_day(now)),
        ("reply rates (30, 90 days)", lambda: dashboard.reply_rates(now)),
        ("worker heartbeat", lambda: dashboard.worker_status(now)),
        ("recent imports", lambda: list(dashboard.recent_imports())),
    ]
    rows = []
    for name, function in parts:
        wall, cpu = [], []
        for _ in range(REPEAT):
            started, cpu_started = time.perf_counter(), time.process_time()
            function()
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        rows.append((name, statistics.median(wall), statistics.median(cpu)))
    return rows


def main() -> bool:
    setup_django("bench-dashboard")

    from django.test import Client

    user = seed()
    client = Client()
    client.force_login(user)

    from django.conf import settings
    from django.core.cache import cache

    # The budget is for the page that computes every figure (DASHBOARD_CACHE_SECONDS=0, as
    # once every 30 seconds in production); then the page most viewers get, the team's
    # figures read from the shared cache.
    cases = [
        ("dashboard page /, figures computed", "/", True, 0),
        ("dashboard page /, figures from the shared cache", "/", True, 30),
        ("sending panel (htmx)", "/dashboard/sending/", False, 0),
    ]
    results = []
    for name, url, full_page, cache_seconds in cases:
        settings.DASHBOARD_CACHE_SECONDS = cache_seconds
        cache.clear()
        result = measure(client, url)
        check_numbers(result["sample"]["html"], full_page)
        results.append((name, url, result))

    print(
        f"\nDashboard at {CONTACTS:,} contacts and {MESSAGES:,} messages; median of {REPEAT} "
        f"requests after {WARMUP} warm-ups (server side, through the test client: middleware, "
        f"session, queries, template). Budget: {BUDGET_MS:.0f} ms median and "
        f"{BUDGET_QUERIES} queries. The longest path: a member who is not a superuser, an agency "
        "member with two networks, a worker silent for ten minutes; one campaign is paused, its "
        "queued messages held.\n"
    )
    print(
        "CPU is this process's CPU time: on a busy machine the wall time grows, the CPU time "
        "barely.\n"
    )
    print("| case | median ms | CPU ms | min ms | p90 ms | queries | budget |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, _, result in results:
        print(
            f"| {name} | {result['median']:.0f} | {result['cpu']:.0f} | {result['min']:.0f} | "
            f"{result['p90']:.0f} | {result['queries']} | {'OK' if result['ok'] else 'OVER'} |"
        )
    print("\nWhere the time goes (each panel's numbers alone, median):\n")
    print("| part | wall ms | CPU ms |")
    print("|---|---:|---:|")
    for name, wall, cpu in breakdown(user):
        print(f"| {name} | {wall:.1f} | {cpu:.1f} |")
    if VERBOSE or not all(result["ok"] for *_, result in results):
        for name, url, result in results:
            print(f"\n### {name}: {url}, {len(result['sample']['queries'])} queries")
            for sql in result["sample"]["queries"]:
                print(f"  {' '.join(sql.split())[:160]}")
    return all(result["ok"] for *_, result in results)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
