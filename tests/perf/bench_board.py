"""The stage board at 100,000 contacts: median time (server side, through the test client)
and query count of the board page under the contact list's filters, and of a column's next
page ("Show more") deep into the largest column.

Budget on SQLite: the contact list's, every case at most 60 ms median and 8 queries. The
contact list's own first cases run too, as a reference measured under the same load.
Run with `make bench` or `python tests/perf/run.py board`.
"""

import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

if __name__ == "__main__":  # run directly: python tests/perf/bench_board.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.bench_contact_list import COMPANY, SEARCH, TAG, QueryLog, report_queries, seed
from tests.perf.run import setup_django

WARMUP = 3
REPEAT = int(os.environ.get("BENCH_REPEAT", 15))
BUDGET_MS = 60.0
BUDGET_QUERIES = 8
RARE_TAG = "Rare"

CARD = re.compile(r'id="card-\d+"')
COUNTS = re.compile(r'data-count="(\d+)"')


def cases() -> list[tuple[str, str, dict]]:
    from contacts.models import Contact, Stage, Tag

    tag = Tag.objects.get(name=TAG)
    # A tag on 50 contacts spread over the base: the board walks whole columns to find them.
    rare, created = Tag.objects.get_or_create(name=RARE_TAG)
    if created:
        ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
        rare.contacts.add(*ids[7 :: len(ids) // 50][:50])
    leads = Contact.objects.filter(stage=Stage.LEAD).order_by("-id").values_list("pk", flat=True)
    # "Show more" far down the largest column: keyset paging makes it cost what page 2 does.
    deep = leads[leads.count() // 2]
    return [
        # The contact list measured in the same run: on a busy machine the board's budget is
        # better read against it than against the absolute 60 ms.
        ("contact list, no filter (reference)", "/contacts/", {}),
        (f"contact list, search {SEARCH!r} (reference)", "/contacts/", {"q": SEARCH}),
        ("no filter", "/contacts/board/", {}),
        (f"search {SEARCH!r}", "/contacts/board/", {"q": SEARCH}),
        (f"company {COMPANY!r}", "/contacts/board/", {"company": COMPANY}),
        (f"tag {TAG!r}", "/contacts/board/", {"tags": tag.pk}),
        (f"tag {RARE_TAG!r} (50 contacts)", "/contacts/board/", {"tags": rare.pk}),
        ("stages replied + meeting", "/contacts/board/", {"stage": ["replied", "meeting"]}),
        (
            "has e-mail, no profile URL",
            "/contacts/board/",
            {"has_email": "true", "has_profile_url": "false"},
        ),
        ("more leads, mid-column", "/contacts/board/column/", {"column": "lead", "after": deep}),
        (
            f"more leads, tag {TAG!r}",
            "/contacts/board/column/",
            {"column": "lead", "after": deep, "tags": tag.pk},
        ),
    ]


def measure(client, path: str, params: dict) -> dict:
    from django.db import connection

    url = path + (f"?{urlencode(params, doseq=True)}" if params else "")
    headers = {"HX-Request": "true"} if "column" in path else {}
    for _ in range(WARMUP):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
    timings, logs = [], []
    for _ in range(REPEAT):
        log = QueryLog()
        with connection.execute_wrapper(log):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
        logs.append(log.queries)
    html = response.text
    timings_sorted = sorted(timings)
    return {
        "url": url,
        "median": statistics.median(timings),
        "p90": timings_sorted[min(len(timings) - 1, round(0.9 * (len(timings) - 1)))],
        "queries": logs[-1],
        "query_ms": [
            statistics.median(times)
            for times in zip(*([query["ms"] for query in queries] for queries in logs), strict=True)
        ],
        "cards": len(CARD.findall(html)),
        "total": sum(int(count) for count in COUNTS.findall(html)),
    }


def main() -> bool:
    setup_django("bench-board")

    from django.test import Client

    user = seed()
    client = Client()
    client.force_login(user)

    results = [(name, measure(client, path, params)) for name, path, params in cases()]

    print(
        f"\nStage board, {REPEAT} timed requests per case after {WARMUP} warm-up; "
        f"budget {BUDGET_MS:.0f} ms median, {BUDGET_QUERIES} queries.\n"
    )
    print("| case | median ms | p90 ms | queries | cards (counted) | budget |")
    print("|---|---:|---:|---:|---:|---|")
    over = []
    for name, result in results:
        ok = result["median"] <= BUDGET_MS and len(result["queries"]) <= BUDGET_QUERIES
        if not ok:
            over.append((name, result))
        print(
            f"| {name} | {result['median']:.1f} | {result['p90']:.1f} | {len(result['queries'])}"
            f" | {result['cards']} ({result['total']:,}) | {'OK' if ok else 'OVER'} |"
        )
    show = over if os.environ.get("BENCH_VERBOSE") != "1" else results
    for name, result in show:
        report_queries(name, result)
    return not over


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
