"""The fanned-out dispatch: messages per minute with 1, 2 and 4 worker processes.

Set-up: 100 active automatic LinkedIn accounts (no minimum interval, so each may send all its
due messages at once; a send window covering the whole week), each with its own sandbox member
and token holding the messaging scope, and MESSAGES_PER_ACCOUNT due messages each. LinkedIn is
the local sandbox over HTTP, every answer held back 200 ms (its `delay` fault), which is about
what LinkedIn's Messages API takes.

Each case starts a real `manage.py qcluster` with Q_WORKERS=N on the benchmark's database
(production settings, the database broker), waits until it runs, then runs the scheduled tick
(`messaging.tasks.dispatch`: one task per account) and times until every message is recorded
sent. The database is put back between cases, and every case checks that the sandbox received
each message exactly once. "before" is the dispatch this replaced, one task walking every account
in turn (`dispatch_tick` in one process), whatever the number of workers.

Budget: scaling close to linear until the machine's cores run out: with N workers at least
SCALING x min(N, CPUs) times the messages per minute of one worker. Beyond the cores, workers
still help while they wait on LinkedIn, but the budget does not count on it.

Run with `make bench` or `python tests/perf/run.py dispatch_fanout` (about 2 minutes).
BENCH_FANOUT_PER_ACCOUNT changes the messages per account (default 2).
"""

import datetime
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

if __name__ == "__main__":  # run directly: python tests/perf/bench_dispatch_fanout.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.run import ROOT, setup_django

ACCOUNTS = 100
MESSAGES_PER_ACCOUNT = int(os.environ.get("BENCH_FANOUT_PER_ACCOUNT", 2))
LATENCY = 0.2  # seconds LinkedIn takes to answer each send
WORKERS = [1, 2, 4]
SCALING = 0.8
SCOPE = "w_member_social"
SCOPES = ["openid", "profile", "email", SCOPE]
NOW = datetime.datetime.now(datetime.UTC)


def seed(sandbox, tmp: Path) -> list:
    from django.contrib.auth import get_user_model
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    from contacts.models import Contact, Network
    from linkedin_crm.demo.people import seed_contacts
    from messaging.models import LinkedInAccount, Message

    user = get_user_model().objects.create_user("bench", "bench@example.com", "unused-password")
    network = Network.objects.default_for(user)
    seed_contacts(ACCOUNTS * MESSAGES_PER_ACCOUNT, network=network, seed=1)
    Contact.objects.update(
        member_urn=Concat(Value("urn:li:person:c"), Cast("id", output_field=CharField()))
    )
    accounts = LinkedInAccount.objects.bulk_create(
        LinkedInAccount(
            owner=user,
            network=network,
            display_name=f"Bench Sender {n}",
            member_urn=f"urn:li:person:{sub}",
            access_token=sandbox.issue_token(sub, scopes=SCOPES),
            access_token_expires_at=NOW + datetime.timedelta(days=50),
            scopes=SCOPES,
            mode=LinkedInAccount.Mode.AUTOMATIC,
            daily_limit=100,
            timezone="UTC",
            window_days=list(range(7)),
            window_start=datetime.time(0, 0),
            window_end=datetime.time(23, 59, 59),
            min_interval_seconds=0,
            jitter_seconds=0,
        )
        for n, sub in enumerate(sorted(sandbox.members))
    )
    contact_ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    due = NOW - datetime.timedelta(minutes=5)
    Message.objects.bulk_create(
        Message(
            contact_id=contact_id,
            account=accounts[n % ACCOUNTS],
            body=f"Hello, this is bench message {contact_id}.",
            scheduled_for=due,
            next_attempt_at=due,
            created_by=user,
        )
        for n, contact_id in enumerate(contact_ids)
    )
    return accounts


def reset() -> None:
    """Every message queued and due again, no history, no account bookkeeping (the status
    guard is a test-suite trigger, absent here)."""
    from django.db import connection

    from messaging.models import LinkedInAccount, Message, MessageEvent

    Message.objects.update(
        status=Message.Status.QUEUED,
        claimed_at=None,
        claim_token="",
        sent_at=None,
        attempts=0,
        external_id="",
    )
    MessageEvent.objects.all().delete()
    LinkedInAccount.objects.update(
        next_send_at=None, last_sent_at=None, hold_until=None, dispatch_enqueued_at=None
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def start_cluster(workers: int, sandbox, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "linkedin_crm.settings",
        "Q_WORKERS": str(workers),
        "LINKEDIN_API_BASE_URL": sandbox.api_base_url,
        "LINKEDIN_OAUTH_BASE_URL": sandbox.oauth_base_url,
        "LINKEDIN_CLIENT_ID": sandbox.client_id,
        "LINKEDIN_CLIENT_SECRET": sandbox.client_secret,
        "LINKEDIN_MESSAGING_SCOPE": SCOPE,
    }
    with log.open("w") as out:
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped together
        )
    deadline = time.monotonic() + 60
    while "running." not in log.read_text():
        if cluster.poll() is not None or time.monotonic() > deadline:
            stop_cluster(cluster)
            sys.exit(f"The cluster did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return cluster


def stop_cluster(cluster: subprocess.Popen) -> None:
    try:
        os.killpg(cluster.pid, signal.SIGINT)
        cluster.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()


def wait_until_sent(total: int, timeout: float) -> float:
    from messaging.models import Message

    started = time.perf_counter()
    while Message.objects.filter(status=Message.Status.SENT).count() < total:
        if time.perf_counter() - started > timeout:
            statuses = Counter(Message.objects.values_list("status", flat=True))
            sys.exit(f"Not every message was sent within {timeout:.0f} s: {dict(statuses)}")
        time.sleep(0.05)
    return time.perf_counter() - started


def check_deliveries(sandbox, before: int, total: int) -> None:
    from messaging.models import Message

    received = Counter(m["idempotency_key"] for m in sandbox.sent_messages()[before:])
    assert sum(received.values()) == total, f"LinkedIn received {sum(received.values())}"
    assert max(received.values()) == 1, "a message reached LinkedIn twice"
    assert set(received) == {
        str(key) for key in Message.objects.values_list("idempotency_key", flat=True)
    }


def run_before(sandbox, client, total: int) -> float:
    """The dispatch this replaced: one task walks every account in turn."""
    from messaging.dispatch import dispatch_tick

    reset()
    before = len(sandbox.sent_messages())
    sandbox.add_faults([{"delay": LATENCY}] * total)
    started = time.perf_counter()
    result = dispatch_tick(client=client)
    elapsed = time.perf_counter() - started
    assert result.sent == total, result
    check_deliveries(sandbox, before, total)
    return elapsed


def run_fanned_out(workers: int, sandbox, tmp: Path, total: int) -> float:
    from messaging import tasks

    reset()
    before = len(sandbox.sent_messages())
    sandbox.add_faults([{"delay": LATENCY}] * total)
    cluster = start_cluster(workers, sandbox, tmp / f"qcluster-{workers}.log")
    try:
        started = time.perf_counter()
        enqueued = tasks.dispatch()["enqueued"]
        assert enqueued == ACCOUNTS, enqueued
        wait_until_sent(total, timeout=max(60, 3 * total * LATENCY))
        elapsed = time.perf_counter() - started
    finally:
        stop_cluster(cluster)
    check_deliveries(sandbox, before, total)
    return elapsed


def main() -> bool:
    os.environ["LINKEDIN_MESSAGING_SCOPE"] = SCOPE  # read by the settings at set-up
    tmp = setup_django("bench-dispatch-fanout")

    from django.conf import settings
    from django.db import connection

    from messaging.linkedin import LinkedInClient
    from messaging.sandbox import LinkedInSandbox, SandboxMember

    settings.LINKEDIN_MESSAGING_SCOPE = SCOPE
    logging.getLogger("messaging.sandbox").setLevel(logging.WARNING)  # a line per request
    logging.getLogger("django-q").setLevel(logging.WARNING)  # a line per task enqueued
    members = [
        SandboxMember(f"sbx-bench-{n:03d}", "Bench", f"Sender{n}", f"sender{n}@example.com")
        for n in range(ACCOUNTS)
    ]
    sandbox = LinkedInSandbox(port=0, members=members, daily_limit=1_000).start()
    client = LinkedInClient(
        oauth_base_url=sandbox.oauth_base_url,
        api_base_url=sandbox.api_base_url,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
    )
    total = ACCOUNTS * MESSAGES_PER_ACCOUNT
    started = time.perf_counter()
    try:
        seed(sandbox, tmp)
        connection.close()  # the clusters fork; the benchmark's own connection reopens
        before = run_before(sandbox, client, total)
        timings = {n: run_fanned_out(n, sandbox, tmp, total) for n in WORKERS}
    finally:
        client.close()
        sandbox.stop()

    cpus = os.cpu_count() or 1
    per_minute = {n: total / seconds * 60 for n, seconds in timings.items()}
    one = per_minute[1]
    print(
        f"\nFanned-out dispatch: {ACCOUNTS} automatic accounts x {MESSAGES_PER_ACCOUNT} due "
        f"messages = {total} sends, LinkedIn (the sandbox) answering each in "
        f"{LATENCY * 1000:.0f} ms; from the scheduled tick to the last send recorded. "
        f"{cpus} CPUs on this machine. Budget: N workers >= {SCALING} x min(N, {cpus}) x one "
        f"worker's rate ({time.perf_counter() - started:.0f} s in all).\n"
    )
    print("| dispatch | workers | seconds | messages / minute | x one worker | budget | verdict |")
    print("|---|---:|---:|---:|---:|---|---|")
    print(
        f"| before: one task walks every account | any | {before:.1f} | "
        f"{total / before * 60:,.0f} | {total / before * 60 / one:.2f} | — | — |"
    )
    ok = True
    for n in WORKERS:
        needed = SCALING * min(n, cpus)
        speed_up = per_minute[n] / one
        within = speed_up >= needed or n == 1
        ok &= within
        budget = "—" if n == 1 else f">= {needed:.1f}"
        verdict = "—" if n == 1 else ("ok" if within else "OVER")
        print(
            f"| fanned out, a task per account | {n} | {timings[n]:.1f} | "
            f"{per_minute[n]:,.0f} | {speed_up:.2f} | {budget} | {verdict} |"
        )
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
