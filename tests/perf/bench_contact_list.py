"""The contact list page with 100,000 contacts: median time (server side, through the test
client: middleware, session, queries, template) and query count per filter, sort and page.

Budget on SQLite: every case at most 60 ms median and 8 queries.
Run with `make bench` or `python tests/perf/run.py contact_list`.
"""

import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

if __name__ == "__main__":  # run directly: python tests/perf/bench_contact_list.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.run import setup_django

CONTACTS = int(os.environ.get("BENCH_CONTACTS", 100_000))
WARMUP = 3
REPEAT = int(os.environ.get("BENCH_REPEAT", 15))
BUDGET_MS = 60.0
BUDGET_QUERIES = 8
SEARCH = "müller"  # a common last name with a non-ASCII letter (folded search)
# The same name as typed without umlauts: each word matches two spellings (mueller, muller).
SEARCH_TRANSLITERATED = "mueller"
COMPANY = "Société Lumière"
TAG = "VIP"

TOTAL = re.compile(r'id="total-count">([\d,]+)<')
ROW = re.compile(r'<input type="checkbox" name="selected" value="\d+"')


def total_shown(html: str) -> int:
    found = TOTAL.search(html)
    if found is None:
        raise RuntimeError('The list page has no id="total-count" any more: update the benchmark.')
    return int(found.group(1).replace(",", ""))


def seed():
    from django.contrib.auth import get_user_model
    from django.db import connection

    from contacts.models import Network
    from linkedin_crm.demo.people import seed_contacts

    user = get_user_model().objects.create_user(
        "bench", "bench@example.com", "unused-password", is_staff=True
    )
    started = time.perf_counter()
    created = seed_contacts(CONTACTS, network=Network.objects.default_for(user), seed=1)
    seconds = time.perf_counter() - started
    print(f"Seeded {created:,} contacts (seed_contacts) in {seconds:.1f} s")
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load in production (when it is on): without
        # statistics PostgreSQL's plans are guesses, and without a visibility map it cannot
        # use index-only scans.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print("VACUUM ANALYZE done")
    return user


def cases(client) -> list[tuple[str, dict]]:
    from contacts.models import Contact, Tag

    tag = Tag.objects.get(name=TAG)
    if not Contact.objects.filter(company=COMPANY).exists():
        raise RuntimeError(f"No contact works at {COMPANY!r}: the seed data changed.")
    total = total_shown(client.get("/contacts/").text)
    last_page = -(-total // 50)
    return [
        ("no filter", {}),
        (f"search {SEARCH!r}", {"q": SEARCH}),
        (f"search {SEARCH_TRANSLITERATED!r}", {"q": SEARCH_TRANSLITERATED}),
        (f"company {COMPANY!r}", {"company": COMPANY}),
        (f"tag {TAG!r}", {"tags": tag.pk}),
        (f"search {SEARCH!r} + tag {TAG!r}", {"q": SEARCH, "tags": tag.pk}),
        ("sort by company", {"sort": "company"}),
        ("sort by name", {"sort": "name"}),
        (f"last page ({last_page})", {"page": last_page}),
        ("sort by company, last page", {"sort": "company", "page": last_page}),
    ]


class QueryLog:
    """Every query of a request with its own duration (CaptureQueriesContext rounds its times
    to whole milliseconds): a connection.execute_wrapper, so it works whatever DEBUG is."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.queries.append({"sql": sql, "params": params, "ms": elapsed})


def measure(client, params: dict) -> dict:
    from django.db import connection

    url = "/contacts/" + (f"?{urlencode(params)}" if params else "")
    for _ in range(WARMUP):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    timings, logs = [], []
    for _ in range(REPEAT):
        log = QueryLog()
        with connection.execute_wrapper(log):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        logs.append(log.queries)
    html = response.text
    median_ms = statistics.median(timings)
    timings.sort()
    return {
        "url": url,
        "median": median_ms,
        "p90": timings[min(len(timings) - 1, round(0.9 * (len(timings) - 1)))],
        "queries": logs[-1],
        # Each query's median time over the timed requests (the same queries every time).
        "query_ms": [
            statistics.median(times)
            for times in zip(*([query["ms"] for query in queries] for queries in logs), strict=True)
        ],
        "rows": len(ROW.findall(html)),
        "total": total_shown(html),
    }


def explain(sql: str, params) -> str:
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return "\n".join("    " + " | ".join(map(str, row)) for row in cursor.fetchall())


def report_queries(name: str, result: dict):
    """Each query of a request with its median time, and the plan of the slowest."""
    print(f"\n### {name}: {result['url']}")
    print(f"  {sum(result['query_ms']):.1f} ms in queries of {result['median']:.1f} ms")
    for query, ms in zip(result["queries"], result["query_ms"], strict=True):
        print(f"  {ms:7.2f} ms  {' '.join(query['sql'].split())[:150]}")
    slowest = max(range(len(result["queries"])), key=result["query_ms"].__getitem__)
    query = result["queries"][slowest]
    print("  plan of the slowest:")
    print(explain(query["sql"], query["params"]))


def main() -> bool:
    setup_django("bench-contact-list")

    from django.test import Client

    user = seed()
    client = Client()
    client.force_login(user)

    results = [(name, measure(client, params)) for name, params in cases(client)]

    print(
        f"\nContact list, {CONTACTS:,} contacts, {REPEAT} timed requests per case "
        f"after {WARMUP} warm-up; budget {BUDGET_MS:.0f} ms median, {BUDGET_QUERIES} queries.\n"
    )
    print("| case | median ms | p90 ms | queries | rows (total) | budget |")
    print("|---|---:|---:|---:|---:|---|")
    over = []
    for name, result in results:
        ok = result["median"] <= BUDGET_MS and len(result["queries"]) <= BUDGET_QUERIES
        if not ok:
            over.append((name, result))
        print(
            f"| {name} | {result['median']:.1f} | {result['p90']:.1f} | {len(result['queries'])}"
            f" | {result['rows']} ({result['total']:,}) | {'OK' if ok else 'OVER'} |"
        )
    show = over if os.environ.get("BENCH_VERBOSE") != "1" else results
    for name, result in show:
        report_queries(name, result)
    return not over


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
