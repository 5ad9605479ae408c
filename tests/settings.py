"""Settings for the test suite: the product's settings plus test-only speed-ups.

django-q2 reads Q_CLUSTER when it is imported, so queue settings for tests live here rather
than in the `settings` fixture.
"""

import os

# The suite runs the development configuration (the development keys, the LinkedIn sandbox),
# which the settings refuse unless DEBUG is on; it is off by default. A run that sets DEBUG=0
# itself (the benchmarks, with production's values) keeps it. Subprocesses inherit it.
os.environ.setdefault("DEBUG", "1")

from linkedin_crm.settings import *  # noqa: E402, F403
from linkedin_crm.settings import Q_CLUSTER  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# One worker process unless a test's cluster asks for more (tests/integration/).
Q_CLUSTER = {**Q_CLUSTER, "workers": int(os.environ.get("TEST_Q_WORKERS", "1")), "poll": 0.2}

# The integration tests start a real `qcluster` in another process, which must see the test
# database: on SQLite that means a file rather than the default in-memory database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # One file per test run, so that two runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(DATA_DIR / f"test-db-{os.getpid()}.sqlite3")  # noqa: F405
    }

# Sandboxes started by tests keep their state in memory unless a test gives them a file.
LINKEDIN_SANDBOX_STATE = ""

# Tests change data between two requests for the dashboard and expect the change on the page;
# the tests of the shared figures turn the cache on themselves.
DASHBOARD_CACHE_SECONDS = 0
