"""django-allauth's limits on failed sign-ins count per real client, behind the proxy too, and
in a cache every web process shares."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

from tests.contacts.factories import UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
# Per address only, and small, so that a test reaches it quickly and a per-username count
# cannot be what stops the attempt.
THREE_PER_ADDRESS = {"login_failed": "3/m/ip"}


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(db):
    return UserFactory(username="alice", is_staff=True)


def behind_proxy(forwarded_for: str) -> Client:
    # What the proxy passes on: its own address as REMOTE_ADDR, the client's appended to
    # X-Forwarded-For (nginx's $proxy_add_x_forwarded_for).
    return Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)


def sign_in(client: Client, password: str) -> bool:
    response = client.post("/accounts/login/", {"login": "alice", "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


def fail_until_refused(client: Client) -> int:
    failures = 0
    while True:
        response = client.post("/accounts/login/", {"login": "alice", "password": "wrong"})
        if b"Too many failed login attempts" in response.content:
            return failures
        failures += 1
        assert failures < 20, "no limit"


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1, ACCOUNT_RATE_LIMITS=THREE_PER_ADDRESS)
def test_it_limits_each_client_behind_the_proxy_on_its_own(member):
    attacker = behind_proxy("198.51.100.7")
    assert fail_until_refused(attacker) == 3
    assert not sign_in(attacker, PASSWORD)
    # A forged first entry changes nothing: the proxy appended the real address last.
    assert not sign_in(behind_proxy("203.0.113.9, 198.51.100.7"), PASSWORD)
    assert sign_in(behind_proxy("203.0.113.9"), PASSWORD)


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=0, ACCOUNT_RATE_LIMITS=THREE_PER_ADDRESS)
def test_it_counts_everyone_as_the_proxy_when_no_proxy_is_trusted(member):
    # Without TRUSTED_PROXY_COUNT the header is ignored (a client could write anything in it),
    # and behind a proxy one person's failures lock the whole team out.
    assert fail_until_refused(behind_proxy("198.51.100.7")) == 3
    assert not sign_in(behind_proxy("203.0.113.9"), PASSWORD)


def test_it_keeps_the_count_in_the_database_for_every_process(member):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    # Two clients from one address, as two gunicorn workers would see them: allauth's limit of
    # 5 failures for one username holds for both together.
    first, second = Client(), Client()
    for _ in range(3):
        assert not sign_in(first, "wrong")
    assert fail_until_refused(second) == 2
    assert not sign_in(first, PASSWORD)
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM django_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any("allauth:rl:allauth.account:login_failed" in key for key in keys)


def test_it_creates_the_cache_table_on_migrate_whatever_the_cache(tmp_path):
    # Made with Redis configured too (nothing connects to it here), so that dropping REDIS_URL
    # later does not find the table missing.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "linkedin_crm.settings",
        "DEBUG": "1",
        "DATA_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:9/0",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "django_cache" in tables
