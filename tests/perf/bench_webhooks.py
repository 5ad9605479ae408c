"""Webhook fan-out: what emitting costs the change it rides on.

Cases, each the median of BENCH_REPEAT runs (default 3), the events and deliveries deleted
between runs and every run checked (events and deliveries written):

- 10,000 events queued: webhooks.emit() of 10,000 `contact.opted_out` events to 2 subscribers
  (10,000 events, 20,000 deliveries), in one transaction as a bulk do-not-contact would.
- 10,000 message events: webhooks.emit_messages() of `message.sent` for 10,000 messages to 2
  subscribers, reading each message's ids from the database as transitions.change() does.
- 10,000 messages marked sent, with and without subscribers: transitions.change() over 10,000
  messages, to show what the events add to the change itself.
- nobody subscribed: emit() must cost one query and write nothing.

Budget on SQLite: each 10,000-event case at most 2,000 ms; nobody subscribed exactly 1 query.

Run with `make bench` or `python tests/perf/run.py webhooks`.
"""

import os
import statistics
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # run directly: python tests/perf/bench_webhooks.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.run import setup_django

EVENTS = 10_000
SUBSCRIBERS = 2
REPEAT = int(os.environ.get("BENCH_REPEAT", 3))
BUDGET_MS = 2_000.0


def main() -> bool:
    setup_django("bench-webhooks")

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from contacts.models import Contact, Network
    from linkedin_crm import webhooks
    from linkedin_crm.models import WebhookDelivery, WebhookEvent, WebhookSubscription
    from messaging import bulk, transitions
    from messaging.models import LinkedInAccount, Message, MessageEvent

    owner = get_user_model().objects.create(username="owner", is_staff=True)
    account = LinkedInAccount.objects.create(
        owner=owner,
        network=Network.objects.default_for(owner),
        display_name="Sender",
        member_urn="urn:li:person:sender",
    )
    contacts = Contact.objects.bulk_create(Contact(first_name=f"P{n}") for n in range(100))
    message_ids = bulk.messages_insert(
        [{"contact_id": contacts[n % 100].pk, "body": f"Hello {n}"} for n in range(EVENTS)],
        account_id=account.pk,
    )

    def subscribe(events):
        WebhookSubscription.objects.all().delete()
        for n in range(SUBSCRIBERS):
            WebhookSubscription.objects.create(
                url=f"https://receiver{n}.example.com/hooks",
                events=events,
                secret=webhooks.new_secret(),
            )

    def reset():
        WebhookDelivery.objects.all().delete()
        WebhookEvent.objects.all().delete()

    def timed(run, check) -> float:
        times = []
        for _ in range(REPEAT):
            reset()
            started = time.perf_counter()
            with transaction.atomic():
                run()
            times.append((time.perf_counter() - started) * 1000)
            check()
        return statistics.median(times)

    def expect(events: int, deliveries: int):
        def check():
            found = (WebhookEvent.objects.count(), WebhookDelivery.objects.count())
            if found != (events, deliveries):
                raise RuntimeError(f"wrote {found} events and deliveries, not {events, deliveries}")

        return check

    results = []
    subscribe(["contact.opted_out", "message.sent"])
    opted_out = [{"id": n} for n in range(EVENTS)]
    results.append(
        (
            f"{EVENTS:,} events queued ({SUBSCRIBERS} subscribers)",
            timed(
                lambda: webhooks.emit("contact.opted_out", opted_out),
                expect(EVENTS, EVENTS * SUBSCRIBERS),
            ),
            True,
        )
    )
    results.append(
        (
            f"{EVENTS:,} message events ({SUBSCRIBERS} subscribers)",
            timed(
                lambda: webhooks.emit_messages("message.sent", message_ids),
                expect(EVENTS, EVENTS * SUBSCRIBERS),
            ),
            True,
        )
    )

    def mark_sent():
        # Back to sending first (outside the timing of the events: both cases do it).
        transitions.change(transitions.Action.CLAIM, message_ids)
        transitions.change(transitions.Action.RECORD_SENT, message_ids)

    def put_back():
        Message.objects.update(status=Message.Status.QUEUED)
        MessageEvent.objects.all().delete()

    for label, events in (("with", ["message.sent"]), ("without", ["reply.received"])):
        subscribe(events)
        wrote = EVENTS if label == "with" else 0

        def check(wrote=wrote):
            expect(wrote, wrote * SUBSCRIBERS)()
            put_back()

        results.append(
            (
                f"{EVENTS:,} messages claimed and sent, {label} subscribers",
                timed(mark_sent, check),
                False,
            )
        )

    subscribe(["reply.received"])
    with CaptureQueriesContext(connection) as queries:
        written = webhooks.emit("contact.opted_out", opted_out)
    quiet_ok = written == 0 and len(queries) == 1

    print(f"\nWebhook fan-out, median of {REPEAT} runs; budget {BUDGET_MS:,.0f} ms.\n")
    print("| case | median ms | budget |")
    print("|---|---:|---|")
    ok = True
    for label, ms, budgeted in results:
        within = ms <= BUDGET_MS
        ok &= within or not budgeted
        verdict = ("ok" if within else "OVER") if budgeted else "reported"
        print(f"| {label} | {ms:,.0f} | {verdict} |")
    print(
        f"| nobody subscribed: {len(queries)} query, {written} events | — | "
        f"{'ok' if quiet_ok else 'OVER'} |"
    )
    return ok and quiet_ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
