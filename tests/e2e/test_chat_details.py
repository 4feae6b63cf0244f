"""The chat page's smaller promises in a real browser: typing after Enter, the new-messages
pill, grouped messages, the room dialog, typing in direct chats, contrast and labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.chat_page import (
    assert_clean,
    conversation,
    enter_room,
    message,
    open_conversation,
    open_menu,
    send,
    wait_online,
)

pytestmark = pytest.mark.e2e

# The pages' own axe-style check (tests/e2e/test_accessibility.py): contrast, labels, names.
A11Y_CHECK = (Path(__file__).parent / "a11y_check.js").read_text()


def a11y_problems(page: Page) -> list[str]:
    return page.evaluate(A11Y_CHECK, 4.5)


def test_text_typed_right_after_enter_stays_in_the_box(open_chat):
    page = open_chat("cliente")
    page.click("#composer-text")
    for n in range(5):
        page.keyboard.type(f"primero {n}")
        page.keyboard.press("Enter")
        page.keyboard.type(f"segundo {n}")
        expect(page.locator("#composer-text")).to_have_value(f"segundo {n}")
        page.fill("#composer-text", "")
    expect(page.locator("#message-list .msg-text")).to_have_text([f"primero {n}" for n in range(5)])
    assert_clean(page)


def test_a_reader_scrolled_up_gets_a_new_messages_pill_and_one_authors_run_is_grouped(
    open_chat,
):
    reader, writer = open_chat("admin", height=500), open_chat("cliente")
    for n in range(8):
        send(writer, f"línea {n}\n" * 4 + "fin")
    expect(reader.locator("#message-list .msg")).to_have_count(8)
    grouped = reader.locator("#message-list .msg-grouped")
    expect(grouped).to_have_count(7)
    assert grouped.first.locator(".msg-author").bounding_box()["width"] <= 1

    reader.eval_on_selector("#message-list", "list => { list.scrollTop = 0; }")
    pill = reader.get_by_role("button", name="Mensajes nuevos ↓")
    expect(pill).to_be_hidden()
    send(writer, "Lo último")
    expect(pill).to_be_visible()
    pill.click()
    expect(pill).to_be_hidden()
    expect(message(reader, "Lo último")).to_be_in_viewport()
    send(reader, "Respuesta")
    expect(message(reader, "Respuesta")).not_to_have_class(re.compile(r"\bmsg-grouped\b"))
    assert_clean(reader, writer)


def test_the_room_dialog_opens_to_create_a_room_with_the_focus_visible_on_its_code(open_chat):
    page = open_chat("cliente")
    page.click("#open-room-dialog")
    expect(page.get_by_role("radio", name="Crear")).to_be_checked()
    expect(page.locator("#room-submit")).to_have_text("Crear sala")
    code = page.locator("#room-code")
    expect(code).to_be_focused()
    style, width = code.evaluate(
        "c => [getComputedStyle(c).outlineStyle, getComputedStyle(c).outlineWidth]"
    )
    assert style != "none" and float(width.removesuffix("px")) >= 2, (style, width)
    assert_clean(page)


def test_someone_typing_in_a_direct_chat_is_shown_there(open_chat):
    admin, cliente = open_chat("admin"), open_chat("cliente")
    wait_online(admin, "cliente")
    wait_online(cliente, "admin")
    cliente.click("#online-list [data-user='admin']")
    admin.click("#online-list [data-user='cliente']")
    admin.fill("#composer-text", "Le cuento")
    expect(cliente.locator("#typing-line")).to_have_text("admin está escribiendo…")
    assert_clean(admin, cliente)


def test_own_and_others_messages_notices_and_the_menu_read_at_4_5_to_1_and_unread_is_spoken(
    open_chat,
):
    admin, cliente = open_chat("admin"), open_chat("cliente")
    enter_room(admin, "Crear", "colores")
    enter_room(cliente, "Unirse", "colores")
    send(admin, "Mío")
    send(cliente, "Suyo")
    open_conversation(cliente, "Sala general")
    send(cliente, "En la general")
    expect(admin.get_by_role("button", name="Sala general, 1 sin leer")).to_be_visible()
    expect(admin.locator(".notice", has_text="cliente se ha unido")).to_be_visible()
    assert a11y_problems(admin) == []
    open_menu(admin)
    assert a11y_problems(admin) == []
    open_conversation(admin, "Sala general")
    expect(conversation(admin, "Sala general").locator(".unread")).to_be_hidden()
    assert a11y_problems(admin) == []
    assert_clean(admin, cliente)
