"""Take the README's screenshots of the product with the first-run demo loaded.

`make screenshots` runs this: a throwaway data folder, `seed_demo --full` (with its own LinkedIn
sandbox), the development web server on a free port, and Debian's Chromium driven by Playwright.
It writes docs/screenshots/<name>.png and never touches data/.
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


def tour(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username or e-mail").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(f"{base}/")  # without the "signed in" notice
    shoot(page, "dashboard")

    page.goto(f"{base}/contacts/?q=m%C3%BCller")
    shoot(page, "contacts")

    page.goto(f"{base}/contacts/?stage=replied")
    page.locator("table.contacts tbody tr td:nth-child(2) a").first.click()
    shoot(page, "contact")

    page.goto(f"{base}/imports/")
    shoot(page, "imports")

    # A bulk message to three contacts: previews, the linter's check and the forecast.
    page.goto(f"{base}/contacts/?stage=lead&has_profile_url=true")
    for checkbox in page.locator("table.contacts tbody input[type=checkbox]").all()[:3]:
        checkbox.check()
    page.get_by_role("button", name="Message…").click()
    page.get_by_label("Start from a template").select_option(index=1)
    page.get_by_label("Send from").select_option(index=1)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#forecast")).to_be_visible()
    shoot(page, "compose")

    page.goto(f"{base}/outbox/")
    shoot(page, "outbox")

    page.goto(f"{base}/campaigns/")
    shoot(page, "campaigns")
    page.get_by_role("link", name="Engineering leaders: intro").click()
    shoot(page, "campaign-results", full_page=True)

    page.goto(f"{base}/messages/?status=uncertain")
    shoot(page, "messages-uncertain")

    page.goto(f"{base}/linkedin-accounts/")
    shoot(page, "linkedin-accounts")

    page.set_viewport_size(PHONE)
    page.goto(f"{base}/")
    shoot(page, "dashboard-phone")


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
