"""What every browser test uses: Debian's chromium, a watched page, and the one browser login.

A pytest plugin of tests/conftest.py: the `browser` and `page` fixtures are defined here.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.login_form import password_for
from tests.services import require_service

TIMEOUT_MS = 10_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def watch_errors(page: Page) -> Page:
    """Collect console errors and uncaught exceptions on page.errors; bound every wait."""
    page.errors = []
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.set_default_timeout(TIMEOUT_MS)
    return page


def log_in(page: Page, base_url: str, username: str, next_path: str = "/", *,
           password: str | None = None, refused: bool = False) -> None:
    """Log in through the form (a demo account unless `password` is given) and wait to land
    on `next_path`, or, when `refused`, for the form's alert."""
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", password_for(username, password))
    page.click("button[type=submit]")
    if refused:
        expect(page.locator("[role=alert]")).to_be_visible(timeout=TIMEOUT_MS)
    else:
        page.wait_for_url(f"{base_url}{next_path}", timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Callable[..., Browser]]:
    """Launch Debian's chromium through Playwright (never a downloaded browser).

    One Playwright per session (its sync API allows one per thread); each call starts a
    browser with the usual flags plus `args`, and `env` for its process (e.g. a HOME
    whose NSS database trusts a CA).
    """
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        require_service("chromium not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    launched: list[Browser] = []
    with sync_playwright() as playwright:

        def launch(args: list[str] | None = None, env: dict[str, str] | None = None) -> Browser:
            launched.append(playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS + (args or []),
                env=env,
            ))
            return launched[-1]

        yield launch
        for instance in launched:
            instance.close()


@pytest.fixture(scope="session")
def browser(chromium: Callable[..., Browser]) -> Browser:
    """The session's shared browser."""
    return chromium()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context and page; console errors are collected on page.errors."""
    context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="es-ES")
    yield watch_errors(context.new_page())
    context.close()
