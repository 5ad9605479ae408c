"""A contact's timeline among 300,000 messages: median time (server side, through the test
client: middleware, session, queries, template) and query count for its pages and filters.

The contacts whose timelines are measured each have 200 events of every kind (messages,
campaign messages, Outbox items, replies, enrollments, notes, stage and do-not-contact changes,
imports, merges); around them 300,000 messages, their replies and enrollments, and an audit log
of 100,000 events on other contacts.

Budget on SQLite: every case at most 60 ms median and 8 queries.
Run with `make bench` or `python tests/perf/run.py contact_timeline`.
"""

import datetime
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # run directly: python tests/perf/bench_contact_timeline.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.bench_contact_list import QueryLog, explain
from tests.perf.run import setup_django

CONTACTS = int(os.environ.get("BENCH_CONTACTS", 30_000))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", 300_000))
AUDIT_EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", 100_000))
BUSY = 5  # contacts with 200 events each
WARMUP = 3
REPEAT = int(os.environ.get("BENCH_REPEAT", 15))
BUDGET_MS = 60.0
BUDGET_QUERIES = 8
BATCH = 10_000

ITEM = re.compile(r'<li class="timeline-item kind-(\w+)">')
OLDER = re.compile(r'class="timeline-more"><a class="button secondary" href="([^"]+)"')


def seed():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db import connection, transaction
    from django.utils import timezone

    from campaigns.models import (
        Audience,
        Campaign,
        CampaignMessage,
        Enrollment,
        Reply,
        Step,
        Variant,
    )
    from contacts.models import Connection, Contact, ImportBatch, ImportChange, Network, Note
    from linkedin_crm.models import AuditEvent
    from messaging.models import LinkedInAccount, Message

    rng = random.Random(13)
    now = timezone.now()
    User = get_user_model()
    lead = User.objects.create_user("bench", "bench@example.com", "unused", is_staff=True)
    lead.user_permissions.add(Permission.objects.get(codename="manage_all_accounts"))
    member = User.objects.create_user("member", "member@example.com", "unused", is_staff=True)
    network = Network.objects.default_for(lead)
    started = time.perf_counter()

    def ago(seconds_range: int) -> datetime.datetime:
        return now - datetime.timedelta(seconds=rng.randrange(1, seconds_range))

    year = 365 * 86400
    with transaction.atomic():
        Contact.objects.bulk_create(
            (
                Contact(first_name=f"First{n}", last_name=f"Last{n}", company=f"Company {n % 500}")
                for n in range(CONTACTS)
            ),
            batch_size=2000,
        )
        ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
        busy, others = ids[:BUSY], ids[BUSY:]
        accounts = [
            LinkedInAccount.objects.create(
                owner=lead if n < 3 else member,
                network=network if n < 3 else Network.objects.default_for(member),
                display_name=f"Sender {n}",
                member_urn=f"urn:li:person:bench-{n}",
                access_token=f"bench-token-{n}",
            )
            for n in range(6)
        ]
        audience = Audience.objects.create(name="Everyone", owner=lead, query="")
        campaigns = []
        for n in range(10):
            campaign = Campaign.objects.create(
                name=f"Campaign {n}", owner=lead, audience=audience, status="running"
            )
            step = Step.objects.create(campaign=campaign, order=1)
            variant = Variant.objects.create(step=step, label="A", body="Hi")
            campaigns.append((campaign, step, variant))
        batches = ImportBatch.objects.bulk_create(
            ImportBatch(
                file_name=f"Connections ({n}).csv",
                sha256=f"{n:064x}",
                network=network,
                uploaded_by=lead,
                status="done",
                created_at=ago(year),
            )
            for n in range(40)
        )

        statuses = ["sent"] * 6 + ["queued", "released", "failed", "cancelled"]

        def message(contact_id: int) -> Message:
            status = rng.choice(statuses)
            created = ago(year)
            return Message(
                contact_id=contact_id,
                account=rng.choice(accounts),
                body="Hi there, a bench message about as long as a real first message?",
                status=status,
                created_at=created,
                sent_at=created if status == "sent" else None,
            )

        # The crowd: messages, some replies and enrollments, notes, and an audit log.
        made = 0
        while made < MESSAGES - BUSY * 80:
            count = min(BATCH, MESSAGES - BUSY * 80 - made)
            Message.objects.bulk_create(
                [message(rng.choice(others)) for _ in range(count)], batch_size=1000
            )
            made += count
        sent = list(
            Message.objects.filter(status="sent").values_list("pk", "contact_id")[: MESSAGES // 20]
        )
        Reply.objects.bulk_create(
            (
                Reply(contact_id=c, message_id=m, text="Thanks!", received_at=ago(year))
                for m, c in sent
            ),
            batch_size=2000,
        )
        for index, (campaign, _, _) in enumerate(campaigns):
            Enrollment.objects.bulk_create(
                (
                    Enrollment(campaign=campaign, contact_id=pk, state="active")
                    for pk in others[index * 2000 : (index + 1) * 2000]
                ),
                batch_size=2000,
            )
        Note.objects.bulk_create(
            (
                Note(contact_id=rng.choice(others), author=lead, body="A note")
                for _ in range(30_000)
            ),
            batch_size=2000,
        )
        AuditEvent.objects.bulk_create(
            (
                AuditEvent(
                    action="stage_change",
                    actor=lead,
                    actor_name="bench",
                    object_type="contact",
                    object_id=str(rng.choice(others)),
                    detail={"from": "lead", "to": "contacted"},
                    at=ago(year),
                )
                for _ in range(AUDIT_EVENTS)
            ),
            batch_size=2000,
        )

        # The busy contacts: 200 events each.
        for contact_id in busy:
            messages = Message.objects.bulk_create([message(contact_id) for _ in range(80)])
            for (campaign, step, variant), chosen in zip(campaigns, messages[:40:4], strict=False):
                enrollment = Enrollment.objects.create(
                    campaign=campaign, contact_id=contact_id, state="replied", replied_at=ago(year)
                )
                CampaignMessage.objects.create(
                    message=chosen, enrollment=enrollment, step=step, variant=variant
                )
            Reply.objects.bulk_create(
                Reply(
                    contact_id=contact_id, message=m, text="Sure, let's talk", received_at=ago(year)
                )
                for m in messages[:20]
            )
            Note.objects.bulk_create(
                Note(contact_id=contact_id, author=lead, body=f"Note {n}", created_at=ago(year))
                for n in range(40)
            )
            changes = ["stage_change"] * 20 + ["do_not_contact", "contact_allowed"] * 5
            AuditEvent.objects.bulk_create(
                AuditEvent(
                    action=action,
                    actor=lead,
                    actor_name="bench",
                    object_type="contact",
                    object_id=str(contact_id),
                    detail={"from": "lead", "to": "meeting"} if action == "stage_change" else {},
                    at=ago(year),
                )
                for action in changes
            )
            AuditEvent.objects.bulk_create(
                AuditEvent(
                    action="merge",
                    actor=lead,
                    actor_name="bench",
                    object_type="contact",
                    object_id=str(contact_id),
                    detail={"merged_contact": 10**6 + n},
                    at=ago(year),
                )
                for n in range(10)
            )
            # Ten imports touched them: one brought the connection, nine changed them.
            Connection.objects.create(contact_id=contact_id, network=network, batch=batches[0])
            ImportChange.objects.bulk_create(
                ImportChange(batch=batch, contact_id=contact_id, fields={"company": ["a", "b"]})
                for batch in batches[1:10]
            )
        # Every batch's import event, as the import service writes it.
        AuditEvent.objects.bulk_create(
            AuditEvent(
                action="import",
                actor=lead,
                actor_name="bench",
                object_type="importbatch",
                object_id=str(batch.pk),
                object_repr=str(batch),
                counts={"created": 100},
                at=batch.created_at,
            )
            for batch in batches
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"Seeded {CONTACTS:,} contacts, {Message.objects.count():,} messages, "
        f"{AuditEvent.objects.count():,} audit events in {time.perf_counter() - started:.1f} s"
    )
    return lead, member, busy


def measure(client, url: str) -> dict:
    from django.db import connection

    headers = {"HX-Request": "true"} if "before=" in url else {}
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
    timings.sort()
    return {
        "url": url,
        "median": statistics.median(timings),
        "p90": timings[min(len(timings) - 1, round(0.9 * (len(timings) - 1)))],
        "queries": logs[-1],
        "query_ms": [
            statistics.median(times)
            for times in zip(*([query["ms"] for query in queries] for queries in logs), strict=True)
        ],
        "items": len(ITEM.findall(response.text)),
        "html": response.text,
    }


def report_queries(name: str, result: dict):
    print(f"\n### {name}: {result['url']}")
    print(f"  {sum(result['query_ms']):.1f} ms in queries of {result['median']:.1f} ms")
    for query, ms in zip(result["queries"], result["query_ms"], strict=True):
        print(f"  {ms:7.2f} ms  {' '.join(query['sql'].split())[:150]}")
    slowest = max(range(len(result["queries"])), key=result["query_ms"].__getitem__)
    query = result["queries"][slowest]
    print("  plan of the slowest:")
    print(explain(query["sql"], query["params"]))


def main() -> bool:
    setup_django("bench-contact-timeline")

    from django.test import Client

    lead, member, busy = seed()
    lead_client, member_client = Client(), Client()
    lead_client.force_login(lead)
    member_client.force_login(member)

    base = f"/contacts/{busy[2]}/timeline/"
    results = [
        ("first page", measure(lead_client, base)),
        ("messages only", measure(lead_client, base + "?kind=message&kind=outbox")),
        ("changes and imports", measure(lead_client, base + "?kind=change&kind=import")),
        ("a Member's first page", measure(member_client, base)),
    ]
    # Page after page to the last, through the "Older" links (htmx): the deepest is timed.
    url, pages, seen = base, 0, 0
    while url:
        result = measure(lead_client, url)
        pages += 1
        seen += result["items"]
        older = OLDER.search(result["html"])
        url = older.group(1).replace("&amp;", "&") if older else None
        if pages == 2:
            results.append(("second page (htmx)", result))
    results.append((f"last page ({pages})", result))
    if seen != 200:
        raise RuntimeError(
            f"Paging showed {seen} items of 200: the timeline lost or repeated some."
        )

    print(
        f"\nContact timeline, a contact with 200 events among {MESSAGES:,} messages, "
        f"{REPEAT} timed requests per case after {WARMUP} warm-up; budget {BUDGET_MS:.0f} ms "
        f"median, {BUDGET_QUERIES} queries.\n"
    )
    print("| case | median ms | p90 ms | queries | items | budget |")
    print("|---|---:|---:|---:|---:|---|")
    over = []
    for name, result in results:
        ok = result["median"] <= BUDGET_MS and len(result["queries"]) <= BUDGET_QUERIES
        if not ok:
            over.append((name, result))
        print(
            f"| {name} | {result['median']:.1f} | {result['p90']:.1f} | {len(result['queries'])}"
            f" | {result['items']} | {'OK' if ok else 'OVER'} |"
        )
    show = over if os.environ.get("BENCH_VERBOSE") != "1" else results
    for name, result in show:
        report_queries(name, result)
    return not over


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
