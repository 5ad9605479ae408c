"""Telling whether the process that applies an import is still there."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from contacts import liveness

ROOT = Path(__file__).resolve().parents[2]


def test_it_knows_this_process_is_alive():
    identity = liveness.current_process()
    host, pid, started = identity.rsplit(":", 2)
    assert (host, int(pid)) == (socket.gethostname(), os.getpid()) and started
    assert not liveness.process_is_gone(identity)


def test_it_knows_a_process_that_ended_is_gone():
    child = subprocess.run(
        [sys.executable, "-c", "from contacts.liveness import current_process as c; print(c())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert liveness.process_is_gone(child.stdout.strip())


def test_a_reused_pid_does_not_pass_for_the_process_that_died():
    assert liveness.process_is_gone(f"{socket.gethostname()}:{os.getpid()}:1")


def test_what_it_cannot_check_counts_as_alive():
    assert not liveness.process_is_gone(f"another-host:{os.getpid()}:1")
    assert not liveness.process_is_gone("")
    assert not liveness.process_is_gone("garbage")
