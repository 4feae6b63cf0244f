"""Real browsers chat through a real server: lobby, rooms, direct messages, safety, phone layout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import watch_errors
from tests.e2e.chat_page import (
    OWN,
    assert_clean,
    conversation,
    message,
    open_conversation,
    open_menu,
    room_dialog,
    send,
    wait_online,
)

pytestmark = pytest.mark.e2e


def test_two_users_see_each_others_lobby_messages(open_chat):
    admin, cliente = open_chat("admin"), open_chat("cliente")
    wait_online(admin, "cliente")
    wait_online(cliente, "admin")
    cliente.fill("#composer-text", "Hola")
    expect(admin.locator("#typing-line")).to_have_text("cliente está escribiendo…")
    send(cliente, "Hola, admin\nsegunda línea")
    send(admin, "Hola desde admin")

    own = message(admin, "Hola desde admin")
    expect(own).to_have_class(OWN)
    expect(own.locator(".msg-author")).to_have_text("admin")
    expect(own.locator(".msg-time")).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    theirs = message(cliente, "Hola desde admin")
    expect(theirs).to_be_visible()
    expect(theirs).not_to_have_class(OWN)
    expect(theirs.locator(".msg-author")).to_have_text("admin")
    expect(message(admin, "Hola, admin").locator(".msg-text")).to_have_text(
        "Hola, admin\nsegunda línea"
    )
    expect(admin.locator("#typing-line")).to_have_text("")
    assert_clean(admin, cliente)


def test_password_room_carries_messages_and_notices_apart_from_the_lobby(open_chat):
    admin, cliente = open_chat("admin"), open_chat("cliente")
    room_dialog(admin, "Crear", "proyecto-x", "clave-de-sala")
    expect(admin.locator("#conversation-title")).to_have_text("proyecto-x")

    room_dialog(cliente, "Unirse", "proyecto-x", "otra-clave")
    expect(cliente.locator("#room-error")).to_be_visible()
    expect(cliente.locator("#room-error")).not_to_be_empty()
    cliente.fill("#room-password", "clave-de-sala")
    cliente.click("#room-submit")
    expect(cliente.locator("#room-dialog")).to_be_hidden()
    expect(cliente.locator("#conversation-title")).to_have_text("proyecto-x")
    expect(admin.locator(".notice", has_text="cliente se ha unido")).to_be_visible()

    send(admin, "Solo para la sala")
    expect(message(cliente, "Solo para la sala")).to_be_visible()
    for page in admin, cliente:
        open_conversation(page, "Sala general")
        expect(page.locator("#message-list .msg")).to_have_count(0)

    open_conversation(cliente, "proyecto-x")
    open_menu(cliente).get_by_role("button", name="Abandonar sala").click()
    expect(cliente.locator("#conversation-title")).to_have_text("Sala general")
    expect(cliente.locator("[data-conversation]")).to_have_count(1)
    open_conversation(admin, "proyecto-x")
    expect(admin.locator(".notice", has_text="cliente ha salido")).to_be_visible()
    assert_clean(admin, cliente)


def test_joining_a_persistent_room_shows_its_history(open_chat):
    admin = open_chat("admin")
    room_dialog(admin, "Crear", "actas", "clave-de-sala", persistent=True)
    expect(admin.locator("#conversation-title")).to_have_text("actas")
    send(admin, "Primera acta")
    send(admin, "Segunda acta")

    cliente = open_chat("cliente")
    room_dialog(cliente, "Unirse", "actas", "clave-de-sala")
    expect(cliente.locator("#message-list .msg-text")).to_have_text(
        ["Primera acta", "Segunda acta"]
    )
    expect(cliente.locator("#message-list .msg-author").first).to_have_text("admin")
    assert_clean(admin, cliente)


def test_markup_in_a_message_is_shown_as_text_and_never_runs(open_chat):
    admin, cliente = open_chat("admin"), open_chat("cliente")
    wait_online(admin, "cliente")
    payload = "<img src=x onerror=window.__xss=1>"
    send(admin, payload)
    expect(message(cliente, payload).locator(".msg-text")).to_have_text(payload)
    for page in admin, cliente:
        assert page.locator("#message-list img").count() == 0
        assert page.evaluate("typeof window.__xss") == "undefined"
    assert_clean(admin, cliente)


def test_direct_message_from_the_online_list_reaches_only_the_pair(open_chat):
    admin, cliente, usuario = open_chat("admin"), open_chat("cliente"), open_chat("usuario")
    wait_online(admin, "cliente", "usuario")
    admin.click("#online-list [data-user='cliente']")
    expect(admin.locator("#conversation-title")).to_have_text("@cliente")
    send(admin, "Secreto para cliente")

    direct = cliente.locator("[data-conversation='dm:admin:cliente']")
    expect(direct.locator(".unread")).to_have_text("1")
    open_conversation(cliente, "@admin")
    expect(message(cliente, "Secreto para cliente")).to_be_visible()
    send(cliente, "Recibido")
    expect(message(admin, "Recibido")).to_be_visible()

    expect(usuario.locator("[data-conversation^='dm:']")).to_have_count(0)
    expect(usuario.locator("#message-list .msg")).to_have_count(0)
    assert_clean(admin, cliente, usuario)


def test_phone_width_has_no_horizontal_scroll_and_composer_works(open_chat):
    phone = open_chat("cliente", width=390)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    expect(phone.locator("#chat-side")).to_be_hidden()
    send(phone, "Escrito desde el móvil con un texto largo sin espacios: " + "x" * 120)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.click("#side-toggle")
    expect(phone.locator("#conversation-list")).to_be_visible()
    phone.click("#side-close")
    expect(phone.locator("#chat-side")).to_be_hidden()
    phone.click("#side-toggle")
    open_conversation(phone, "Sala general")
    expect(phone.locator("#chat-side")).to_be_hidden()
    assert_clean(phone)


def test_unread_count_grows_for_a_conversation_that_is_not_open(open_chat):
    admin, cliente = open_chat("admin"), open_chat("cliente")
    wait_online(cliente, "admin")
    cliente.click("#online-list [data-user='admin']")
    send(admin, "uno")
    send(admin, "dos")
    lobby = conversation(cliente, "Sala general").locator(".unread")
    expect(lobby).to_have_text("2")
    open_conversation(cliente, "Sala general")
    expect(lobby).to_be_hidden()
    expect(message(cliente, "dos")).to_be_visible()
    assert_clean(admin, cliente)


def test_logout_in_another_tab_sends_the_chat_to_login(open_chat, live_server):
    chat_tab = open_chat("admin")
    other_tab = watch_errors(chat_tab.context.new_page())
    other_tab.goto(f"{live_server.url}/")
    other_tab.get_by_role("button", name="Salir").click()
    other_tab.wait_for_url(re.compile(r"/login"))
    chat_tab.wait_for_url(re.compile(r"/login"))
    expect(chat_tab.locator("#username")).to_be_visible()
    assert_clean(chat_tab, other_tab)
