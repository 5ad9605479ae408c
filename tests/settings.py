"""Settings for the test suite: the product's settings plus test-only speed-ups.

django-q2 reads Q_CLUSTER when it is imported, so queue settings for tests live here rather
than in the `settings` fixture.
"""

from linkedin_crm.settings import *  # noqa: F403
from linkedin_crm.settings import Q_CLUSTER

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
Q_CLUSTER = {**Q_CLUSTER, "workers": 1, "poll": 0.2}
