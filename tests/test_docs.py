"""The configuration docs cannot drift from the code.

linkedin_crm/settings.py is parsed (not imported, so no environment is needed) for every
variable it reads through its env_* helpers or os.environ; README.md's "Configuration" tables and
.env.example must list each one, list nothing that nothing reads, and agree with the literal
defaults in the code.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "linkedin_crm" / "settings.py"
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"

HELPERS = {"env_str", "env_bool", "env_int", "env_list"}
ENVIRON_CALLS = {"os.environ.get", "os.getenv"}
# Documented in README's configuration section but read outside the settings: where.
READ_ELSEWHERE = {
    "PORT": "Procfile",
    "WEB_CONCURRENCY": "gunicorn.conf.py",
    "DJANGO_SETTINGS_MODULE": "manage.py",
    "CI": "tests/e2e/conftest.py",
    "CHROMIUM_PATH": "tests/e2e/conftest.py",
}
NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")
ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def settings_variables() -> dict[str, tuple[str, object]]:
    """Variable → (how it is read, its literal default or None)."""
    found: dict[str, tuple[str, object]] = {}
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if isinstance(node, ast.Call):
            called = _dotted(node.func)
            if called not in HELPERS | ENVIRON_CALLS or not node.args:
                continue
            name = _string(node.args[0])  # the helpers' own os.environ.get(name) reads a variable
            if name is None:
                continue
            default = node.args[1] if len(node.args) > 1 else None
            literal = default.value if isinstance(default, ast.Constant) else None
            found[name] = (called, literal)
        elif isinstance(node, ast.Subscript) and _dotted(node.value) == "os.environ":
            name = _string(node.slice)
            if name:
                found[name] = ("os.environ", None)
    return found


def readme_configuration_rows() -> dict[str, list[str]]:
    """Variable → the cells of its row, from every table in README's Configuration section."""
    text = README.read_text()
    start = text.index("\n## Configuration\n")
    end = text.find("\n## ", start + 1)
    rows: dict[str, list[str]] = {}
    for line in text[start : end if end > 0 else None].splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        for name in NAME.findall(cells[0]):
            rows[name] = cells
    return rows


def env_example_values() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = ENV_LINE.match(line)
        if match:
            values[match[1]] = match[2].strip()
    return values


def _as_env(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def test_it_finds_the_settings_variables():
    # A guard for the parser itself: a refactor of settings.py that hid the calls from it would
    # otherwise make every other test here pass vacuously.
    found = settings_variables()
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "Q_WORKERS", "REDIS_URL"} <= set(found)
    assert len(found) >= 30


def test_it_lists_every_settings_variable_in_the_readme():
    missing = sorted(set(settings_variables()) - set(readme_configuration_rows()))
    assert not missing, f"README.md's Configuration table lacks {missing}"


def test_it_lists_every_settings_variable_in_env_example():
    missing = sorted(set(settings_variables()) - set(env_example_values()))
    assert not missing, f".env.example lacks {missing}"


def test_it_documents_no_variable_that_nothing_reads():
    read = set(settings_variables())
    stale = sorted(set(env_example_values()) - read)
    assert not stale, f".env.example lists {stale}, which linkedin_crm/settings.py does not read"
    stale = sorted(set(readme_configuration_rows()) - read - set(READ_ELSEWHERE))
    assert not stale, f"README.md documents {stale}, which nothing reads"
    for name, path in READ_ELSEWHERE.items():
        assert name in (ROOT / path).read_text(), f"{path} no longer reads {name}"


def test_it_states_the_literal_defaults_of_the_code():
    readme, example = readme_configuration_rows(), env_example_values()
    for name, (_, default) in settings_variables().items():
        if default is None or default == "" or name not in readme or name not in example:
            continue  # computed in the code, empty, or missing (reported above)
        value = _as_env(default)
        assert f"`{value}`" in readme[name][1], f"README.md: {name} defaults to {value}"
        assert example[name] == value, f".env.example: {name} defaults to {value}"


def test_the_architecture_shows_the_state_machine_the_code_runs():
    from messaging.transitions import mermaid

    page = (ROOT / "docs" / "architecture.md").read_text()
    assert f"```mermaid\n{mermaid()}\n```" in page, (
        "docs/architecture.md's message state diagram is not transitions.mermaid()'s: paste it"
    )
