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


def recipe_environment() -> dict[str, str]:
    """The `export NAME=value` lines of the recipe's first shell block."""
    section = production_section()
    block = section[section.index("```sh\n") :].split("\n```", 1)[0]
    env = {}
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("export "):
            for assignment in line.removeprefix("export ").split():
                name, _, value = assignment.partition("=")
                env[name] = value
    return env


def test_it_reads_the_recipe():
    env = recipe_environment()
    assert env["DEBUG"] == "0" and env["TRUSTED_PROXY_COUNT"] == "1"
    assert "EMAIL_BACKEND" in env and "SECRET_KEY" in env


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
