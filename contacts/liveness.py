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
    """When a live process started (clock ticks since boot, from Linux's /proc), None when it
    is not running or is a zombie (killed, waiting to be reaped: it commits nothing more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces; the fields after it
    # start with the state (field 3), and field 22 is the start time.
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]
