"""`manage.py check --deploy` on README's production recipe warns about nothing that README
does not explain."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from tests.test_docs import settings_variables

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# The warnings README's "Going to production" explains, and why they stay.
EXPLAINED = {
    "security.W005": "HSTS for every subdomain is the domain owner's decision",
    "security.W021": "HSTS preloading is the domain owner's decision",
}


def production_section() -> str:
    text = README.read_text()
    start = text.index("\n## Going to production\n")
    return text[start : text.index("\n## ", start + 1)]


def recipe_file_lines() -> list[str]:
    """The lines of the recipe's `/etc/crm.env` block."""
    section = production_section()
    start = section.index("```sh\n# /etc/crm.env\n")
    return section[start:].split("\n", 1)[1].split("\n```", 1)[0].splitlines()


def recipe_environment() -> dict[str, str]:
    """The settings of `/etc/crm.env` as systemd's EnvironmentFile= reads them."""
    env = {}
    for line in recipe_file_lines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def test_it_reads_the_recipe():
    env = recipe_environment()
    assert env["DEBUG"] == "0" and env["TRUSTED_PROXY_COUNT"] == "1"
    assert "EMAIL_BACKEND" in env and "SECRET_KEY" in env


def test_the_recipe_means_the_same_to_systemd_and_to_the_shell():
    """systemd keeps a comment after a value as part of it (`1  # the proxy`), reads no `export`
    line, and strips quotes that the shell would treat otherwise; the shell that sources the file
    for the commands must see exactly what the services get."""
    for line in recipe_file_lines():
        if not line.strip() or line.startswith("#"):
            continue
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*=[^\s#'\"$`\\]*", line), line


def test_it_warns_only_about_what_the_readme_explains(tmp_path):
    env = recipe_environment()
    # The recipe's placeholders, filled as its comments say; a throwaway SQLite database
    # instead of its PostgreSQL (the check does not connect to it).
    fill = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LINKEDIN_CLIENT_ID": "client-id",
        "LINKEDIN_CLIENT_SECRET": "client-secret",
    }
    env.update({name: value for name, value in fill.items() if "…" in env[name]})
    assert not [name for name, value in env.items() if "…" in value]
    # Nothing from this process's environment: only the recipe's settings count.
    # Nor what other tests set in this process (the browser tests allow async-unsafe ORM use).
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in settings_variables() and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={
            **clean,
            **env,
            "DJANGO_SETTINGS_MODULE": "linkedin_crm.settings",
            "DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = set(re.findall(r"\((\w+\.[A-Z]\d+)\)", result.stdout + result.stderr))
    assert found == set(EXPLAINED), result.stderr
    section = production_section()
    for warning in found:
        assert f"`{warning}`" in section, f"README.md does not explain {warning}"
