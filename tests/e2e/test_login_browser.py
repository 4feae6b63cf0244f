"""A real browser logs in through the real form of a real server process."""

from __future__ import annotations

import pytest

from tests.e2e.browser import log_in

pytestmark = pytest.mark.e2e


def test_admin_logs_in_from_a_browser_and_lands_on_home(live_server, page):
    page.goto(f"{live_server.url}/")
    assert "/login" in page.url
    log_in(page, live_server.url, "admin")
    assert page.url == f"{live_server.url}/"
    assert page.locator(".whoami .user").inner_text() == "admin"
    assert page.locator(".whoami .role").inner_text() == "administrator"
    assert page.errors == []


def test_wrong_password_shows_the_message_on_the_form(live_server, page):
    log_in(page, live_server.url, "admin", password="not-the-password", refused=True)
    assert "/login" in page.url
    assert "Usuario o contraseña incorrectos." in page.locator("[role=alert]").inner_text()


def test_login_page_fits_a_phone_screen(live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.goto(f"{live_server.url}/login")
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert scroll_width <= 390
