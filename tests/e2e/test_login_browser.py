"""A real browser logs in through the real form of a real server process."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_admin_logs_in_from_a_browser_and_lands_on_home(live_server, page):
    page.goto(f"{live_server.url}/")
    assert "/login" in page.url
    page.fill("#username", "admin")
    page.fill("#password", "admin123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(".whoami .user").inner_text() == "admin"
    assert page.locator(".whoami .role").inner_text() == "administrator"
    assert page.errors == []


def test_wrong_password_shows_the_message_on_the_form(live_server, page):
    page.goto(f"{live_server.url}/login")
    page.fill("#username", "admin")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    assert "Usuario o contraseña incorrectos." in page.locator("[role=alert]").inner_text()


def test_login_page_fits_a_phone_screen(live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.goto(f"{live_server.url}/login")
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert scroll_width <= 390
