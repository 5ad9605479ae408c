"""A bounded load test: `make loadtest`, or `.venv/bin/python tests/perf/loadtest.py`.

Starts gunicorn with the repository's gunicorn.conf.py (DEBUG off, as in production) on a free
loopback port, and has 8, then 16, then 32 simulated members, each signed in with their own
session, request the contact list, a contact's page and the dashboard in turn, as fast as they
are answered, for LOADTEST_SECONDS at each level. Prints, per level and page, the requests per
second and the 50th/95th/99th percentile of the response time, and the errors.

The database: a fresh SQLite file in a temporary directory, seeded with LOADTEST_CONTACTS
invented contacts; or LOADTEST_DATABASE_URL (e.g. an empty throwaway PostgreSQL database),
migrated and seeded the same way unless it already holds contacts, so that a second run reuses
it. The client runs on the same machine as the server and takes CPU from it: compare numbers
from the same machine only.

Settings: LOADTEST_SECONDS (20), LOADTEST_USERS ("8,16,32"), LOADTEST_CONTACTS (100000),
LOADTEST_DATABASE_URL, WEB_CONCURRENCY (gunicorn's workers, 3).
"""

import base64
import http.client
import itertools
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("LOADTEST_SECONDS", 20))
LEVELS = [int(n) for n in os.environ.get("LOADTEST_USERS", "8,16,32").split(",")]
CONTACTS = int(os.environ.get("LOADTEST_CONTACTS", 100_000))
USERNAME = "loadtest"
PAGES = ["contact list", "contact page", "dashboard"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_environment(tmp: Path) -> None:
    """Production's settings with throwaway keys, shared by this process and gunicorn (the
    sessions made here are signed with the same SECRET_KEY)."""
    os.environ.update(
        DEBUG="0",
        SECRET_KEY=f"loadtest-only-{os.urandom(16).hex()}",
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_COOKIES="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DATA_DIR=str(tmp),
        DATABASE_URL=os.environ.get("LOADTEST_DATABASE_URL") or f"sqlite:///{tmp / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="linkedin_crm.settings",
    )
    os.environ.pop("STATIC_ROOT", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def prepare_database(users: int) -> tuple[list[str], list[int]]:
    """Migrate, seed unless seeded, collect static files; returns one session key per simulated
    member and the ids of some contacts to open."""
    import django

    django.setup()
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection

    from contacts.models import Contact, Network
    from linkedin_crm.demo.people import seed_contacts

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    User = get_user_model()
    user = User.objects.filter(username=USERNAME).first() or User.objects.create_user(
        USERNAME, "loadtest@example.com", os.urandom(16).hex(), is_staff=True
    )
    if not Contact.objects.exists():
        started = time.monotonic()
        seed_contacts(CONTACTS, network=Network.objects.default_for(user), seed=1)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        print(f"Seeded {CONTACTS:,} contacts in {time.monotonic() - started:.0f} s")
    sessions = []
    for _ in range(users):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "linkedin_crm.auth.TeamAuthenticationBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    ids = list(Contact.objects.order_by("?").values_list("pk", flat=True)[:1000])
    total = Contact.objects.count()
    print(f"Database: {connection.vendor}, {total:,} contacts")
    connection.close()
    return sessions, ids


def start_gunicorn(port: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
        + ["--access-logfile", "/dev/null"],
        cwd=ROOT,
        start_new_session=True,  # its own process group: stopped with all its workers
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if get(port, "/accounts/login/", "")[0] == 200:
                return server
        except OSError:
            time.sleep(0.5)
    stop(server)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def get(port: int, path: str, session: str) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def run_level(port: int, sessions: list[str], ids: list[int]) -> dict[str, list]:
    """Every simulated member requests the three pages in turn until the time is up."""
    results: dict[str, list] = {page: [] for page in PAGES}
    errors: dict[str, int] = dict.fromkeys(PAGES, 0)
    lock = threading.Lock()
    stop_at = time.monotonic() + SECONDS

    def member(session: str, offset: int) -> None:
        rng = random.Random(offset)
        for page in itertools.islice(itertools.cycle(PAGES), offset, None):
            if time.monotonic() >= stop_at:
                return
            path = {
                "contact list": "/contacts/",
                "contact page": f"/contacts/{rng.choice(ids)}/",
                "dashboard": "/",
            }[page]
            try:
                status, seconds = get(port, path, session)
            except OSError:
                status, seconds = 0, 0.0
            with lock:
                if status == 200:
                    results[page].append(seconds)
                else:
                    errors[page] += 1

    threads = [
        threading.Thread(target=member, args=(session, index))
        for index, session in enumerate(sessions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {page: (results[page], errors[page]) for page in PAGES}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="loadtest-"))
    try:
        prepare_environment(tmp)
        sessions, ids = prepare_database(max(LEVELS))
        port = free_port()
        server = start_gunicorn(port)
        try:
            workers = os.environ.get("WEB_CONCURRENCY", "3")
            load = os.getloadavg()[0]
            print(
                f"\ngunicorn -c gunicorn.conf.py, {workers} workers; {SECONDS:.0f} s per level; "
                f"load average {load:.1f} on {os.cpu_count()} CPUs before the run\n"
            )
            print("| users | page | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
            print("|---:|---|---:|---:|---:|---:|---:|---:|")
            failed = 0
            for users in LEVELS:
                level = run_level(port, sessions[:users], ids)
                for page, (times, errors) in level.items():
                    failed += errors
                    if not times:
                        print(f"| {users} | {page} | 0 | 0 | – | – | – | {errors} |")
                        continue
                    ms = [t * 1000 for t in times]
                    print(
                        f"| {users} | {page} | {len(ms)} | {len(ms) / SECONDS:.1f} | "
                        f"{statistics.median(ms):.0f} | {percentile(ms, 0.95):.0f} | "
                        f"{percentile(ms, 0.99):.0f} | {errors} |",
                        flush=True,
                    )
        finally:
            stop(server)
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
