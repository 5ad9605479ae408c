"""Importing a 30,000-row LinkedIn export (current format), against a raw floor.

Cases, each the median of BENCH_IMPORT_REPEAT runs (default 3):

- (a) floor: stdlib `csv` parse of the same bytes + `bulk_create` of the contacts (with
  `refresh_derived_fields()`, since a real import must fill the search columns too) and of their
  connections in the default network, batch_size 1000, in one transaction; no import-export.
- (b) `services.import_file` into an empty contacts table.
- (c) the identical file again: every row unchanged.
- (d) a file where 500 rows changed company or position: 500 updated, the rest unchanged.
- (e) the wizard's path on an empty table: `import_preview` + `import_confirm` (in-process,
  IMPORT_ASYNC_ROWS raised), and the preview alone.

Budget on SQLite: (b) <= 2.0x (a), (c) <= 1.0x (a), (d) <= 1.2x (a), (e) <= 1.3x (b), and a peak
RSS of at most 200 MB for every case. A ratio must hold both in wall-clock time and in CPU time
(which a busy machine disturbs less: there, a slow floor run alone could pass an import).

Every run happens in a forked child of the benchmark process, so each case's peak RSS is its
own: what the child inherits (Django, the app and the file's bytes, as any worker holding an
upload has) plus what the case adds. The files are made in a child too, so the benchmark
process stays as small as a fresh worker.

(c) and (d) run on the database (b) leaves: re-importing the identical file changes no contact,
and before each (d) run the original file is imported again (untimed), so the changed file
always differs from the database by exactly 500 rows. Counts are checked after every run.

Run with `make bench` or `python tests/perf/run.py import`. BENCH_IMPORT_ROWS (default 30000),
BENCH_IMPORT_CHANGED (500), BENCH_IMPORT_REPEAT (3); BENCH_PROFILE=1 adds a profile of one more
run of (b), (c) and (d) (pyinstrument if installed, else cProfile, which inflates the times).
"""

import csv
import io
import multiprocessing
import os
import random
import re
import resource
import statistics
import sys
import time
import traceback
import unicodedata
from datetime import date, datetime
from pathlib import Path

if __name__ == "__main__":  # run directly: python tests/perf/bench_import.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.run import setup_django

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", 30_000))
CHANGED = int(os.environ.get("BENCH_IMPORT_CHANGED", 500))
REPEAT = int(os.environ.get("BENCH_IMPORT_REPEAT", 3))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
BUDGET_RSS_MB = 200.0
BUDGET = {"import": 2.0, "reimport": 1.0, "changed": 1.2, "wizard": 1.3}
EXPORT_DAY = date(2026, 1, 5)

HEADER = ["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"]
NOTE = (
    '"When exporting your connection data, you may notice that some of the email addresses are '
    "missing. You will only see email addresses for connections who have allowed their "
    "connections to see or download their email address using this setting "
    'https://www.linkedin.com/psettings/privacy/email"'
)
PREAMBLE = ["Notes:", NOTE, ""]


# --- the file ----------------------------------------------------------------------------------


def _ascii_email(first: str, last: str, index: int) -> str:
    """An e-mail Django's validator accepts (the slugs of fake_people may be non-ASCII)."""
    text = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    local = re.sub(r"[^a-z0-9]+", ".", text.lower()).strip(".") or "member"
    return f"{local}.{index}@example.com"


def make_rows(count: int) -> list[list[str]]:
    """The cells of an export: invented people, unique canonical URLs, ~5% e-mails."""
    from contacts.identity import canonical_profile_url
    from linkedin_crm.demo.people import fake_people

    rows = []
    for index, person in enumerate(fake_people(count, seed=7, today=EXPORT_DAY)):
        url = person["profile_url"]
        if canonical_profile_url(url) != url:
            raise RuntimeError(f"fake_people made a non-canonical URL: {url}")
        email = person["email"] and _ascii_email(person["first_name"], person["last_name"], index)
        rows.append(
            [
                person["first_name"],
                person["last_name"],
                url,
                email,
                person["company"],
                person["position"],
                person["connected_on"].strftime("%d %b %Y"),  # 05 Jan 2026 (C locale)
            ]
        )
    return rows


def change_rows(rows: list[list[str]], count: int) -> list[list[str]]:
    """A copy of the rows where `count` people changed company (half) or position (half)."""
    from linkedin_crm.demo.people import COMPANIES, POSITIONS

    rng = random.Random(11)
    changed = [list(row) for row in rows]
    # Only rows with both cells filled: a blank cell never erases a stored value, so changing a
    # blank one could not be undone by re-importing the original file.
    filled = [index for index, row in enumerate(rows) if row[4] and row[5]]
    for n, index in enumerate(sorted(rng.sample(filled, count))):
        column, choices = (4, COMPANIES) if n % 2 == 0 else (5, POSITIONS)
        changed[index][column] = rng.choice([c for c in choices if c != rows[index][column]])
    return changed


def to_export(rows: list[list[str]]) -> bytes:
    """LinkedIn's current Connections.csv: a 3-line note, the header, LF, no final newline."""
    out = io.StringIO(newline="")
    out.write("\n".join(PREAMBLE) + "\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().removesuffix("\n").encode("utf-8")


def make_files(count: int, changes: int) -> dict:
    started = time.perf_counter()
    rows = make_rows(count)
    return {
        "original": to_export(rows),
        "changed": to_export(change_rows(rows, changes)),
        "seconds": time.perf_counter() - started,
    }


# --- running a case in a forked child ----------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def current_rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


class Clock:
    """Wall-clock and CPU seconds of a block (CPU time is less disturbed by a busy machine)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _child(send, fn, args):
    from django.db import connections

    try:
        outcome = fn(*args)
        outcome["rss_mb"] = peak_rss_mb()
        send.send(("ok", outcome))
    except BaseException:
        send.send(("error", traceback.format_exc()))
    finally:
        connections.close_all()
        send.close()


def in_child(fn, *args) -> dict:
    """Run fn(*args) in a forked child; return its dict plus the child's peak RSS ("rss_mb").

    A forked child starts with the parent's resident pages, so its peak is the parent's
    footprint plus what the case adds. It leaves with os._exit: no atexit (temp dir) handlers.
    """
    from django.db import connections

    connections.close_all()  # a connection must not be shared across fork
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, fn, args))
    process.start()
    send.close()
    try:
        status, value = receive.recv()
    except EOFError:
        status, value = "error", "the child process died without an answer"
    process.join()
    if status != "ok":
        raise RuntimeError(f"{getattr(fn, '__name__', fn)} failed in the child:\n{value}")
    return value


def profiled(fn, *args) -> dict:
    try:
        from pyinstrument import Profiler
    except ImportError:
        Profiler = None
    if Profiler is not None:
        profiler = Profiler(interval=0.001)
        profiler.start()
        outcome = fn(*args)
        profiler.stop()
        outcome["profile"] = profiler.output_text(unicode=False, color=False)
        return outcome
    import cProfile
    import pstats

    profile = cProfile.Profile()
    outcome = profile.runcall(fn, *args)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)
    outcome["profile"] = out.getvalue()
    return outcome


# --- database state ----------------------------------------------------------------------------


def wipe() -> None:
    """Empty the contacts and import tables (raw DELETEs, children first), keeping the user and
    the network, and compact an SQLite file so every run starts from the same layout."""
    from django.db import connection

    from contacts.models import (
        Connection,
        Contact,
        ContactAlias,
        ImportBatch,
        ImportChange,
        MergeLog,
        Note,
    )

    tables = [
        ImportChange,
        Connection,
        Contact.tags.through,
        ContactAlias,
        Note,
        MergeLog,
        Contact,
        ImportBatch.tags.through,
        ImportBatch,
    ]
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
        if connection.vendor == "sqlite":
            cursor.execute("VACUUM")
    if Contact.objects.exists() or Connection.objects.exists():
        raise RuntimeError("The contacts table is not empty after the wipe.")


# --- the cases (each runs in a child) ----------------------------------------------------------


def run_floor(data: bytes, network_id: int) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from contacts.models import Connection, Contact

    with Clock() as clock:
        text = data.decode("utf-8")
        body = text.split("\n", len(PREAMBLE))[len(PREAMBLE)]  # skip the note
        reader = csv.reader(io.StringIO(body, newline=""))
        if next(reader) != HEADER:
            raise RuntimeError("Unexpected header")
        dates: dict[str, date] = {}  # memoised, as the reader's date parser is
        now = timezone.now()
        contacts, connected = [], []
        for first, last, url, email, company, position, connected_on in reader:
            contact = Contact(
                first_name=first,
                last_name=last,
                profile_url=url or None,
                email=email,
                company=company,
                position=position,
                created_at=now,
            )
            contact.refresh_derived_fields()
            contacts.append(contact)
            day = dates.get(connected_on)
            if day is None and connected_on:
                day = dates[connected_on] = datetime.strptime(connected_on, "%d %b %Y").date()
            connected.append(day)
        with transaction.atomic():
            Contact.objects.bulk_create(contacts, batch_size=1000)
            Connection.objects.bulk_create(
                [
                    Connection(contact_id=contact.pk, network_id=network_id, connected_on=day)
                    for contact, day in zip(contacts, connected, strict=True)
                ],
                batch_size=1000,
            )
    count = Contact.objects.count()
    if count != len(contacts) or Connection.objects.count() != len(contacts):
        raise RuntimeError(f"The floor wrote {count} contacts, expected {len(contacts)}")
    return {"seconds": clock.wall, "cpu": clock.cpu}


def _check(batch, expect: dict) -> None:
    """The batch's counts, and the database: every row a contact with a connection in the
    network, and one undo record per updated contact."""
    from contacts.models import Connection, Contact

    got = {name: getattr(batch, name) for name in expect}
    got["contacts"] = Contact.objects.count()
    got["connections"] = Connection.objects.filter(network_id=batch.network_id).count()
    got["undo records"] = batch.changes.count()
    wanted = {**expect, "contacts": ROWS, "connections": ROWS, "undo records": expect["updated"]}
    if batch.status != "done" or got != wanted:
        raise AssertionError(
            f"Import {batch.file_name}: status {batch.status}, counts {got}, expected {wanted} "
            f"({batch.failure or 'no failure'})"
        )


def run_import(data: bytes, name: str, user_id: int, network_id: int, expect: dict) -> dict:
    from django.contrib.auth import get_user_model

    from contacts import services
    from contacts.models import Network

    user = get_user_model().objects.get(pk=user_id)
    network = Network.objects.get(pk=network_id)
    with Clock() as clock:
        batch = services.import_file(data=data, file_name=name, user=user, network=network)
    _check(batch, expect)
    return {"seconds": clock.wall, "cpu": clock.cpu}


def run_wizard(data: bytes, name: str, user_id: int, network_id: int, expect: dict) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from contacts import services
    from contacts.models import Network

    settings.IMPORT_ASYNC_ROWS = 10**9  # confirm in-process, not through the queue
    user = get_user_model().objects.get(pk=user_id)
    network = Network.objects.get(pk=network_id)
    with Clock() as clock:
        with Clock() as preview:
            batch = services.import_preview(data=data, file_name=name, user=user, network=network)
        batch = services.import_confirm(batch=batch, actor=user)
    _check(batch, expect)
    return {
        "seconds": clock.wall,
        "cpu": clock.cpu,
        "preview_seconds": preview.wall,
        "preview_cpu": preview.cpu,
    }


# --- the benchmark -----------------------------------------------------------------------------


def main() -> bool:
    os.environ["IMPORT_ASYNC_ROWS"] = str(10**9)  # read by the settings at setup
    setup_django("bench-import")

    from django.conf import settings
    from django.contrib.auth import get_user_model

    import contacts.services  # noqa: F401  (imported once here, not in every child)
    from contacts.models import Network

    settings.IMPORT_ASYNC_ROWS = 10**9
    user = get_user_model().objects.create_user(
        "bench", "bench@example.com", "unused-password", is_staff=True
    )
    network = Network.objects.default_for(user)
    ids = (user.pk, network.pk)
    baseline = current_rss_mb()

    files = in_child(make_files, ROWS, CHANGED)
    original, changed = files["original"], files["changed"]
    print(
        f"Generated a {ROWS:,}-row current-format export of {len(original) / 2**20:.2f} MB "
        f"({files['seconds']:.1f} s), and a copy with {CHANGED} rows changed."
    )
    print(
        f"RSS of the benchmark process: {baseline:.0f} MB after Django set-up, "
        f"{current_rss_mb():.0f} MB with both files; every case runs in a child forked from it."
    )

    new = {"created": ROWS, "updated": 0, "unchanged": 0}
    same = {"created": 0, "updated": 0, "unchanged": ROWS}
    some = {"created": 0, "updated": CHANGED, "unchanged": ROWS - CHANGED}
    runs: dict[str, list[dict]] = {
        key: [] for key in ("floor", "import", "reimport", "changed", "wizard")
    }

    for _ in range(REPEAT):
        wipe()
        runs["floor"].append(in_child(run_floor, original, network.pk))
    for _ in range(REPEAT):
        wipe()
        runs["import"].append(in_child(run_import, original, "import.csv", *ids, new))
    # The state (b) left stays: re-importing the same file changes no contact.
    for _ in range(REPEAT):
        runs["reimport"].append(in_child(run_import, original, "again.csv", *ids, same))
    for n in range(REPEAT):
        # Untimed: put the original values back, so the changed file differs from the database.
        in_child(run_import, original, "restore.csv", *ids, same if n == 0 else some)
        runs["changed"].append(in_child(run_import, changed, "changed.csv", *ids, some))
    for _ in range(REPEAT):
        wipe()
        runs["wizard"].append(in_child(run_wizard, original, "wizard.csv", *ids, new))

    profiles = {}
    if PROFILE:
        wipe()
        profiles["(b)"] = in_child(profiled, run_import, original, "p.csv", *ids, new)
        profiles["(c)"] = in_child(profiled, run_import, original, "p.csv", *ids, same)
        profiles["(d)"] = in_child(profiled, run_import, changed, "p.csv", *ids, some)
    wipe()

    def median(key: str, field: str = "seconds") -> float:
        return statistics.median(run[field] for run in runs[key])

    # (label, runs, time field, base runs, budget, base name)
    table = [
        ("(a) floor: csv + bulk_create", "floor", "", "floor", None, "floor"),
        ("(b) import, empty database", "import", "", "floor", BUDGET["import"], "floor"),
        ("(c) re-import, identical", "reimport", "", "floor", BUDGET["reimport"], "floor"),
        (f"(d) re-import, {CHANGED} changed", "changed", "", "floor", BUDGET["changed"], "floor"),
        ("(e) wizard: preview + confirm", "wizard", "", "import", BUDGET["wizard"], "(b)"),
        ("(e) wizard: preview alone", "wizard", "preview_", "import", None, "(b)"),
    ]

    print(
        f"\nImporting {ROWS:,} rows, median of {REPEAT} runs per case; ratio to the floor (the "
        "wizard to (b)) in wall-clock time, and in CPU time, which a busy machine disturbs less:"
        "\na case is within budget when both are. The floor fills the search columns too "
        "(refresh_derived_fields on every contact), as a real import must. Peak RSS budget: "
        f"{BUDGET_RSS_MB:.0f} MB.\n"
    )
    print("| case | median s | rows/s | ratio | budget | peak RSS MB | verdict |")
    print("|---|---:|---:|---:|---:|---:|---|")
    ok = True
    for label, key, prefix, base, budget, base_name in table:
        seconds = median(key, prefix + "seconds")
        ratio = seconds / median(base, "seconds")
        cpu_ratio = median(key, prefix + "cpu") / median(base, "cpu")
        rss = max(run["rss_mb"] for run in runs[key])
        problems = []
        if budget is not None and max(ratio, cpu_ratio) > budget:
            problems.append("time")
        if rss > BUDGET_RSS_MB:
            problems.append("RSS")
        ok = ok and not problems
        verdict = "OK" if not problems else "OVER (" + ", ".join(problems) + ")"
        budget_text = f"<= {budget:.1f}x {base_name}" if budget is not None else "-"
        print(
            f"| {label} | {seconds:.2f} | {ROWS / seconds:,.0f} | {ratio:.2f}x {base_name} "
            f"(CPU {cpu_ratio:.2f}x) | {budget_text} | {rss:.0f} | {verdict} |"
        )
    print("\nEvery run, wall s (CPU s):")
    for key, values in runs.items():
        times = ", ".join(f"{run['seconds']:.2f} ({run['cpu']:.2f})" for run in values)
        print(f"- {key}: {times}")
    for label, outcome in profiles.items():
        print(f"\n### Profile of {label} ({outcome['seconds']:.2f} s under the profiler)\n")
        print(outcome["profile"])
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
