"""Run the performance benchmarks: `make bench`, or `python tests/perf/run.py [name ...]`.

A benchmark is a module `tests/perf/bench_<name>.py` with `main() -> bool` that prints a table
and returns True when every case is within budget (see tests/perf/README.md). Each one runs in
its own Python process, so each sets up Django with its own throwaway database. The exit status
is non-zero when any benchmark is over budget or fails.

This module also holds the set-up every benchmark shares: `setup_django()`.
"""

import atexit
import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PERF_DIR = Path(__file__).resolve().parent
ROOT = PERF_DIR.parent.parent
OVER_BUDGET = 3  # exit status of a benchmark process whose main() returned False

CHILD = """
import sys
from tests.perf.bench_{name} import main
sys.exit(0 if main() is True else {over})
"""


def available() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in PERF_DIR.glob("bench_*.py"))


def setup_django(label: str = "bench", *, debug: bool = False) -> Path:
    """Point Django at a fresh database in a new temporary directory, set it up and migrate.

    SQLite by default, whatever DATABASE_URL says: the budgets are SQLite budgets and a
    benchmark must never touch the developer's data/db.sqlite3. BENCH_DATABASE_URL points the
    benchmark at another database (e.g. an empty throwaway PostgreSQL database) instead.

    DEBUG is off, as in production (no template debug data, no query log), with throwaway
    values for the settings production requires; `debug=True` (for a benchmark that needs a
    development-only setting) or BENCH_DEBUG=1 keeps the environment's DEBUG instead.
    Returns the temporary directory (DATA_DIR), removed at exit unless BENCH_KEEP=1.
    """
    tmp = Path(tempfile.mkdtemp(prefix=f"{label}-"))
    if os.environ.get("BENCH_KEEP") != "1":
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        # Terminated (run.py interrupted): exit normally, so that the directory is removed.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    # Settings read these at import, so they must be set before django.setup().
    os.environ["DATA_DIR"] = str(tmp)
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{tmp / 'bench.sqlite3'}"
    )
    os.environ.pop("STATIC_ROOT", None)
    production_like = not debug and os.environ.get("BENCH_DEBUG") != "1"
    if production_like:
        os.environ.update(
            DEBUG="0",
            SECRET_KEY=f"bench-only-{os.urandom(16).hex()}",
            FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
            ALLOWED_HOSTS="testserver",
            SECURE_COOKIES="0",
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))

    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:
        if production_like:
            raise ImproperlyConfigured(
                f"{error}\n(tests/perf/run.py runs benchmarks with DEBUG off: give this setting "
                "a throwaway value in setup_django(), or pass debug=True.)"
            ) from error
        raise

    from django.core.management import call_command
    from django.db import connection

    if os.environ.get("BENCH_DATABASE_URL") and connection.introspection.table_names():
        sys.exit(
            "BENCH_DATABASE_URL must name an empty, throwaway database: the benchmark migrates "
            "it and fills it with invented contacts."
        )
    call_command("migrate", interactive=False, verbosity=0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Database: {database_description(connection)}, DEBUG={_debug()}, data in {tmp}; "
        f"load average {load:.1f} on {os.cpu_count()} CPUs (timings are only comparable on "
        "an otherwise idle machine)"
    )
    return tmp


def database_description(connection) -> str:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("select sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
    return f"{connection.display_name} {'.'.join(map(str, connection.get_database_version()))}"


def _debug() -> bool:
    from django.conf import settings

    return settings.DEBUG


def run(name: str) -> int:
    started = time.monotonic()
    print(f"\n## bench_{name}\n", flush=True)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(name=name, over=OVER_BUDGET)], cwd=ROOT
    )
    try:
        code = child.wait()
    finally:  # interrupted (Ctrl-C, `timeout`): do not leave the benchmark running
        if child.poll() is None:
            child.terminate()
            child.wait()
    outcome = {0: "within budget", OVER_BUDGET: "OVER BUDGET"}.get(code, f"FAILED (exit {code})")
    print(f"\nbench_{name}: {outcome} ({time.monotonic() - started:.0f} s)", flush=True)
    return code


def main(argv: list[str]) -> int:
    names = available()
    wanted = [arg.removeprefix("bench_").removesuffix(".py") for arg in argv] or names
    unknown = [name for name in wanted if name not in names]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Available: {', '.join(names)}")
        return 2
    results = {name: run(name) for name in wanted}
    failed = [name for name, code in results.items() if code != 0]
    if failed:
        print(f"\nOver budget or failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    sys.exit(main(sys.argv[1:]))
