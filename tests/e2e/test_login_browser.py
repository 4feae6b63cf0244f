"""A real browser logs in through the real form of a real server process, and is told why
a session ended and when it may try again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import TIMEOUT_MS, log_in

pytestmark = pytest.mark.e2e


def test_admin_logs_in_from_a_browser_and_lands_on_home(live_server, page):
    page.goto(f"{live_server.url}/")
    assert "/login" in page.url
    log_in(page, live_server.url, "admin")
    assert page.url == f"{live_server.url}/"
    assert page.locator(".whoami .user").inner_text() == "admin"
    assert page.locator(".whoami .role").inner_text() == "Administrador"
    assert page.errors == []


def test_wrong_password_shows_the_message_and_puts_the_focus_on_the_password(live_server, page):
    log_in(page, live_server.url, "admin", password="not-the-password", refused=True)
    assert "/login" in page.url
    assert "Usuario o contraseña incorrectos." in page.locator("[role=alert]").inner_text()
    expect(page.locator("#password")).to_be_focused()
    expect(page.locator("#username")).to_have_value("admin")


def test_the_navigation_marks_the_current_page(live_server, page):
    log_in(page, live_server.url, "cliente", "/files")
    current = page.locator(".nav a[aria-current=page]")
    expect(current).to_have_text("Archivos")
    expect(page.locator(".nav a")).to_have_text(["Chat", "Archivos"])


def test_logging_out_says_so_on_the_login_page(live_server, page):
    log_in(page, live_server.url, "cliente", "/files")
    page.click(".whoami button.link")
    page.wait_for_url(re.compile(r"/login"))
    expect(page.locator("#login-notice")).to_have_text("Ha cerrado la sesión.")
    assert page.errors == []


def test_a_role_change_sends_the_open_page_to_login_saying_why(live_server, page):
    log_in(page, live_server.url, "usuario", "/files")
    expect(page.locator("#connection-status")).to_have_text("Actualización en vivo")
    admin = live_server.session("admin")
    answer = admin.patch(f"{live_server.url}/api/admin/users/usuario", json={"role": "cliente"},
                         headers={"X-CSRFToken": live_server.csrf_token(admin)}, timeout=10)
    assert answer.status_code == 200
    page.wait_for_url(re.compile(r"/login\?next=/files"), timeout=TIMEOUT_MS)
    expect(page.locator("#login-notice")).to_have_text(
        "Un administrador ha cambiado su rol; vuelva a iniciar sesión.")


def test_a_rate_limited_login_keeps_the_form_and_counts_down(live_server, page):
    http = live_server.client()
    form = http.get(f"{live_server.url}/login", timeout=10)
    for attempt in range(10):
        answer = live_server.post(http, "/login", {"username": f"nadie{attempt}", "password": "x"},
                                  page=form)
        assert answer.status_code == 401
    with page.expect_response(lambda answer: answer.request.method == "POST") as refused:
        log_in(page, live_server.url, "cliente", refused=True)
    assert refused.value.status == 429 and int(refused.value.headers["retry-after"]) > 0
    expect(page.locator("#login-error")).to_contain_text(
        re.compile(r"Demasiadas peticiones desde este equipo\. Inténtelo de nuevo en \d+ s\."))
    first = int(page.locator("#retry-wait").inner_text().split()[0])
    expect(page.locator("#retry-wait")).not_to_have_text(f"{first} s", timeout=3000)
    expect(page.locator("#username")).to_have_value("cliente")


def test_login_page_fits_a_phone_screen(live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.goto(f"{live_server.url}/login")
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert scroll_width <= 390
