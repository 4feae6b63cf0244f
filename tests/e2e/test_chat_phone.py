"""The chat page on a phone (390×844): a header that keeps the title whole, a real drawer."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.chat_page import assert_clean, enter_room, open_menu

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
TAP_PX = 44


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_phone_room_header_keeps_the_title_whole_and_puts_status_and_actions_in_a_menu(
    open_chat,
):
    creator = open_chat("cliente", **PHONE)
    enter_room(creator, "Crear", "ventas")
    member = open_chat("usuario", **PHONE)
    enter_room(member, "Unirse", "ventas")

    title = creator.locator("#conversation-title")
    expect(title).to_have_text("ventas")
    expect(creator.locator("#conversation-detail")).to_have_text("2 personas en la sala")
    assert title.evaluate("h => h.scrollWidth <= h.clientWidth"), "the title is cut"
    assert creator.locator(".chat-head").bounding_box()["height"] <= 64, "the header wraps"
    expect(creator.locator(".chat-head #connection-status")).to_be_hidden()

    menu = open_menu(creator)
    expect(menu).to_contain_text("Conexión: Conectado")
    expect(menu).to_contain_text("No guarda historial")
    expect(menu.locator("#menu-members li")).to_have_text(["cliente (usted, creador)", "usuario"])
    expect(menu.get_by_role("button", name="Abandonar sala")).to_be_visible()
    expect(menu.get_by_role("button", name="Cerrar sala")).to_be_visible()
    no_sideways_scroll(creator)
    expect(open_menu(member).get_by_role("button", name="Cerrar sala")).to_be_hidden()

    menu.get_by_role("button", name="Cerrar sala").click()
    menu.get_by_role("button", name="Sí, cerrar").click()
    for page in creator, member:
        expect(page.locator("#conversation-title")).to_have_text("Sala general")
        expect(page.locator("[data-conversation='ventas']")).to_have_count(0)
    expect(member.locator(".notice", has_text="La sala ventas se ha cerrado.")).to_be_visible()
    assert_clean(creator, member)


def test_phone_drawer_dims_the_page_takes_the_focus_and_closes_on_escape_or_a_tap_outside(
    open_chat,
):
    phone = open_chat("usuario", **PHONE)
    for selector in ("#side-toggle", "#conversation-menu-button", "#composer-send"):
        box = phone.locator(selector).bounding_box()
        assert min(box["width"], box["height"]) >= TAP_PX, (selector, box)
    for target in phone.locator(".topbar a, .topbar button").all():
        assert target.bounding_box()["height"] >= TAP_PX, target.text_content()

    drawer, toggle = phone.locator("#chat-side"), phone.locator("#side-toggle")
    toggle.click()
    expect(drawer).to_be_visible()
    expect(phone.locator("#side-backdrop")).to_be_visible()
    assert phone.evaluate("document.getElementById('chat-side').contains(document.activeElement)")
    phone.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(toggle).to_be_focused()

    toggle.click()
    expect(drawer).to_be_visible()
    phone.mouse.click(PHONE["width"] - 15, PHONE["height"] // 2)
    expect(drawer).to_be_hidden()
    expect(phone.locator("#side-backdrop")).to_be_hidden()
    no_sideways_scroll(phone)
    assert_clean(phone)
