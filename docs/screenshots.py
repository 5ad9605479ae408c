"""Take screenshots of every page of the product, at 1280 and 390 px, with the first-run demo
loaded (the README's tour shows some of them).

`make screenshots` runs this: a throwaway data folder, `seed_demo --full` (with its own LinkedIn
sandbox), the development web server on a free port, and Debian's Chromium driven by Playwright.
It writes docs/screenshots/<name>.png and <name>-phone.png and never touches data/.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERNAME, PASSWORD = "screenshots", "Screenshots & demo 2026"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


@contextmanager
def web_server(port: int, env: dict):
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("The web server did not start.") from None
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def shoot(page: Page, name: str, *, full_page: bool = False) -> None:
    page.wait_for_load_state("networkidle")
    path = OUT / f"{name}.png"
    page.screenshot(path=path, full_page=full_page)
    print(f"  {path.relative_to(ROOT)}")


def first_link(page: Page, selector: str) -> str:
    """The address of the first link `selector` finds on the page (a demo object's page)."""
    return page.locator(selector).first.get_attribute("href")


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username or e-mail").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def compose(page: Page, base: str) -> None:
    """A bulk message to three contacts: previews, the linter's check and the forecast."""
    page.goto(f"{base}/contacts/?stage=lead&has_profile_url=true")
    for checkbox in page.locator("table.contacts tbody input[type=checkbox]").all()[:3]:
        checkbox.check()
    page.get_by_role("button", name="Message…").click()
    page.get_by_label("Start from a template").select_option(index=1)
    page.get_by_label("Send from").select_option(index=1)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#forecast")).to_be_visible()


def demo_pages(page: Page, base: str) -> list[tuple[str, str]]:
    """(name, address) of every page, the demo's objects found through the lists."""
    page.goto(f"{base}/contacts/?stage=replied")
    contact = first_link(page, "table.contacts tbody tr td:nth-child(2) a")
    page.goto(f"{base}/imports/")
    batch = first_link(page, "main table a[href^='/imports/']")
    page.goto(f"{base}/messages/?status=uncertain")
    message = first_link(page, "main table a[href^='/messages/']")
    page.goto(f"{base}/messages/templates/")
    template = first_link(
        page, "main a[href^='/messages/templates/'][href$='/']:not([href$='/new/'])"
    )
    page.goto(f"{base}/campaigns/")
    campaign = page.get_by_role("link", name="Engineering leaders: intro").get_attribute("href")
    page.goto(f"{base}/linkedin-accounts/")
    account = first_link(page, "main a[href^='/linkedin-accounts/'][href$='/']")
    return [
        ("dashboard", "/"),
        ("contacts", "/contacts/?q=m%C3%BCller"),
        ("board", "/contacts/board/"),
        ("contact", contact),
        ("contact-timeline", f"{contact}timeline/"),
        ("contact-edit", f"{contact}edit/"),
        ("contact-message", f"{contact}message/"),
        ("contact-export-data", f"{contact}export-data/"),
        ("contact-erase", f"{contact}erase/"),
        ("contact-delete", f"{contact}delete/"),
        ("contact-new", "/contacts/new/"),
        ("contacts-export", "/contacts/export/?stage=lead"),
        ("duplicates", "/contacts/duplicates/"),
        ("imports", "/imports/"),
        ("import", batch),
        ("messages-import", "/imports/messages/"),
        ("outbox", "/outbox/"),
        ("messages-uncertain", "/messages/?status=uncertain"),
        ("message", message),
        ("templates", "/messages/templates/"),
        ("template-edit", template),
        ("template-new", "/messages/templates/new/"),
        ("campaigns", "/campaigns/"),
        ("campaign-results", campaign),
        ("campaign-edit", f"{campaign}edit/"),
        ("linkedin-accounts", "/linkedin-accounts/"),
        ("linkedin-account", account),
        ("linkedin-account-disconnect", f"{account}disconnect/"),
        ("team", "/team/"),
        ("audit-log", "/audit/"),
    ]


def tour(page: Page, base: str) -> None:
    """Every page at 1280 px (<name>.png), then again at 390 px (<name>-phone.png)."""
    sign_in(page, base)
    pages = demo_pages(page, base)
    for width, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        page.set_viewport_size(width)
        for name, address in pages:
            page.goto(f"{base}{address}")
            shoot(page, name + suffix, full_page=name == "campaign-results" and not suffix)
        compose(page, base)
        shoot(page, "compose" + suffix)
    page.context.clear_cookies()
    for width, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        page.set_viewport_size(width)
        page.goto(f"{base}/accounts/login/")
        shoot(page, "login" + suffix)


def main() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit(f"Chromium not found at {CHROMIUM} (apt-get install chromium).")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crm-screenshots-") as data_dir:
        env = {
            key: value
            for key, value in os.environ.items()
            # Nothing from the shell may point the throwaway run at real data or another app.
            if key not in {"DATABASE_URL", "REDIS_URL", "DATA_DIR"}
            and not key.startswith("LINKEDIN_")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="linkedin_crm.settings",
            DATA_DIR=data_dir,
            DEBUG="1",
            LINKEDIN_SANDBOX="1",
            LINKEDIN_SANDBOX_URL=f"http://127.0.0.1:{free_port()}",
            DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        )
        print("Loading the demo into a throwaway database…")
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("seed_demo", "--full", "--start-sandbox", "-v", "0", env=env)
        manage("createsuperuser", "--noinput", "--username", USERNAME, "--email", "", env=env)
        with web_server(free_port(), env) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=DESKTOP)
            page.set_default_timeout(15_000)
            print("Screenshots:")
            try:
                tour(page, base)
            except Exception:
                failed = Path(tempfile.gettempdir()) / "crm-screenshots-failed.png"
                page.screenshot(path=failed, full_page=True)
                print(f"Stopped on {page.url}; the page is in {failed}")
                raise
            finally:
                browser.close()


if __name__ == "__main__":
    main()
