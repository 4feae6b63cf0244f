"""The admin panel in a real browser against a real server process."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import TIMEOUT_MS, log_in

pytestmark = pytest.mark.e2e

def user_row(tab, username: str):
    return tab.locator(f'#users-body tr[data-username="{username}"]')


def test_disabled_user_is_sent_to_login_in_the_other_browser(live_server, page, browser):
    other = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-ES")
    try:
        victim = other.new_page()
        log_in(victim, live_server.url, "usuario")
        log_in(page, live_server.url, "admin", "/admin")
        page.on("dialog", lambda dialog: dialog.accept())
        user_row(page, "usuario").locator("button[data-action=disable]").click()
        expect(user_row(page, "usuario")).to_contain_text("Desactivada", timeout=TIMEOUT_MS)
        # A new tab of the same browser: its next navigation, whatever the chat tab does meanwhile.
        next_visit = other.new_page()
        next_visit.goto(f"{live_server.url}/")
        next_visit.wait_for_url(re.compile(r"/login"), timeout=TIMEOUT_MS)
        expect(next_visit.locator("#username")).to_be_visible()
    finally:
        other.close()
    assert page.errors == []


def test_admin_creates_a_user_through_the_form_and_sees_it(live_server, page):
    log_in(page, live_server.url, "admin", "/admin")
    page.fill("#new-username", "lucia")
    page.fill("#new-password", "caballo-bateria-grapa")
    page.select_option("#new-role", "cliente")
    page.click("#create-user-form button[type=submit]")
    row = user_row(page, "lucia")
    expect(row).to_be_visible(timeout=TIMEOUT_MS)
    expect(row.locator("select")).to_have_value("cliente")
    expect(page.locator("#users-message")).to_contain_text("lucia")
    assert page.errors == []


def test_admin_panel_fits_a_phone_screen(live_server, browser):
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-ES")
    try:
        tab = phone.new_page()
        log_in(tab, live_server.url, "admin", "/admin")
        expect(user_row(tab, "admin")).to_be_visible(timeout=TIMEOUT_MS)
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()


def test_the_accounts_table_shows_what_each_account_keeps(live_server, page):
    uploader = live_server.session("cliente")
    token = live_server.csrf_token(uploader, "/files")
    files = {"file": ("acta.txt", b"a" * 2048, "text/plain")}
    answer = uploader.post(f"{live_server.url}/api/files", files=files,
                           headers={"X-CSRFToken": token}, timeout=30)
    assert answer.status_code == 201
    log_in(page, live_server.url, "admin", "/admin")
    expect(user_row(page, "cliente").locator(".storage-cell")).to_have_text("2 KB")
    expect(user_row(page, "usuario").locator(".storage-cell")).to_have_text("0 B")
    assert page.errors == []
