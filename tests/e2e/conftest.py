"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Every test in this directory is marked `browser`. When Chromium is missing the tests are
skipped, except under CI=true, where they fail: a CI run must not pass without them.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.contacts.factories import UserFactory

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MISSING_CHROMIUM = f"Chromium not found at {CHROMIUM_PATH}"
SKIP_REASON = f"{MISSING_CHROMIUM}: browser tests skipped (install Debian's chromium package)"
FAIL_REASON = (
    f"{MISSING_CHROMIUM}: browser tests are required when CI=true "
    "(install Debian's chromium package)"
)

STAFF_USERNAME = "e2e-staff"
STAFF_PASSWORD = "Tr0ub4dor & 3 e2e"


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _chromium_available() -> bool:
    return os.path.isfile(CHROMIUM_PATH) and os.access(CHROMIUM_PATH, os.X_OK)


class ChromiumMissing(pytest.Item):
    """Stands in for a browser test under CI=true when Chromium is missing, so the run reports
    the test as FAILED with the reason, instead of erroring while launching a browser."""

    def runtest(self):
        pytest.fail(FAIL_REASON, pytrace=False)

    def reportinfo(self):
        return self.path, None, self.name


def pytest_collection_modifyitems(config, items):
    # A conftest's collection hook sees every collected item, so keep to this directory.
    for index, item in enumerate(items):
        if E2E_DIR not in Path(item.path).resolve().parents:
            continue
        if not _chromium_available():
            if _ci():
                item = items[index] = ChromiumMissing.from_parent(item.parent, name=item.name)
            else:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))
        item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _django_orm_under_playwright():
    """Playwright's sync API keeps an asyncio loop running in this thread from the start of
    the `playwright` fixture until the end of the session, and Django's ORM refuses to run
    while a loop is running. Set up before `playwright` (autouse), torn down after it, so it
    also covers the tests that run after these in the same session."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options (--headed, --slowmo) plus Debian's Chromium: the
    browser Playwright would download is not available here."""
    return {
        "headless": True,
        **browser_type_launch_args,
        "executable_path": CHROMIUM_PATH,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def context(context):
    """pytest-playwright's browser context, failing the test when any of its pages reports a
    Content-Security-Policy violation: a page whose script, style or form the policy refuses
    works differently in a browser than the server-side tests (tests/test_csp.py) can see."""
    violations = []

    def record(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", record)
    yield context
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def page(context, request):
    """pytest-playwright's page, with a screenshot of its last state saved for every test,
    passed or failed, to test-results/screenshots/<test name>.png (test-results is
    pytest-playwright's --output folder, emptied at the start of each session)."""
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    folder = Path(request.config.getoption("--output")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
    try:
        page.screenshot(path=folder / f"{name}.png", full_page=True, timeout=5_000)
    except Exception as error:  # an artefact must not hide the test's own result
        print(f"Could not save a screenshot for {request.node.nodeid}: {error}")


@pytest.fixture
def e2e_staff_user(transactional_db):
    return UserFactory(
        username=STAFF_USERNAME,
        password=STAFF_PASSWORD,
        is_staff=True,
        first_name="Erin",
        last_name="Endtoend",
    )


@pytest.fixture
def logged_in_page(page, live_server, e2e_staff_user):
    """A page signed in as a staff member through the real allauth sign-in form, which lands on
    the dashboard; then on the contact list, where the journeys start."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or e-mail").fill(STAFF_USERNAME)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.locator(".whoami")).to_have_text(STAFF_USERNAME)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Contacts", exact=True).click()
    expect(page).to_have_url(re.compile(r"/contacts/$"))
    return page


@pytest.fixture
def linkedin_tabs(context):
    """The profiles "Copy and open" opens, answered by a stub page (tests never reach the
    network); every tab opened is kept, and closed."""
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.route(
        "https://www.linkedin.com/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>Profile</p>"),
    )
    opened = []

    def keep(tab):
        opened.append(tab.url)
        tab.close()

    context.on("page", keep)
    return opened
