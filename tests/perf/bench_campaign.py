"""A campaign over 30,000 contacts: its dry-run page and its launch.

Set-up: a staff user; two active LinkedIn accounts, each with its own network; 30,000 contacts
(seed_contacts, so they have profile URLs and can be messaged) in the first account's network,
every other one also connected in the second's (so the round-robin has two eligible senders for
half of them); all 30,000 tagged with one tag and an Audience `tags=<that tag>`; a campaign with
both senders, step 1 with variants A and B ({{ first_name }}, {{ company|default:"…" }},
{{ sender_first_name }}), step 2 with one variant three days later.

Cases:
- dry run, page 1 and a middle page: GET /campaigns/<id>/dry-run/ through the test client
  (middleware, session, the whole plan made afresh for every request since nothing is cached,
  the template with its 50 rendered messages), median of BENCH_REPEAT requests (default 7)
  after 2 warm-ups, with the query count. The middle page's URL is page 1's "Next" link with
  another page number, so it keeps whatever the pager carries.
- launch: campaign_launch() for all 30,000, median of BENCH_LAUNCH_REPEAT runs (default 3), the
  database put back between runs (enrollments, campaign messages and messages deleted, the
  campaign back to draft); every run must enroll 30,000 and queue 30,000 messages.

Budget on SQLite: each dry-run page at most 300 ms median, the launch at most 5 s median.
Every case also reports where its time goes (Phases): plan_launch() (classifying the audience),
loading recipients (LaunchPlan.load: the contacts and connection dates of the page, or of
everyone at launch), rendering messages (personalize.render), and at launch _enroll() (the
enrollments' INSERT) and _queue_step() (the messages and campaign links), each with the
database time of its queries; the rest is the view and page template, or the launch's own steps
(template contexts, the COMMIT). The database time is the time spent in execute(): on SQLite
the rows after the first are fetched outside it, so a query returning 30,000 rows counts
mostly as Python. A case over budget gets its queries grouped by statement (BENCH_VERBOSE=1:
every case); BENCH_PROFILE=1 adds a cProfile of one more run of each case over budget (slow:
cProfile multiplies the launch's time by about four).
A page that takes more than ten times its budget is timed REPEAT_WHEN_SLOW (3) times instead of
BENCH_REPEAT, to keep the whole benchmark within a few minutes.

Run with `make bench` or `python tests/perf/run.py campaign`. BENCH_CAMPAIGN_CONTACTS (default
30000) changes the audience size (the budgets stay the same).
"""

import cProfile
import datetime
import html
import io
import os
import pstats
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

if __name__ == "__main__":  # run directly: python tests/perf/bench_campaign.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.run import setup_django

CONTACTS = int(os.environ.get("BENCH_CAMPAIGN_CONTACTS", 30_000))
PAGE_SIZE = 50
WARMUP = 2
REPEAT = int(os.environ.get("BENCH_REPEAT", 7))
LAUNCH_REPEAT = int(os.environ.get("BENCH_LAUNCH_REPEAT", 3))
REPEAT_WHEN_SLOW = 3
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
BUDGET_PAGE_MS = 300.0
BUDGET_LAUNCH_MS = 5_000.0
TAG = "Bench campaign audience"
STEP_ONE = {
    "A": (
        'Hi {{ first_name }}, I have been following what {{ company|default:"your team" }} '
        "is building and would love to compare notes. Best, {{ sender_first_name }}"
    ),
    "B": (
        'Hello {{ first_name }}! Quick question about {{ company|default:"your team" }}: '
        "who looks after outreach there? Thanks, {{ sender_first_name }}"
    ),
}
STEP_TWO = {"A": "Hi {{ first_name }}, just following up on my last note. {{ sender_first_name }}"}
ROW = re.compile(r"<tr><td><a href=\"/contacts/\d+/\">")
ENROLLED = re.compile(r'id="dry-enrolled">([\d,]+)<')
SKIPPED = re.compile(r'id="dry-skipped">([\d,]+)<')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


# --- queries and profiles ---------------------------------------------------------------------


class QueryLog:
    """Every query with its own duration: a connection.execute_wrapper, whatever DEBUG is."""

    def __init__(self, phases=None):
        self.queries = []
        self.phases = phases

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - started) * 1000
            self.queries.append((sql, params, ms))
            if self.phases is not None:
                self.phases.add_query(ms)


class Phases:
    """Where one run's time goes: the time inside each of a few functions, wrapped for the run
    (two perf_counter calls per call), and the database time inside each (from the QueryLog;
    a query counts for the innermost function running it, or for "the rest").

    The functions: plan_launch() (classifying the audience: skip reasons, senders, variants),
    LaunchPlan.load() (fetching the contacts and connection dates of the rows shown or
    launched), personalize.render(), and for the launch _enroll() (inserting the enrollments)
    and _queue_step() (inserting the messages and their campaign links)."""

    SECTIONS = (
        ("plan_launch", "campaigns.services", None, "plan_launch"),
        ("loading recipients", "campaigns.services", "LaunchPlan", "load"),
        ("rendering", "messaging.personalize", None, "render"),
        ("enrolling", "campaigns.services", None, "_enroll"),
        ("_queue_step", "campaigns.services", None, "_queue_step"),
    )

    def __init__(self):
        self.ms = defaultdict(float)
        self.db_ms = defaultdict(float)
        self.calls = defaultdict(int)
        self.running = []
        self.outermost_ms = 0.0
        self.originals = []

    def add_query(self, ms: float) -> None:
        self.db_ms[self.running[-1] if self.running else None] += ms

    def __enter__(self):
        import importlib

        for name, module, owner, attribute in self.SECTIONS:
            target = importlib.import_module(module)
            if owner:
                target = getattr(target, owner)
            original = getattr(target, attribute, None)
            if original is None:
                continue
            self.originals.append((target, attribute, original))
            setattr(target, attribute, self.timed(name, original))
        return self

    def timed(self, name, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            outermost = not self.running
            self.running.append(name)
            try:
                return function(*args, **kwargs)
            finally:
                self.running.pop()
                ms = (time.perf_counter() - started) * 1000
                self.calls[name] += 1
                self.ms[name] += ms
                if outermost:
                    self.outermost_ms += ms

        return timed

    def __exit__(self, *exc):
        for target, attribute, original in reversed(self.originals):
            setattr(target, attribute, original)

    def describe(self, total_ms: float) -> str:
        parts = []
        for name, *_ in self.SECTIONS:
            if not self.calls[name]:
                continue
            label = name
            if name == "rendering":
                label = f"rendering {self.calls[name]:,} messages"
            db = f" (database {self.db_ms[name]:.0f})" if self.db_ms[name] >= 0.5 else ""
            parts.append(f"{label} {self.ms[name]:.0f} ms{db}")
        rest = total_ms - self.outermost_ms
        parts.append(f"rest {rest:.0f} ms (database {self.db_ms[None]:.0f})")
        return " · ".join(parts)


_IN_LIST = re.compile(r"IN \((?:%s, )*%s\)")
_VALUES = re.compile(r"VALUES (\((?:%s, )*%s\))(?:, \((?:%s, )*%s\))*")
_SAVEPOINT = re.compile(r'"s\d+_x\d+"')


def shape(sql: str) -> str:
    """A statement with its IN lists, VALUES rows and savepoint names collapsed."""
    sql = _IN_LIST.sub("IN (…)", sql)
    sql = _VALUES.sub(r"VALUES \1, …", sql)
    return _SAVEPOINT.sub('"sN"', " ".join(sql.split()))


def breakdown(queries, limit: int = 12) -> list[str]:
    """Queries grouped by statement: count, total ms, share, the most expensive first."""
    groups = defaultdict(lambda: [0, 0.0])
    for sql, _, ms in queries:
        group = groups[shape(sql)]
        group[0] += 1
        group[1] += ms
    total = sum(ms for _, _, ms in queries)
    ranked = sorted(groups.items(), key=lambda item: -item[1][1])
    lines = [f"  {len(queries)} queries, {total:.1f} ms in the database"]
    lines.append(f"  {'count':>6} {'total ms':>9} {'share':>6}  statement")
    for text, (count, ms) in ranked[:limit]:
        lines.append(f"  {count:6d} {ms:9.1f} {ms / (total or 1):6.1%}  {text[:150]}")
    return lines


def profile(function) -> str:
    """One more run of function under cProfile: the top functions by own and cumulative time."""
    profiler = cProfile.Profile()
    profiler.runcall(function)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(30)
    return out.getvalue()


# --- set-up ------------------------------------------------------------------------------------


def seed():
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from campaigns.models import Audience, Campaign
    from contacts.models import Connection, Contact, Network, Tag
    from linkedin_crm.demo.people import seed_contacts
    from messaging.models import LinkedInAccount
    from tests.campaigns.factories import add_step

    user = get_user_model().objects.create_user(
        "bench", "bench@example.com", "unused-password", is_staff=True
    )
    networks = [
        Network.objects.default_for(user),
        Network.objects.create(owner=user, name="Second sender's network"),
    ]
    senders = [
        LinkedInAccount.objects.create(
            owner=user,
            network=network,
            display_name=name,
            member_urn=f"urn:li:person:bench-{n}",
            status=LinkedInAccount.Status.ACTIVE,
        )
        for n, (network, name) in enumerate(
            zip(networks, ["Alex Morgan", "Sam Rivera"], strict=True), start=1
        )
    ]

    started = time.perf_counter()
    seed_contacts(CONTACTS, network=networks[0], seed=1)
    ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    tag = Tag.objects.create(name=TAG)
    with transaction.atomic():
        Connection.objects.bulk_create(
            [Connection(contact_id=pk, network=networks[1]) for pk in ids[::2]], batch_size=2000
        )
        through = Contact.tags.through
        through.objects.bulk_create(
            [through(contact_id=pk, tag_id=tag.pk) for pk in ids], batch_size=2000
        )
    audience = Audience.objects.create(name="Bench audience", owner=user, query=f"tags={tag.pk}")
    campaign = Campaign.objects.create(name="Bench campaign", owner=user, audience=audience)
    campaign.senders.add(*senders)
    add_step(campaign, 1, STEP_ONE)
    add_step(campaign, 2, STEP_TWO, delay_days=3)
    print(
        f"Seeded {len(ids):,} contacts (half of them in both senders' networks), tagged and "
        f"saved as an audience, in {time.perf_counter() - started:.1f} s"
    )
    return user, campaign


def reset(campaign) -> None:
    """Undo a launch: no enrollments, campaign messages or messages; the campaign a draft."""
    from django.db import connection, transaction

    from campaigns.models import Campaign, CampaignMessage, Enrollment
    from messaging.models import Message, MessageEvent

    with transaction.atomic(), connection.cursor() as cursor:
        # Plain DELETEs: the ORM's cascade collection would load 30,000 rows of each first.
        for model in (CampaignMessage, MessageEvent, Enrollment, Message):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 — a model's own table name
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.DRAFT, launched_at=None, audience_count_at_launch=None
    )
    campaign.refresh_from_db()


# --- the dry-run page --------------------------------------------------------------------------


def timed_request(client, url: str) -> dict:
    from django.db import connection

    phases = Phases()
    log = QueryLog(phases)
    with phases, connection.execute_wrapper(log):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return {
        "ms": ms,
        "cpu_ms": cpu_ms,
        "queries": log.queries,
        "phases": phases,
        "html": response.text,
    }


def measure_page(client, url: str) -> dict:
    warmups = [timed_request(client, url)["ms"] for _ in range(WARMUP)]
    slow = min(warmups) > 10 * BUDGET_PAGE_MS
    runs = [timed_request(client, url) for _ in range(REPEAT_WHEN_SLOW if slow else REPEAT)]
    page_html = runs[-1]["html"]
    rows = len(ROW.findall(page_html))
    enrolled = ENROLLED.search(page_html)
    problems = []
    if rows != PAGE_SIZE:
        problems.append(f"{rows} rows, expected {PAGE_SIZE}")
    if enrolled is None or int(enrolled.group(1).replace(",", "")) != CONTACTS:
        problems.append(f"would enroll {enrolled and enrolled.group(1)}, expected {CONTACTS:,}")
    skipped = SKIPPED.search(page_html)
    if skipped is None or skipped.group(1) != "0":
        problems.append(f"would skip {skipped and skipped.group(1)}, expected 0")
    if "Skipped:" in page_html.split("<tbody>", 1)[-1]:
        problems.append("a row of the page is skipped")
    if problems:
        raise RuntimeError(f"{url}: {'; '.join(problems)}")
    return summarise(runs, BUDGET_PAGE_MS)


def summarise(runs: list[dict], budget_ms: float) -> dict:
    timings = [run["ms"] for run in runs]
    median_ms = statistics.median(timings)
    return {
        "median": median_ms,
        "cpu": statistics.median(run["cpu_ms"] for run in runs),
        "min": min(timings),
        "max": max(timings),
        "runs": len(runs),
        "sample": sorted(runs, key=lambda run: run["ms"])[len(runs) // 2],  # the median run
        "ok": median_ms <= budget_ms,
    }


def middle_page_url(client, url: str, page: int) -> str:
    """The URL of another page as a person reaches it: page 1's "Next" link (with whatever
    else the pager carries) with another page number."""
    found = NEXT.search(client.get(url).text)
    if found is None:
        raise RuntimeError(f"{url} has no Next link any more: update the benchmark.")
    link = urlsplit(urljoin(url, html.unescape(found.group(1))))
    query = {**parse_qs(link.query), "page": [str(page)]}
    return urlunsplit(link._replace(query=urlencode(query, doseq=True)))


# --- the launch --------------------------------------------------------------------------------


def launch_once(campaign, now) -> dict:
    from django.db import connection

    from campaigns.services import campaign_launch

    reset(campaign)
    phases = Phases()
    log = QueryLog(phases)
    with phases, connection.execute_wrapper(log):
        started, cpu = time.perf_counter(), time.process_time()
        campaign_launch(campaign=campaign, actor=campaign.owner, now=now)
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
    return {
        "ms": ms,
        "cpu_ms": cpu_ms,
        "queries": log.queries,
        "phases": phases,
        **check_launch(campaign),
    }


def check_launch(campaign) -> dict:
    from django.db.models import Count

    from campaigns.models import Campaign, CampaignMessage, Enrollment
    from messaging.models import Message

    enrolled = Enrollment.objects.filter(campaign=campaign, state=Enrollment.State.ACTIVE).count()
    queued = Message.objects.filter(stream=campaign.stream, status=Message.Status.QUEUED).count()
    linked = CampaignMessage.objects.filter(enrollment__campaign=campaign).count()
    per_sender = dict(
        Enrollment.objects.filter(campaign=campaign)
        .values_list("sender__display_name")
        .annotate(n=Count("pk"))
    )
    problems = []
    if (enrolled, queued, linked) != (CONTACTS, CONTACTS, CONTACTS):
        problems.append(
            f"enrolled {enrolled:,}, queued {queued:,}, linked {linked:,}; expected {CONTACTS:,}"
        )
    if len(per_sender) != 2:
        problems.append(f"senders used: {per_sender}")
    if campaign.status != Campaign.Status.RUNNING:
        problems.append(f"status {campaign.status}")
    if problems:
        raise RuntimeError(f"The launch did not do what it should: {'; '.join(problems)}")
    return {"enrolled": enrolled, "queued": queued, "per_sender": per_sender}


# --- main --------------------------------------------------------------------------------------


def main() -> bool:
    setup_django("bench-campaign")

    from django.test import Client
    from django.utils import timezone

    from campaigns.services import campaign_launch

    user, campaign = seed()
    client = Client()
    client.force_login(user)

    pages = -(-CONTACTS // PAGE_SIZE)
    middle = max(1, pages // 2)
    url = f"/campaigns/{campaign.pk}/dry-run/"
    cases = [
        ("dry run, page 1", url),
        (f"dry run, page {middle} of {pages}", middle_page_url(client, url, middle)),
    ]
    results = []
    for name, page_url in cases:
        started = time.perf_counter()
        result = measure_page(client, page_url)
        print(f"{name}: {result['median']:.0f} ms median ({time.perf_counter() - started:.0f} s)")
        results.append((name, page_url, result))

    now = timezone.now() + datetime.timedelta(seconds=1)  # after the campaign's starts_at
    runs = []
    for n in range(LAUNCH_REPEAT):
        runs.append(launch_once(campaign, now))
        print(f"launch run {n + 1}: {runs[-1]['ms'] / 1000:.2f} s")
    launch = summarise(runs, BUDGET_LAUNCH_MS)
    split = ", ".join(f"{name} {n:,}" for name, n in sorted(runs[-1]["per_sender"].items()))
    launch_name = f"launch ({CONTACTS:,} enrolled, {CONTACTS:,} queued)"
    results.append((launch_name, None, launch))

    print(
        f"\nCampaign over {CONTACTS:,} contacts, 2 senders ({split} enrolled), 2 steps, step 1 "
        f"with 2 variants. Dry run: median of {REPEAT} requests after {WARMUP} warm-ups "
        f"({REPEAT_WHEN_SLOW} when over ten times the budget); launch: median of "
        f"{LAUNCH_REPEAT} runs.\n"
    )
    print(
        "Median: wall-clock time (the budget), with the process's CPU time: far below the wall "
        "time when the machine is busy.\n"
    )
    print("| case | median | queries | budget | verdict |")
    print("|---|---:|---:|---:|---|")
    for name, page_url, result in results:
        budget = f"≤ {BUDGET_PAGE_MS:.0f} ms" if page_url else f"≤ {BUDGET_LAUNCH_MS / 1000:.0f} s"
        if page_url:
            median = (
                f"{result['median']:.0f} ms (CPU {result['cpu']:.0f}; min {result['min']:.0f}, "
                f"max {result['max']:.0f}, {result['runs']} runs)"
            )
        else:
            median = (
                f"{result['median'] / 1000:.2f} s (CPU {result['cpu'] / 1000:.2f}; min "
                f"{result['min'] / 1000:.2f}, max {result['max'] / 1000:.2f}, "
                f"{result['runs']} runs)"
            )
        verdict = "OK" if result["ok"] else "OVER"
        print(f"| {name} | {median} | {len(result['sample']['queries'])} | {budget} | {verdict} |")

    print("\nWhere the time of each case's median run goes:\n")
    for name, _, result in results:
        sample = result["sample"]
        print(
            f"- {name}: {sample['ms']:.0f} ms (CPU {sample['cpu_ms']:.0f} ms) = "
            f"{sample['phases'].describe(sample['ms'])}"
        )

    for name, page_url, result in results:
        if result["ok"] and not VERBOSE:
            continue
        print(f"\n### {name}: queries of the median run by statement\n")
        print("\n".join(breakdown(result["sample"]["queries"])))
        if PROFILE:
            print(f"\n### {name}: cProfile of one more run\n")
            if page_url:
                print(profile(lambda page_url=page_url: client.get(page_url)))
            else:
                reset(campaign)
                print(
                    profile(
                        lambda: campaign_launch(campaign=campaign, actor=campaign.owner, now=now)
                    )
                )
    return all(result["ok"] for _, _, result in results)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
