"""The send queue at scale: one dispatcher tick over 100 accounts and 100,000 queued messages,
and queueing 30,000 personalised messages in bulk.

Set-up: 100,000 contacts (seed_contacts) with member URNs; 100 active LinkedIn accounts, each
with its own network, its own sandbox member and a sandbox token with the messaging scope
(w_member_social, a partner app's: LINKEDIN_MESSAGING_SCOPE is set for the run), daily limit
100, a send window covering the whole week (Mon-Sun 00:00-23:59 UTC); 1,000 queued messages per
account, all due, spread over three streams (one-off messages and two campaigns).

Tick cases, each the median of BENCH_REPEAT runs (default 3), the database put back between runs
(claimed messages queued again, the accounts' next_send_at / hold_until / last_sent_at cleared,
the events deleted), and every run checked (claims, sends, statuses, events):

- assisted / automatic: the accounts' mode. Automatic messages go through the Messages API, so
  the client matters. "stub API" replaces the external HTTP boundary only: send_message answers
  at once in-process, so the tick's time is its database work (and the Python around it).
  "sandbox over HTTP" is the real LinkedInClient against the local LinkedIn sandbox, timed
  around every send_message call to split the tick into HTTP and the rest; the sandbox must have
  received exactly one message per API send, with the stored external ids.
- burst: min_interval_seconds 0, so every account claims its whole daily cap (100) in one tick:
  10,000 claims. staggered: min_interval_seconds 120 (the default), one claim per account and
  tick: 100 claims.
- 10 accounts: the other 90 paused (their 90,000 messages stay queued). With the 100-account
  cases this shows what the number of queries follows: accounts, or messages.
- The sandbox burst runs once, with 10 accounts (1,000 HTTP requests); all 100 accounts
  (10,000 requests, about half a minute) with BENCH_DISPATCH_SANDBOX_BURST=all.

Queueing: messages_queue() for 30,000 contacts already loaded (as the bulk compose view passes
them) from one account, a template with 3 variables and a default; median of BENCH_REPEAT runs,
the created messages deleted between runs.

Budget on SQLite: every stub tick (burst and staggered, both modes, 100 and 10 accounts) at
most 300 ms and at most QUERIES_PER_ACCOUNT queries per active account + QUERIES_PER_TICK;
queueing at most 3,000 ms. The sandbox ticks are reported, not budgeted. Wall-clock time is
what is budgeted; the process's CPU time is shown next to it, because another busy process on
the machine inflates the first and hardly the second. A 100-account case over budget gets its
queries grouped by statement (with the plan of the most expensive) and a cProfile of one more
run; BENCH_VERBOSE=1 prints them for every case.

Run with `make bench` or `python tests/perf/run.py dispatch` (about 3 minutes on 2 CPUs).
"""

import cProfile
import datetime
import io
import logging
import os
import pstats
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

if __name__ == "__main__":  # run directly: python tests/perf/bench_dispatch.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.run import setup_django

ACCOUNTS = 100
PER_ACCOUNT = 1_000
SMALL = 10  # the "10 accounts" cases
QUEUE_COUNT = 30_000
REPEAT = int(os.environ.get("BENCH_REPEAT", 3))
SANDBOX_BURST_ALL = os.environ.get("BENCH_DISPATCH_SANDBOX_BURST") == "all"
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"
DAILY_LIMIT = 100
STAGGER_SECONDS = 120
BUDGET_TICK_MS = 300.0
BUDGET_QUEUE_MS = 3_000.0
QUERIES_PER_ACCOUNT = 15
QUERIES_PER_TICK = 10
SCOPE = "w_member_social"
# Each account's queue mixes one-off messages and two campaigns (the dispatcher's fair share
# serves an account's streams round-robin).
STREAMS = ["", "campaign:1", "campaign:2"]
SCOPES = ["openid", "profile", "email", SCOPE]
# 3 variables, one with a default.
TEMPLATE = (
    'Hi {{ first_name|default:"there" }}, I came across your work as {{ position }} at '
    "{{ company }} and would love to compare notes on what your team is building this year."
)
# Inside the window (every day, 00:00-23:59 UTC) whatever the time the benchmark runs.
NOW = datetime.datetime.now(datetime.UTC).replace(hour=12, minute=0, second=0, microsecond=0)


# --- queries -----------------------------------------------------------------------------------


class QueryLog:
    """Every query with its own duration: a connection.execute_wrapper, whatever DEBUG is."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - started) * 1000
            # executemany: the parameters are a list of rows, which EXPLAIN cannot take.
            self.queries.append((sql, None if many else params, ms))


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
    groups = defaultdict(lambda: [0, 0.0, None])
    for sql, params, ms in queries:
        group = groups[shape(sql)]
        group[0] += 1
        group[1] += ms
        if group[2] is None:
            group[2] = (sql, params)
    total = sum(ms for _, _, ms in queries) or 1.0
    ranked = sorted(groups.items(), key=lambda item: -item[1][1])
    lines = [f"  {'count':>6} {'total ms':>9} {'share':>6}  statement"]
    for text, (count, ms, _) in ranked[:limit]:
        lines.append(f"  {count:6d} {ms:9.1f} {ms / total:6.1%}  {text[:160]}")
    sql, params = ranked[0][1][2]
    lines.append("  plan of the most expensive statement:")
    lines.append(explain(sql, params))
    return lines


def explain(sql: str, params) -> str:
    from django.db import connection

    if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
        return "    (not a SELECT/UPDATE/DELETE)"
    if params is None:
        return "    (run with executemany: not explained)"
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return "\n".join("    " + " | ".join(map(str, row)) for row in cursor.fetchall())


# --- clients -----------------------------------------------------------------------------------


class StubClient:
    """The external HTTP boundary only: send_message answers at once, as LinkedIn would."""

    def __init__(self):
        self.calls = 0
        self.http_seconds = 0.0

    def send_message(self, access_token, *, recipient_urn, body, subject="", idempotency_key=None):
        from messaging.linkedin import SentMessage

        self.calls += 1
        return SentMessage(external_id=f"urn:li:messagingMessage:stub-{self.calls}")


class TimedClient:
    """The real LinkedInClient, with the time spent in send_message (the HTTP share) added up."""

    def __init__(self, client):
        self.client = client
        self.calls = 0
        self.http_seconds = 0.0

    def send_message(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.client.send_message(*args, **kwargs)
        finally:
            self.calls += 1
            self.http_seconds += time.perf_counter() - started

    def __getattr__(self, name):  # refresh_token, introspect...: not timed, never expected here
        return getattr(self.client, name)


# --- set-up ------------------------------------------------------------------------------------


def seed(sandbox):
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    from contacts.models import Contact, Network
    from linkedin_crm.demo.people import seed_contacts
    from messaging.models import LinkedInAccount, Message

    user = get_user_model().objects.create_user(
        "bench", "bench@example.com", "unused-password", is_staff=True
    )
    default_network = Network.objects.default_for(user)
    started = time.perf_counter()
    count = seed_contacts(ACCOUNTS * PER_ACCOUNT, network=default_network, seed=1)
    Contact.objects.update(
        member_urn=Concat(Value("urn:li:person:c"), Cast("id", output_field=CharField()))
    )
    seeded = time.perf_counter() - started

    started = time.perf_counter()
    networks = [default_network] + Network.objects.bulk_create(
        Network(owner=user, name=f"Bench sender {n}'s network") for n in range(1, ACCOUNTS)
    )
    subs = sorted(sandbox.members)
    accounts = LinkedInAccount.objects.bulk_create(
        LinkedInAccount(
            owner=user,
            network=network,
            display_name=f"Bench Sender {n}",
            member_urn=f"urn:li:person:{sub}",
            access_token=sandbox.issue_token(sub, scopes=SCOPES),
            access_token_expires_at=NOW + datetime.timedelta(days=50),
            scopes=SCOPES,
            status=LinkedInAccount.Status.ACTIVE,
            mode=LinkedInAccount.Mode.ASSISTED,
            daily_limit=DAILY_LIMIT,
            timezone="UTC",
            window_days=list(range(7)),
            window_start=datetime.time(0, 0),
            window_end=datetime.time(23, 59),
            min_interval_seconds=0,
            jitter_seconds=0,
        )
        for n, (network, sub) in enumerate(zip(networks, subs, strict=True))
    )
    contact_ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    rng = random.Random(3)
    has_stream = any(field.name == "stream" for field in Message._meta.get_fields())
    with transaction.atomic():
        for n, account in enumerate(accounts):
            ids = contact_ids[n * PER_ACCOUNT : (n + 1) * PER_ACCOUNT]
            messages = []
            for contact_id in ids:
                due = NOW - datetime.timedelta(minutes=rng.randint(1, 3 * 24 * 60))
                messages.append(
                    Message(
                        contact_id=contact_id,
                        account=account,
                        body=f"Hello, this is message {contact_id} from {account.display_name}: "
                        "a bench text about the same length as a real first message.",
                        status=Message.Status.QUEUED,
                        channel=Message.Channel.API,
                        scheduled_for=due,
                        next_attempt_at=due,
                        created_by=user,
                        created_at=due,
                        **({"stream": rng.choice(STREAMS)} if has_stream else {}),
                    )
                )
            Message.objects.bulk_create(messages, batch_size=1000)
    print(
        f"Seeded {count:,} contacts with member URNs in {seeded:.1f} s; {len(accounts)} accounts "
        f"and {Message.objects.count():,} queued messages in {time.perf_counter() - started:.1f} s"
    )
    return user, accounts, contact_ids


def reset() -> None:
    """Put the database back as seeded: claimed messages queued again, no events, no slots."""
    from django.db import connection

    from messaging.models import LinkedInAccount, Message, MessageEvent

    Message.objects.exclude(status=Message.Status.QUEUED).update(
        status=Message.Status.QUEUED,
        channel=Message.Channel.API,
        claimed_at=None,
        claim_token="",
        released_at=None,
        sent_at=None,
        attempts=0,
        external_id="",
        last_error="",
    )
    MessageEvent.objects.all().delete()
    LinkedInAccount.objects.update(next_send_at=None, hold_until=None, last_sent_at=None)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def configure(accounts, *, mode: str, interval: int, active: int) -> None:
    from messaging.models import LinkedInAccount

    ids = [account.pk for account in accounts]
    LinkedInAccount.objects.filter(pk__in=ids).update(mode=mode, min_interval_seconds=interval)
    LinkedInAccount.objects.filter(pk__in=ids[:active]).update(status=LinkedInAccount.Status.ACTIVE)
    LinkedInAccount.objects.filter(pk__in=ids[active:]).update(status=LinkedInAccount.Status.PAUSED)


# --- the tick ----------------------------------------------------------------------------------


def tick_once(make_client, *, profile: bool = False) -> dict:
    from django.db import connection

    from messaging.dispatch import dispatch_tick

    reset()
    client = make_client()
    log = QueryLog()
    profiler = cProfile.Profile() if profile else None
    with connection.execute_wrapper(log):
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            result = profiler.runcall(dispatch_tick, now=NOW, client=client)
        else:
            result = dispatch_tick(now=NOW, client=client)
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
    run = {
        "ms": ms,
        "cpu_ms": cpu_ms,
        "http_ms": client.http_seconds * 1000,
        "calls": client.calls,
        "queries": log.queries,
        "result": result,
    }
    if profiler:
        run["profile"] = profile_text(profiler)
    return run


def profile_text(profiler) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(25)
    return out.getvalue()


def check_tick(case: dict, run: dict, sandbox=None, before: int = 0) -> None:
    """What one tick must have done: every claim in the expected mode, nothing retried."""
    from messaging.models import Message, MessageEvent

    result = run["result"]
    expected = case["active"] * (1 if case["interval"] else DAILY_LIMIT)
    automatic = case["mode"] == "automatic"
    problems = []
    if result.claimed != expected:
        problems.append(f"claimed {result.claimed}, expected {expected}")
    sent, released = (expected, 0) if automatic else (0, expected)
    if (result.sent, result.released) != (sent, released):
        problems.append(f"sent {result.sent} / released {result.released}")
    if result.retried or result.failed or result.uncertain or result.cancelled:
        problems.append(f"unexpected outcomes {result.as_dict()}")
    if run["calls"] != sent:
        problems.append(f"{run['calls']} send_message calls for {sent} API sends")
    status = Message.Status.SENT if automatic else Message.Status.RELEASED
    in_db = Message.objects.filter(status=status).count()
    if in_db != expected:
        problems.append(f"{in_db} messages {status} in the database")
    events = MessageEvent.objects.count()
    if events != expected + sent:
        problems.append(f"{events} events, expected {expected + sent}")
    if sandbox is not None:
        received = sandbox.sent_messages()[before:]
        keys = {m["idempotency_key"] for m in received}
        if len(received) != sent or len(keys) != sent:
            problems.append(f"the sandbox received {len(received)} messages for {sent} API sends")
        stored = set(
            Message.objects.filter(status=Message.Status.SENT).values_list("external_id", flat=True)
        )
        if stored != {m["id"] for m in received}:
            problems.append("the stored external ids differ from the sandbox's message ids")
    if problems:
        raise AssertionError(f"{case['label']}: " + "; ".join(problems))


def run_case(case: dict, accounts, sandbox, client_for_sandbox) -> dict:
    configure(accounts, mode=case["mode"], interval=case["interval"], active=case["active"])
    if case["client"] == "sandbox":
        make_client = lambda: TimedClient(client_for_sandbox)  # noqa: E731
    else:
        make_client = StubClient
    runs = []
    for _ in range(case["repeat"]):
        before = len(sandbox.sent_messages())
        run = tick_once(make_client)
        check_tick(case, run, sandbox if case["client"] == "sandbox" else None, before)
        runs.append(run)
    middle = sorted(runs, key=lambda run: run["ms"])[len(runs) // 2]
    outcome = {
        "case": case,
        "runs": runs,
        "median": statistics.median(run["ms"] for run in runs),
        "cpu": statistics.median(run["cpu_ms"] for run in runs),
        "http": statistics.median(run["http_ms"] for run in runs),
        "db": statistics.median(run["ms"] - run["http_ms"] for run in runs),
        "query_ms": sum(ms for _, _, ms in middle["queries"]),
        "queries": len(middle["queries"]),
        "claims": middle["result"].claimed,
        "sample": middle,
    }
    if case["budget"]:
        query_budget = QUERIES_PER_ACCOUNT * case["active"] + QUERIES_PER_TICK
        outcome["query_budget"] = query_budget
        outcome["over"] = [
            name
            for name, bad in (
                ("time", outcome["median"] > BUDGET_TICK_MS),
                ("queries", outcome["queries"] > query_budget),
            )
            if bad
        ]
        if (outcome["over"] and case["active"] == ACCOUNTS) or VERBOSE:
            # A slow case is profiled on 10 accounts (the same work per account; a tenth of
            # the time, which cProfile about doubles).
            small = outcome["median"] > 5_000 and case["active"] > SMALL
            if small:
                configure(accounts, mode=case["mode"], interval=case["interval"], active=SMALL)
            outcome["profiled"] = tick_once(make_client, profile=True)
            outcome["profiled"]["accounts"] = SMALL if small else case["active"]
    return outcome


def cases() -> list[dict]:
    both = [
        (mode, name, interval)
        for mode in ("assisted", "automatic")
        for name, interval in (("burst", 0), ("staggered", STAGGER_SECONDS))
    ]
    table = [
        {
            "label": f"tick {mode} {name}, {ACCOUNTS} accounts"
            + (", stub API" if mode == "automatic" else ""),
            "mode": mode,
            "interval": interval,
            "active": ACCOUNTS,
            "client": "stub",
            "budget": True,
            "repeat": REPEAT,
        }
        for mode, name, interval in both
    ]
    table += [
        {
            "label": f"tick {mode} {name}, {SMALL} accounts"
            + (", stub API" if mode == "automatic" else ""),
            "mode": mode,
            "interval": interval,
            "active": SMALL,
            "client": "stub",
            "budget": True,
            "repeat": REPEAT,
        }
        for mode, name, interval in both
    ]
    table.append(
        {
            "label": f"tick automatic staggered, {ACCOUNTS} accounts, sandbox over HTTP",
            "mode": "automatic",
            "interval": STAGGER_SECONDS,
            "active": ACCOUNTS,
            "client": "sandbox",
            "budget": False,
            "repeat": REPEAT,
        }
    )
    burst = ACCOUNTS if SANDBOX_BURST_ALL else SMALL
    table.append(
        {
            "label": f"tick automatic burst, {burst} accounts, sandbox over HTTP (1 run)",
            "mode": "automatic",
            "interval": 0,
            "active": burst,
            "client": "sandbox",
            "budget": False,
            "repeat": 1,
        }
    )
    return table


# --- queueing ----------------------------------------------------------------------------------


def run_queue(user, account, contact_ids) -> dict:
    from django.db import connection

    from contacts.models import Contact
    from messaging import personalize, services
    from messaging.models import Message

    # Contacts the account has no open message to (it has the first PER_ACCOUNT).
    ids = contact_ids[PER_ACCOUNT : PER_ACCOUNT + QUEUE_COUNT]
    contacts = list(Contact.objects.filter(pk__in=ids).order_by("pk"))
    before = Message.objects.count()
    timings, cpu = [], []
    for _ in range(REPEAT):
        log = QueryLog()
        with connection.execute_wrapper(log):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = services.messages_queue(
                contacts=contacts, account=account, body=TEMPLATE, created_by=user, now=NOW
            )
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        created = result.queued_ids
        if len(created) != QUEUE_COUNT or result.skipped or None in created:
            raise AssertionError(
                f"queued {len(created)}, skipped {len(result.skipped)} of {QUEUE_COUNT}"
            )
        for index in (0, QUEUE_COUNT - 1):
            contact = contacts[index]
            expected = personalize.render(
                TEMPLATE, personalize.context_for(contact, sender_name=account.display_name)
            )
            stored = Message.objects.get(pk=created[index])
            if (stored.contact_id, stored.body) != (contact.pk, expected):
                raise AssertionError(f"message {stored.pk}: unexpected {stored.body!r}")
        Message.objects.filter(pk__in=created).delete()
    if Message.objects.count() != before:
        raise AssertionError("the queued messages were not all deleted")
    median = statistics.median(timings)
    profile = None
    if median > BUDGET_QUEUE_MS or VERBOSE:
        profiler = cProfile.Profile()
        result = profiler.runcall(
            services.messages_queue,
            contacts=contacts,
            account=account,
            body=TEMPLATE,
            created_by=user,
            now=NOW,
        )
        Message.objects.filter(pk__in=result.queued_ids).delete()
        profile = profile_text(profiler)
    return {
        "median": median,
        "cpu": statistics.median(cpu),
        "queries": len(log.queries),
        "timings": timings,
        "over": median > BUDGET_QUEUE_MS,
        **({"profile": profile} if profile else {}),
    }


# --- the benchmark -----------------------------------------------------------------------------


def main() -> bool:
    # A partner app's messaging scope (read by the settings at set-up; empty by default).
    os.environ["LINKEDIN_MESSAGING_SCOPE"] = SCOPE
    setup_django("bench-dispatch")

    from django.conf import settings

    from messaging.linkedin import LinkedInClient
    from messaging.sandbox import LinkedInSandbox, SandboxMember

    settings.LINKEDIN_MESSAGING_SCOPE = SCOPE
    logging.getLogger("messaging.sandbox").setLevel(logging.WARNING)  # a line per request
    members = [
        SandboxMember(f"sbx-bench-{n:03d}", "Bench", f"Sender{n}", f"sender{n}@example.com")
        for n in range(ACCOUNTS)
    ]
    # A daily limit above the burst (100 accounts x 100), so no send is throttled.
    sandbox = LinkedInSandbox(port=0, members=members, daily_limit=10 * DAILY_LIMIT).start()
    client = LinkedInClient(
        oauth_base_url=sandbox.oauth_base_url,
        api_base_url=sandbox.api_base_url,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
    )
    try:
        user, accounts, contact_ids = seed(sandbox)
        started = time.perf_counter()
        # Warm-up (imports, zoneinfo, the HTTP connection pool), untimed.
        configure(accounts, mode="automatic", interval=STAGGER_SECONDS, active=SMALL)
        tick_once(lambda: TimedClient(client))
        results = []
        for case in cases():
            results.append(run_case(case, accounts, sandbox, client))
            print(f"  {case['label']}: {results[-1]['median']:.0f} ms", flush=True)
        configure(accounts, mode="assisted", interval=0, active=ACCOUNTS)
        reset()
        queued = run_queue(user, accounts[0], contact_ids)
        elapsed = time.perf_counter() - started
    finally:
        client.close()
        sandbox.stop()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nDispatcher tick: {ACCOUNTS} accounts x {PER_ACCOUNT:,} queued messages, daily limit "
        f"{DAILY_LIMIT}; burst = no minimum interval (the cap in one tick), staggered = "
        f"{STAGGER_SECONDS} s (one per account and tick). Median of {REPEAT} runs ({elapsed:.0f} s "
        f"of measuring; load average now {load:.1f}). Budget: stub ticks <= "
        f"{BUDGET_TICK_MS:.0f} ms and <= {QUERIES_PER_ACCOUNT} queries/account + "
        f"{QUERIES_PER_TICK}; queueing {QUEUE_COUNT:,} <= {BUDGET_QUEUE_MS:,.0f} ms.\n"
    )
    print("| case | median ms | queries | claims | budget | verdict |")
    print("|---|---:|---:|---:|---|---|")
    ok = True
    for outcome in results:
        case = outcome["case"]
        queries = f"{outcome['queries']:,} ({outcome['queries'] / case['active']:.1f}/account)"
        cpu = f"CPU {outcome['cpu']:,.0f} ms"
        if case["budget"]:
            budget = f"<= {BUDGET_TICK_MS:.0f} ms, <= {outcome['query_budget']:,} queries"
            over = outcome["over"]
            ok = ok and not over
            verdict = ("OK" if not over else "OVER (" + ", ".join(over) + ")") + f"; {cpu}"
        else:
            budget = "- (info)"
            verdict = (
                f"HTTP {outcome['http']:,.0f} ms ({outcome['http'] / outcome['median']:.0%}), "
                f"rest {outcome['db']:,.0f} ms; {cpu}; the sandbox got every API send once"
            )
        print(f"| {case['label']} | {outcome['median']:,.0f} | {queries} | {outcome['claims']:,} "
              f"| {budget} | {verdict} |")  # fmt: skip
    ok = ok and not queued["over"]
    print(
        f"| queue {QUEUE_COUNT:,} personalised messages (messages_queue) | "
        f"{queued['median']:,.0f} | {queued['queries']:,} | - | <= {BUDGET_QUEUE_MS:,.0f} ms | "
        f"{'OVER (time)' if queued['over'] else 'OK'}; CPU {queued['cpu']:,.0f} ms |"
    )
    print(
        "\nTime in queries (median run): "
        + "; ".join(
            f"{outcome['case']['label']} {outcome['query_ms']:.0f} ms" for outcome in results
        )
    )
    print(
        "Every run (ms): "
        + "; ".join(
            f"{outcome['case']['label']} "
            + ", ".join(f"{run['ms']:.0f}" for run in outcome["runs"])
            for outcome in results
        )
        + f"; queue {', '.join(f'{ms:.0f}' for ms in queued['timings'])}"
    )
    for outcome in results:
        if "profiled" not in outcome:
            continue
        profiled = outcome["profiled"]
        print(f"\n### {outcome['case']['label']}: queries of the median run by statement\n")
        print("\n".join(breakdown(outcome["sample"]["queries"])))
        print(
            f"\n### cProfile of one more run with {profiled['accounts']} accounts "
            f"({profiled['ms']:,.0f} ms under the profiler)\n"
        )
        print(profiled["profile"])
    if "profile" in queued:
        print("\n### cProfile of one more messages_queue run\n")
        print(queued["profile"])
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
