import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from linkedin_crm.settings import env_bool, env_int, env_list
from tests.test_docs import settings_variables

ROOT = Path(__file__).resolve().parents[2]


def test_env_bool_reads_common_spellings(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "0")
    assert env_bool("FLAG", True) is False
    monkeypatch.setenv("FLAG", "")
    assert env_bool("FLAG", True) is True


def test_env_bool_fails_loudly_on_nonsense(monkeypatch):
    monkeypatch.setenv("FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be a boolean"):
        env_bool("FLAG")


def test_env_int_validates(monkeypatch):
    monkeypatch.setenv("N", "12")
    assert env_int("N", 1) == 12
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("N", 5, minimum=1)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example, b.example ,,")
    assert env_list("HOSTS") == ["a.example", "b.example"]


# Every variable the settings read: a subprocess gets only what its test gives it, nothing from
# the shell (nor the DEBUG=1 that tests/settings.py sets).
OURS = set(settings_variables())


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in OURS}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "linkedin_crm.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _check(env: dict) -> subprocess.CompletedProcess:
    return _run(["manage.py", "check"], env)


def _setup(env: dict) -> subprocess.CompletedProcess:
    """Only what loading the settings decides, without the system checks."""
    return _run(["-c", "import django; django.setup()"], env)


def _setting(name: str, env: dict) -> str:
    code = (
        f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    )
    result = _run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_refuses_the_default_secret_key(tmp_path):
    result = _check({"DEBUG": "0", "ALLOWED_HOSTS": "crm.example", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "crm.example",
    "FIELD_ENCRYPTION_KEYS": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
}


def test_it_refuses_the_development_key_when_debug_is_unset(tmp_path):
    # A production process started without DEBUG is a production process: it must not run on
    # the public development key (nor the token encryption key derived from it).
    result = _setup({"ALLOWED_HOSTS": "crm.example", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert "for development, set it" in result.stderr


def test_it_runs_on_the_development_key_only_with_debug_on(tmp_path):
    assert _setup({"DEBUG": "1", "DATA_DIR": str(tmp_path)}).returncode == 0


@pytest.mark.parametrize("debug,key", [("0", ""), ("0", " "), ("1", "")])
def test_it_refuses_an_empty_secret_key(tmp_path, debug, key):
    result = _setup({**PRODUCTION, "DEBUG": debug, "SECRET_KEY": key, "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY is set but empty" in result.stderr


def test_it_refuses_to_print_e_mails_to_the_log_unless_told_to(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "EMAIL_BACKEND"}
    result = _setup({**env, "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "EMAIL_BACKEND must be set when DEBUG is off" in result.stderr
    assert "password-reset links included" in result.stderr
    console = "django.core.mail.backends.console.EmailBackend"
    assert _setup({**env, "EMAIL_BACKEND": console, "DATA_DIR": str(tmp_path)}).returncode == 0


def test_it_prints_e_mails_to_the_console_in_development(tmp_path):
    backend = _setting("EMAIL_BACKEND", {"DEBUG": "1", "DATA_DIR": str(tmp_path)})
    assert backend == "django.core.mail.backends.console.EmailBackend"


def test_production_starts_with_a_real_secret_key_and_an_encryption_key(tmp_path):
    result = _check({**PRODUCTION, "DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_an_encryption_key(tmp_path):
    result = _check({**PRODUCTION, "FIELD_ENCRYPTION_KEYS": "", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off" in result.stderr


def test_a_malformed_encryption_key_stops_the_start(tmp_path):
    result = _check({"DEBUG": "1", "FIELD_ENCRYPTION_KEYS": "not-a-key", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0 and "not a Fernet key" in result.stderr


def test_the_sandbox_never_runs_with_debug_off(tmp_path):
    result = _check({**PRODUCTION, "LINKEDIN_SANDBOX": "1", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0 and "LINKEDIN_SANDBOX is for development" in result.stderr


def test_a_malformed_setting_stops_the_start(tmp_path):
    result = _check({"DEBUG": "1", "Q_WORKERS": "many", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0 and "Q_WORKERS must be a whole number" in result.stderr


def test_the_reaper_never_runs_ahead_of_a_running_send(tmp_path):
    # A send may run as long as the worker's task timeout (120 s); a reaper timeout below it
    # could call a send in flight uncertain, and a person could then send it again.
    development = {"DEBUG": "1", "DATA_DIR": str(tmp_path)}
    result = _check({**development, "MESSAGE_SENDING_TIMEOUT_SECONDS": "60"})
    assert result.returncode != 0
    assert "MESSAGE_SENDING_TIMEOUT_SECONDS must be at least 150, got 60" in result.stderr
    assert _check({**development, "MESSAGE_SENDING_TIMEOUT_SECONDS": "150"}).returncode == 0


def test_it_counts_sign_in_attempts_in_a_cache_every_process_shares(tmp_path):
    development = {"DEBUG": "1", "DATA_DIR": str(tmp_path)}
    backend = "CACHES['default']['BACKEND']"
    assert _setting(backend, development) == "django.core.cache.backends.db.DatabaseCache"
    with_redis = {**development, "REDIS_URL": "redis://127.0.0.1:6379/0"}
    assert _setting(backend, with_redis) == "django.core.cache.backends.redis.RedisCache"
    assert _setting("ALLAUTH_TRUSTED_PROXY_COUNT", development) == "0"
    trusted = {**development, "TRUSTED_PROXY_COUNT": "1"}
    assert _setting("ALLAUTH_TRUSTED_PROXY_COUNT", trusted) == "1"


def test_it_sends_plain_http_to_https_in_production_unless_http_is_allowed(tmp_path):
    production = {**PRODUCTION, "DATA_DIR": str(tmp_path)}
    assert _setting("SECURE_SSL_REDIRECT", production) == "True"
    assert _setting("SECURE_SSL_REDIRECT", {**production, "SECURE_COOKIES": "0"}) == "False"
    assert _setting("SECURE_HSTS_SECONDS", production) == "0"


def test_production_keeps_database_connections_and_checks_them_before_reuse(tmp_path):
    production = {**PRODUCTION, "DATA_DIR": str(tmp_path)}
    conn = "DATABASES['default']['{}']"
    assert _setting(conn.format("CONN_MAX_AGE"), production) == "60"
    assert _setting(conn.format("CONN_HEALTH_CHECKS"), production) == "True"
    assert _setting(conn.format("CONN_MAX_AGE"), {**production, "DB_CONN_MAX_AGE": "0"}) == "0"
    development = {"DEBUG": "1", "DATA_DIR": str(tmp_path)}
    assert _setting(conn.format("CONN_MAX_AGE"), development) == "0"


def test_the_dashboard_cache_takes_seconds_or_zero(tmp_path):
    development = {"DEBUG": "1", "DATA_DIR": str(tmp_path)}
    assert _setting("DASHBOARD_CACHE_SECONDS", development) == "30"
    assert (
        _setting("DASHBOARD_CACHE_SECONDS", {**development, "DASHBOARD_CACHE_SECONDS": "0"}) == "0"
    )
    result = _check({**development, "DASHBOARD_CACHE_SECONDS": "-5"})
    assert result.returncode != 0
    assert "DASHBOARD_CACHE_SECONDS must be at least 0, got -5" in result.stderr
