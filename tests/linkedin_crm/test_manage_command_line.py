"""`manage.py` in an empty environment (a fresh clone, a CI step): production's settings refuse
to start without their secrets, and the command line says so in one line rather than failing
later with Django's "Models aren't loaded yet"; the migrations check needs no secret and runs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Only what a bare shell has: no DEBUG, SECRET_KEY, DATABASE_URL or settings module.
    bare = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=bare,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", [["migrate"], ["check"], ["createsuperuser", "--noinput"]])
def test_a_command_that_needs_the_settings_says_what_is_missing(command):
    result = manage(*command)
    assert result.returncode == 1
    assert result.stderr.startswith("manage.py: SECRET_KEY must be set when DEBUG is off.")
    assert "Traceback" not in result.stderr
    assert "Models aren't loaded yet" not in result.stderr


def test_the_migrations_check_runs_without_any_setting(tmp_path):
    result = manage("makemigrations", "--check", "--dry-run", DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_an_explicit_debug_off_is_kept_even_for_the_migrations_check():
    result = manage("makemigrations", "--check", "--dry-run", DEBUG="0")
    assert result.returncode == 1
    assert "SECRET_KEY must be set" in result.stderr


def test_help_needs_no_settings():
    result = manage("help")
    assert result.returncode == 0, result.stderr
    assert "Available subcommands" in result.stdout
