"""GET /api/v1/contacts/?page_size=100 with 100,000 contacts, through the test client with a
Bearer token: median time (authentication, throttling, filters, cursor page, JSON) and query
count per filter, sort and page.

Budget on SQLite: every case at most 60 ms median and 6 queries.
Run with `make bench` or `python tests/perf/run.py api`.
"""

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

if __name__ == "__main__":  # run directly: python tests/perf/bench_api.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.bench_contact_list import COMPANY, SEARCH, TAG, QueryLog, report_queries, seed
from tests.perf.run import setup_django

CONTACTS = int(os.environ.get("BENCH_CONTACTS", 100_000))
WARMUP = 3
REPEAT = int(os.environ.get("BENCH_REPEAT", 15))
BUDGET_MS = 60.0
BUDGET_QUERIES = 6


def measure(client, url: str) -> dict:
    from django.db import connection

    for _ in range(WARMUP):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    timings, cpu, logs = [], [], []
    for _ in range(REPEAT):
        log = QueryLog()
        with connection.execute_wrapper(log):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        logs.append(log.queries)
    timings.sort()
    body = response.json()
    return {
        "url": url,
        "median": statistics.median(timings),
        # The process's own CPU time: on a busy machine, wall time also counts the waits for
        # a CPU, which this does not.
        "cpu": statistics.median(cpu),
        "p90": timings[min(len(timings) - 1, round(0.9 * (len(timings) - 1)))],
        "queries": logs[-1],
        "query_ms": [
            statistics.median(times)
            for times in zip(*([query["ms"] for query in queries] for queries in logs), strict=True)
        ],
        "rows": len(body["results"]),
        "next": body["next"],
    }


def main() -> bool:
    setup_django("bench-api")

    from django.conf import settings
    from django.test import Client

    from contacts.models import Tag
    from linkedin_crm import api_tokens

    # What is measured is a request's own cost, the throttle's count included; not a 429.
    settings.API_THROTTLE_READ = "1000000/minute"
    user = seed()
    _, raw = api_tokens.api_token_create(owner=user, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    tag = Tag.objects.get(name=TAG)

    def url(**params):
        return "/api/v1/contacts/?" + urlencode({"page_size": 100, **params})

    second_page = client.get(url()).json()["next"].replace("http://testserver", "")
    cases = [
        ("no filter", url()),
        ("next page (cursor)", second_page),
        (f"search {SEARCH!r}", url(q=SEARCH)),
        (f"company {COMPANY!r}", url(company=COMPANY)),
        (f"tag {TAG!r}", url(tags=tag.pk)),
        ("sort by company", url(sort="company")),
        ("sort by name", url(sort="name")),
    ]
    results = [(name, measure(client, case_url)) for name, case_url in cases]

    print(
        f"\nAPI contact list, {CONTACTS:,} contacts, page_size=100, {REPEAT} timed requests "
        f"per case after {WARMUP} warm-up; budget {BUDGET_MS:.0f} ms median, "
        f"{BUDGET_QUERIES} queries.\n"
    )
    print("| case | median ms | p90 ms | CPU ms | queries | rows | budget |")
    print("|---|---:|---:|---:|---:|---:|---|")
    over = []
    for name, result in results:
        ok = result["median"] <= BUDGET_MS and len(result["queries"]) <= BUDGET_QUERIES
        if not ok:
            over.append((name, result))
        print(
            f"| {name} | {result['median']:.1f} | {result['p90']:.1f} | {result['cpu']:.1f} | "
            f"{len(result['queries'])} | {result['rows']} | {'OK' if ok else 'OVER'} |"
        )
    show = over if os.environ.get("BENCH_VERBOSE") != "1" else results
    for name, result in show:
        report_queries(name, result)
    return not over


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
