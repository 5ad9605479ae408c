"""A real django-q2 cluster (`manage.py qcluster`) in its own process, against the test
database, for the tests that must see background work happen as it does in production."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from contacts import liveness

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    settings = connection.settings_dict
    if settings["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or ""
    auth = f"{user}:{settings['PASSWORD']}@" if settings["PASSWORD"] else f"{user}@"
    port = settings["PORT"] or 5432
    return f"postgres://{auth}{settings['HOST'] or '127.0.0.1'}:{port}/{settings['NAME']}"


@pytest.fixture
def qcluster_env(tmp_path) -> dict:
    """Extra environment for the cluster; a test may add to it before requesting `qcluster`."""
    return {}


@pytest.fixture
def start_qcluster(transactional_db, tmp_path, qcluster_env):
    """Start `manage.py qcluster` on the test database, as often as a test needs (a restart);
    every cluster still running is stopped after the test."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = tmp_path / f"qcluster-{len(started) + 1}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": _database_url(),
            "DATA_DIR": str(tmp_path),
            **qcluster_env,
        }
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own process group, so that the cluster and its workers stop together.
                start_new_session=True,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        stop_qcluster(process)


@pytest.fixture
def qcluster(start_qcluster):
    """A `manage.py qcluster` on the test database, stopped after the test."""
    return start_qcluster()


def stop_qcluster(process: subprocess.Popen) -> None:
    """Stop a cluster as Ctrl-C would, then by force; one killed already is left as it is."""
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:
        process.wait()
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        kill_process_group(process)


def kill_process_group(process: subprocess.Popen) -> None:
    """SIGKILL a cluster (or worker) started in its own process group, and return once every
    process of the group has ended.

    Waiting for the group's leader is not enough: the signal reaches its children at the same
    time, but a child finishing a disk write, or freeing a large import's memory, lives a moment
    longer. A test that looks at what the dead worker left (its batch, its liveness) must look
    after that moment, or it races the kernel.
    """
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    wait_for(
        lambda: not _live_members(process.pid),
        timeout=30,
        interval=0.02,
        what=f"process group {process.pid} to end",
    )


def _live_members(group: int) -> list[int]:
    """The processes of a process group that have not ended (zombies have: they run nothing)."""
    members = []
    for proc in Path("/proc").glob("[0-9]*"):
        fields = liveness.stat_fields(int(proc.name))
        if fields and int(fields[2]) == group and not liveness.has_ended(fields):
            members.append(int(proc.name))
    return members


def wait_for(condition, *, timeout: float = 60, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def worker_env(sandbox, tmp_path) -> dict:
    """The environment of a worker process: the test database, the sandbox as LinkedIn."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
        "DATA_DIR": str(tmp_path),
        "LINKEDIN_SANDBOX": "1",
        "LINKEDIN_SANDBOX_URL": sandbox.base_url,
        "LINKEDIN_READ_TIMEOUT": "5",
    }


def start_worker(
    ticks: int, env: dict, *, pause: float = 0.0, turns: bool = False
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "integration" / "worker_loop.py"), str(ticks)],
        cwd=ROOT,
        env={**env, "TICK_PAUSE": str(pause), "TURNS": "1" if turns else ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def processes_talking_to(port: int, *, group: int) -> list[int]:
    """The processes of a process group that have a TCP connection open to `port` on this
    machine, from /proc (Linux): a worker with a request in flight to the sandbox."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                remote_port, state, inode = (
                    int(fields[2].rsplit(":", 1)[1], 16),
                    fields[3],
                    fields[9],
                )
                if remote_port == port and state == "01":  # ESTABLISHED
                    inodes.add(f"socket:[{inode}]")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != group:
                continue
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                found.append(int(entry.name))
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue  # gone meanwhile
    return found
