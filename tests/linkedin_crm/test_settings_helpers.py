import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from linkedin_crm.settings import env_bool, env_int, env_list

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


def _check(env: dict) -> subprocess.CompletedProcess:
    ours = ("DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "LINKEDIN_SANDBOX")
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "linkedin_crm.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_the_default_secret_key(tmp_path):
    result = _check({"DEBUG": "0", "ALLOWED_HOSTS": "crm.example", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "crm.example",
    "FIELD_ENCRYPTION_KEYS": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
}


def test_production_starts_with_a_real_secret_key_and_an_encryption_key(tmp_path):
    result = _check({**PRODUCTION, "DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_an_encryption_key(tmp_path):
    result = _check({**PRODUCTION, "FIELD_ENCRYPTION_KEYS": "", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off" in result.stderr


def test_a_malformed_encryption_key_stops_the_start(tmp_path):
    result = _check({"FIELD_ENCRYPTION_KEYS": "not-a-key", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0 and "not a Fernet key" in result.stderr


def test_the_sandbox_never_runs_with_debug_off(tmp_path):
    result = _check({**PRODUCTION, "LINKEDIN_SANDBOX": "1", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0 and "LINKEDIN_SANDBOX is for development" in result.stderr


def test_a_malformed_setting_stops_the_start(tmp_path):
    result = _check({"Q_WORKERS": "many", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0 and "Q_WORKERS must be a whole number" in result.stderr


def test_the_reaper_never_runs_ahead_of_a_running_send(tmp_path):
    # A send may run as long as the worker's task timeout (120 s); a reaper timeout below it
    # could call a send in flight uncertain, and a person could then send it again.
    result = _check({"MESSAGE_SENDING_TIMEOUT_SECONDS": "60", "DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "MESSAGE_SENDING_TIMEOUT_SECONDS must be at least 150, got 60" in result.stderr
    assert (
        _check({"MESSAGE_SENDING_TIMEOUT_SECONDS": "150", "DATA_DIR": str(tmp_path)}).returncode
        == 0
    )
