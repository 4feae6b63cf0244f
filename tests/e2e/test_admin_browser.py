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
        user_row(page, "usuario").locator("button[data-action=disable]").click()
        expect(page.locator("#confirm-dialog")).to_be_visible()
        page.click("#confirm-accept")
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


def test_on_a_phone_the_panel_fits_and_each_account_is_a_card(live_server, browser):
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-ES")
    try:
        tab = phone.new_page()
        log_in(tab, live_server.url, "admin", "/admin")
        cell = user_row(tab, "cliente").locator("td").nth(4)
        expect(cell).to_be_visible(timeout=TIMEOUT_MS)
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"Último acceso"'
        box = user_row(tab, "cliente").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
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


def upload_as(server, username: str, name: str, data: bytes) -> None:
    http = server.session(username)
    answer = http.post(f"{server.url}/api/files", files={"file": (name, data)},
                       headers={"X-CSRFToken": server.csrf_token(http, "/files")}, timeout=30)
    assert answer.status_code == 201


def test_counts_and_last_access_follow_the_server_live(live_server, page, browser):
    log_in(page, live_server.url, "admin", "/admin")
    expect(page.locator("#live-status")).to_have_text("En vivo")
    expect(page.locator("#count-clean")).to_have_text("0")
    expect(user_row(page, "usuario").locator("td").nth(4)).to_have_text("—")
    upload_as(live_server, "cliente", "uno.txt", b"uno\n")
    upload_as(live_server, "cliente", "dos.txt", b"dos\n")
    expect(page.locator("#count-clean")).to_have_text("2")
    expect(page.locator("#count-pending")).to_have_text("0")
    other = browser.new_context(locale="es-ES")
    try:
        log_in(other.new_page(), live_server.url, "usuario")
        expect(user_row(page, "usuario").locator("td").nth(4)).to_have_text(
            re.compile(r"^\d{1,2} [a-z]{3} \d{4}, \d\d:\d\d$"))
        expect(user_row(page, "usuario").locator(".online-cell")).to_have_text("Sí")
    finally:
        other.close()
    live_server.stop()
    expect(page.locator("#live-status")).to_have_text("Sin conexión: reconectando…")


def test_a_role_change_is_confirmed_in_the_pages_own_dialog(live_server, page):
    native = []
    page.on("dialog", lambda dialog: native.append(dialog.message) or dialog.dismiss())
    log_in(page, live_server.url, "admin", "/admin")
    row = user_row(page, "usuario")
    row.locator("select").select_option("cliente")
    row.locator("button[type=submit]").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#confirm-title")).to_have_text("¿Cambiar el rol de usuario a Cliente?")
    expect(page.locator("#confirm-cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#users-message")).to_be_hidden()
    row.locator("button[type=submit]").click()
    page.click("#confirm-accept")
    expect(page.locator("#users-message")).to_have_text(
        "usuario ahora es Cliente; sus sesiones se cerraron.")
    expect(row.locator("select")).to_have_value("cliente")
    assert native == [] and page.errors == []


def test_the_audit_view_speaks_spanish_and_keeps_the_code_at_hand(live_server, page):
    log_in(page, live_server.url, "admin", "/admin")
    first = page.locator("#audit-body tr").first
    expect(first.locator("td").nth(1)).to_have_text("Inicio de sesión")
    expect(first.locator("td").nth(1)).to_have_attribute("title", "login_success")
    expect(first.locator("td").nth(5)).to_have_text("Correcto")
    event = page.locator("#audit-filters select[name=event]")
    expect(event.locator("option[value=login_failed]")).to_have_text("Inicio de sesión fallido")
    event.select_option("login_failed")
    page.click("#audit-filters button[type=submit]")
    expect(page.locator("#audit-body")).to_have_text("Ningún evento coincide con el filtro.")
    assert page.errors == []

