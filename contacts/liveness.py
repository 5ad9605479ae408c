"""Is the process applying an import still there?

A running import batch records the process that applies it; recovery
(contacts.services.import_batches_recover) and the batch page ask whether it is gone. Only a
process of this host can be checked: one on another host counts as still there, and its batch
is left to the stall timeout.
"""

import os
import socket
from pathlib import Path


def current_process() -> str:
    """This process as "host:pid:start"."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or ''}"


def process_is_gone(identity: str) -> bool:
    """True when `identity` (from current_process) names a process of this host that has ended."""
    try:
        host, pid_text, started = identity.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    if started:
        # The pid alone is not enough: pids are reused, and a restarted container numbers its
        # processes the same way again, so the new worker may hold the dead one's pid.
        return _start_time(pid) != started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _start_time(pid: int) -> str | None:
    """When a live process started (clock ticks since boot), None when it is not running or is
    a zombie (killed, waiting to be reaped: it commits nothing more)."""
    fields = stat_fields(pid)
    if fields is None or len(fields) < 20 or has_ended(fields):
        return None
    return fields[19]


def stat_fields(pid: int) -> list[str] | None:
    """The fields of Linux's /proc/<pid>/stat after the command name, None when there is no
    such process: [0] its state, [2] its process group, [19] its start time."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces; the fields after it
    # start with the state (field 3).
    return stat.rpartition(")")[2].split()


def has_ended(fields: list[str]) -> bool:
    """Whether stat_fields() describe a process that has ended: a zombie, or dead."""
    return fields[0] in ("Z", "X")
