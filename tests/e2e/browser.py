"""What every browser test does: watch the console and log in through the real form."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.live_server import DEMO_PASSWORDS

TIMEOUT_MS = 10_000


def watch_errors(page: Page) -> Page:
    """Collect console errors and uncaught exceptions on page.errors; bound every wait."""
    page.errors = []
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.set_default_timeout(TIMEOUT_MS)
    return page


def log_in(page: Page, base_url: str, username: str, next_path: str = "/") -> None:
    """Log a demo account in through the form and wait to land on `next_path`."""
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{next_path}", timeout=TIMEOUT_MS)
