"""Development code stays out of production.

The LinkedIn sandbox (messaging/sandbox/) mints tokens for anyone who asks, and the demo
(linkedin_crm/demo/) invents people: only their commands (`linkedin_sandbox`, `seed_demo`) and
the tests may load them. The product's modules are imported here as a production process loads
them (the production settings, DEBUG off) in a fresh interpreter: this one has long since
imported the sandbox for other tests.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.test_docs import settings_variables

ROOT = Path(__file__).resolve().parent.parent
APPS = ("contacts", "messaging", "campaigns", "linkedin_crm")
DEVELOPMENT_PACKAGES = ("messaging.sandbox", "linkedin_crm.demo")
# The commands that are development code's only way in from the product's packages.
DEVELOPMENT = (
    *DEVELOPMENT_PACKAGES,
    "messaging.management.commands.linkedin_sandbox",
    "linkedin_crm.management.commands.seed_demo",
)

# The child's opening: the production settings, and which development modules it loaded.
SETUP = """
import json, sys

import django

django.setup()


def development_loaded(packages):
    return sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in packages))
"""

# Import every module of the apps but development code, and load the URLconf.
IMPORT_EVERYTHING = (
    SETUP
    + """
import importlib, pkgutil

from django.urls import get_resolver

apps, development, packages = (json.loads(arg) for arg in sys.argv[1:])
imported = []


def import_all(package_name):
    package = importlib.import_module(package_name)
    for info in pkgutil.iter_modules(package.__path__, package_name + "."):
        if any(info.name == d or info.name.startswith(d + ".") for d in development):
            continue
        importlib.import_module(info.name)
        imported.append(info.name)
        if info.ispkg:
            import_all(info.name)


for app in apps:
    import_all(app)
get_resolver().url_patterns  # the project's URLconf and every app's it includes
print(json.dumps({"imported": imported, "loaded": development_loaded(packages)}))
"""
)

REFUSE_THE_SANDBOX = (
    SETUP
    + """
from django.core.management import call_command
from django.core.management.base import CommandError

refusal = None
try:
    call_command("linkedin_sandbox", "--port", "0")
except CommandError as exc:
    refusal = str(exc)
print(json.dumps({"refusal": refusal, "loaded": development_loaded(["messaging.sandbox"])}))
"""
)


def is_development(module: str) -> bool:
    return any(module == d or module.startswith(d + ".") for d in DEVELOPMENT)


def run_in_production(script: str, *args: str, tmp_path: Path) -> dict:
    # Nothing of this process's configuration (the tests' settings, DEBUG=1): only production's.
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in settings_variables() and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "linkedin_crm.settings",
        "DEBUG": "0",
        "SECRET_KEY": "layout-test-" + "x" * 50,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "ALLOWED_HOSTS": "x",
        "DATA_DIR": str(tmp_path),
        # A LinkedIn app configured, so the sign-in provider and its views load too.
        "LINKEDIN_CLIENT_ID": "client-id",
        "LINKEDIN_CLIENT_SECRET": "client-secret",
    }
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_it_never_loads_development_code_in_production(tmp_path):
    args = (json.dumps(APPS), json.dumps(DEVELOPMENT), json.dumps(DEVELOPMENT_PACKAGES))
    report = run_in_production(IMPORT_EVERYTHING, *args, tmp_path=tmp_path)
    assert report["loaded"] == []
    # It did import the product: the client, pages, tasks, the admin, the production commands.
    for module in (
        "messaging.linkedin",
        "messaging.views",
        "messaging.tasks",
        "messaging.dispatch",
        "messaging.management.commands.process_messages",
        "contacts.admin",
        "campaigns.services",
        "linkedin_crm.urls",
    ):
        assert module in report["imported"]
    assert not [m for m in report["imported"] if is_development(m)]


def test_it_refuses_to_run_the_sandbox_in_production_without_loading_it(tmp_path):
    report = run_in_production(REFUSE_THE_SANDBOX, tmp_path=tmp_path)
    assert "must never run in production" in report["refusal"]
    assert report["loaded"] == []


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("app", APPS)
def test_it_finds_no_production_module_importing_development_code_lazily(app):
    # The subprocess sees what loads at import time; an import inside a view would load the
    # sandbox only when the view runs.
    offenders = []
    for path in sorted((ROOT / app).rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if is_development(module):
            continue
        found = [
            name
            for name in imports_of(path)
            if any(name == p or name.startswith(p + ".") for p in DEVELOPMENT_PACKAGES)
        ]
        if found:
            offenders.append((module, sorted(found)))
    assert offenders == []
