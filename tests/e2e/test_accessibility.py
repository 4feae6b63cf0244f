"""Every page, on a desktop and on a phone, passes our own axe-style check (a11y_check.js):
text at 4.5:1 or more against its background, every field labelled, every button and link
named, and nothing wider than the screen."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import log_in, watch_errors
from tests.live_server import LiveServer
from tests.micronas import EICAR

pytestmark = pytest.mark.e2e
CHECK = (Path(__file__).parent / "a11y_check.js").read_text()
MIN_CONTRAST = 4.5
VIEWPORTS = {"escritorio": (1366, 768), "teléfono": (390, 844)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A demo server with a clean and a blocked file, so every badge and verdict shows."""
    server = LiveServer(tmp_path_factory.mktemp("a11y") / "demo").start()
    uploader = server.session("cliente")
    token = server.csrf_token(uploader, "/files")
    for name, data in (("acta.txt", b"acta\n"), ("eicar.txt", EICAR)):
        answer = uploader.post(f"{server.url}/api/files", files={"file": (name, data)},
                               headers={"X-CSRFToken": token}, timeout=30)
        assert answer.status_code == 201
    yield server
    server.stop()


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A first start in production: its own CA (so /ca shows the full guide) and /setup."""
    server = LiveServer(tmp_path_factory.mktemp("a11y") / "production", tls=True,
                        PICHAT_ENV="production").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin_state(browser: Browser, demo: LiveServer) -> dict:
    """The cookies of an administrator logged in through the form."""
    context = browser.new_context()
    page = context.new_page()
    log_in(page, demo.url, "admin")
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def open_page(request, browser: Browser) -> Iterator[Callable[..., Page]]:
    """Factory: ``open_page(url, storage_state=None)`` in a fresh context of this viewport."""
    width, height = VIEWPORTS[request.param]
    contexts = []

    def open_at(url: str, **options) -> Page:
        contexts.append(browser.new_context(viewport={"width": width, "height": height},
                                            locale="es-ES", **options))
        page = watch_errors(contexts[-1].new_page())
        page.goto(url)
        return page

    yield open_at
    for context in contexts:
        context.close()


def assert_accessible(page: Page, status: int = 200) -> None:
    """The check finds nothing, the page fits its width, and no script or CSP error (but
    the console's note of the page's own `status`)."""
    assert page.evaluate(CHECK, MIN_CONTRAST) == []
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    own_status = f"the server responded with a status of {status} "
    assert [error for error in page.errors if own_status not in error] == []


def test_login_page_with_a_refusal(demo, open_page):
    page = open_page(f"{demo.url}/login")
    page.fill("#username", "admin")
    page.fill("#password", "no-es-la-clave")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_be_visible()
    assert_accessible(page, status=401)


def test_chat_page(demo, admin_state, open_page):
    page = open_page(f"{demo.url}/", storage_state=admin_state)
    expect(page.locator("#connection-status")).to_have_text(re.compile("Conectado"))
    page.fill("#composer-text", "Hola a todos")
    page.click("#composer-send")
    expect(page.locator("#message-list li").last).to_contain_text("Hola a todos")
    assert_accessible(page)


def test_files_page(demo, admin_state, open_page):
    page = open_page(f"{demo.url}/files", storage_state=admin_state)
    expect(page.locator(".file-item .badge-infected")).to_be_visible()
    expect(page.locator(".file-item .badge-clean")).to_be_visible()
    assert_accessible(page)


def test_admin_page(demo, admin_state, open_page):
    page = open_page(f"{demo.url}/admin", storage_state=admin_state)
    expect(page.locator("#live-status")).to_have_text("En vivo")
    expect(page.locator('#users-body tr[data-username="cliente"]')).to_be_visible()
    expect(page.locator("#infected-body .file-name")).to_have_text("eicar.txt")
    expect(page.locator("#audit-body tr").first).not_to_contain_text("Ningún evento")
    assert_accessible(page)


def test_certificate_page(production, open_page):
    page = open_page(f"{production.url}/ca", ignore_https_errors=True)
    expect(page.locator("#ca-fingerprint")).to_be_visible()
    assert_accessible(page)


def test_setup_page(production, open_page):
    link = re.findall(r"https://\S+/setup\?token=[\w-]+", production.log_text())[-1]
    page = open_page(link, ignore_https_errors=True)
    expect(page.locator("#password_again")).to_be_visible()
    assert_accessible(page)
