"""A dispatcher worker for the integration tests: `python tests/integration/worker_loop.py N`
runs N dispatch ticks (one every TICK_PAUSE seconds) against the database in DATABASE_URL and
the LinkedIn endpoints in the environment, exactly as the django-q2 task would."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from messaging.dispatch import dispatch_tick  # noqa: E402


def main() -> None:
    ticks = int(sys.argv[1])
    pause = float(os.environ.get("TICK_PAUSE", "0"))
    for _ in range(ticks):
        dispatch_tick()
        time.sleep(pause)


if __name__ == "__main__":
    main()
