"""A dispatcher worker for the integration tests: `python tests/integration/worker_loop.py N`
runs N dispatch ticks (one every TICK_PAUSE seconds) against the database in DATABASE_URL and
the LinkedIn endpoints in the environment, exactly as the django-q2 task would.

With TURNS=1 each tick instead runs a turn (messaging/fan_out.py) for every account with due
messages, as if every earlier turn had been taken for lost: several such workers run turns of
the same account at the same moment, which the marker normally prevents."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from messaging.dispatch import dispatch_tick, due_account_ids  # noqa: E402


def main() -> None:
    if ready := os.environ.get("READY_FILE"):
        # Set up: a test that kills workers counts its delay from here, not from the start of
        # a Python process, which takes seconds on a busy machine.
        Path(ready).touch()
    ticks = int(sys.argv[1])
    pause = float(os.environ.get("TICK_PAUSE", "0"))
    turns = os.environ.get("TURNS") == "1"
    if turns:
        # Only then: the tests that kill workers early count on a quick start.
        from messaging.fan_out import dispatch_turn
    for _ in range(ticks):
        if turns:
            for account_id in due_account_ids(timezone.now()):
                dispatch_turn(account_id, timezone.now())
        else:
            dispatch_tick()
        time.sleep(pause)


if __name__ == "__main__":
    main()
