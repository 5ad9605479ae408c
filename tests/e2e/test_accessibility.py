"""Accessibility and weight by measure, on every page at a desktop and a phone width.

Walks the project's URL patterns as tests/test_url_access.py does (so a new page is checked
without anyone adding it here), plus the sign-in pages, and in each page:
- runs axe-core (vendored: tests/e2e/vendor/axe-core/README.md) and fails on any serious or
  critical violation;
- sums the CSS and JavaScript the page loads (at most 150 KB uncompressed);
- sums its layout shifts while loading (none).
"""

from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from contacts.models import Contact
from tests import test_url_access
from tests.contacts.factories import ContactFactory, TagFactory
from tests.e2e.conftest import STAFF_USERNAME
from tests.test_url_access import _our_patterns, _url

objects = test_url_access.objects

AXE = (Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js").read_text()
WIDTHS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
MAX_ASSET_BYTES = 150 * 1024
MAX_LAYOUT_SHIFT = 0.01  # "no layout shift": Chromium reports sub-pixel noise on some pages
SIGNED_OUT_PAGES = ["/accounts/login/", "/accounts/password/reset/"]

# axe's rules at WCAG 2.1 A and AA and its best practices, as Deque's own tools run them.
RUN_AXE = """async () => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"],
  });
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      where: v.nodes.slice(0, 3).map(
        (n) => n.target.join(" ") + " — " + n.failureSummary.split("\\n")[1]
      ),
    }));
}"""

# The layout shifts so far (buffered: those before this script ran too), without the ones a
# person's own input caused.
LAYOUT_SHIFT = """() => new Promise((resolve) => {
  let total = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  });
  observer.observe({type: "layout-shift", buffered: true});
  setTimeout(() => { observer.disconnect(); resolve(total); }, 200);
})"""


def staff_pages(objects, user) -> list[str]:
    """Every HTML page a staff member can open: the URL walk's routes but the POST-only actions
    (their 405 page is checked once), the redirects and the htmx fragments (parts of a page
    checked in it)."""
    client = Client()
    client.force_login(user)
    urls = []
    for route, _ in _our_patterns():
        url = _url(route, objects)
        response = client.get(url)
        if (
            response.status_code == 200
            and response.content.lstrip()[:15].lower() == b"<!doctype html>"
        ):
            urls.append(url)
    return urls


def check_page(page: Page, url: str) -> list[str]:
    """What is wrong with the page at `url`, in words."""
    assets = []

    def record(response):
        # A redirect has no body; what it leads to is recorded on its own.
        if response.request.resource_type in ("stylesheet", "script") and response.ok:
            assets.append(response)

    page.on("response", record)
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    page.remove_listener("response", record)
    problems = []
    if response is None or response.status >= 500:
        return [f"{url}: status {response.status if response else 'none'}"]
    weight = sum(len(asset.body()) for asset in assets)
    if weight > MAX_ASSET_BYTES:
        problems.append(f"{url}: {weight:,} bytes of CSS and JavaScript")
    shift = page.evaluate(LAYOUT_SHIFT)
    if shift > MAX_LAYOUT_SHIFT:
        problems.append(f"{url}: layout shift {shift:.3f} while loading")
    # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not
    # govern: the policy stays as in production and axe is never served.
    page.evaluate(AXE + "\n;0")
    for violation in page.evaluate(RUN_AXE):
        problems.append(
            f"{page.url} [{violation['impact']}] {violation['id']}: {violation['help']}\n      "
            + "\n      ".join(violation["where"])
        )
    return problems


@pytest.fixture
def everything(objects, staff_user):
    """The URL walk's objects, plus a board with a few cards, seen by a superuser (the
    permission pages too)."""
    staff_user.is_superuser = True
    staff_user.save()
    ContactFactory(stage="meeting", do_not_contact=True, tags=[TagFactory(name="VIP")])
    return objects


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_is_accessible_light_and_steady(
    width, page: Page, live_server, everything, staff_user
):
    page.set_viewport_size(WIDTHS[width])
    problems = []
    for url in SIGNED_OUT_PAGES:
        problems += check_page(page, live_server.url + url)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or e-mail").fill(staff_user.username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    urls = staff_pages(everything, staff_user)
    assert "/contacts/board/" in urls and len(urls) > 30
    # A page that only answers a POST, and a missing one.
    urls += [f"/contacts/board/{everything['contact'].pk}/stage/", "/no-such-page/"]
    for url in urls:
        problems += check_page(page, live_server.url + url)
    assert not problems, f"{len(problems)} problems at {width} width:\n" + "\n".join(problems)


def tab_to(page: Page, name: str, *, limit: int = 60) -> None:
    """Press Tab until the element named `name` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return (e.getAttribute('aria-label') || e.innerText || e.value || '').trim(); }"
        )
        if focused == name:
            return
    raise AssertionError(f"“{name}” is not reachable with Tab")


def test_key_actions_work_from_the_keyboard_alone(logged_in_page: Page):
    page = logged_in_page  # on the contact list
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    # Add a contact: Tab to the button, Enter, type, Enter submits.
    tab_to(page, "Add contact")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("contact")
    page.get_by_label("First name").focus()
    page.keyboard.type("Kay")
    page.keyboard.press("Tab")
    page.keyboard.type("Board")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Added Kay Board.")).to_be_visible()
    kay = Contact.objects.get(first_name="Kay", last_name="Board")

    # Set its stage on its page: the menu, then Tab to "Set stage" and Enter.
    menu = page.get_by_role("combobox", name="Stage", exact=True)
    menu.focus()
    menu.select_option("meeting")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Stage set to “Meeting”.")).to_be_visible()
    kay.refresh_from_db()
    assert kay.stage == "meeting"

    # Sign out, from the person's menu.
    tab_to(page, f"{STAFF_USERNAME}: account menu")
    page.keyboard.press("Enter")
    tab_to(page, "Sign out")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/accounts/" in page.url
