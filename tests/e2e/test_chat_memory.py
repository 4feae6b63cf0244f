"""Rooms are the account's and the tab remembers what it showed: reloads, new tabs, logout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in
from tests.e2e.chat_page import (
    assert_clean,
    enter_room,
    message,
    new_tab,
    open_conversation,
    open_menu,
    send,
    wait_connected,
    wait_online,
)

pytestmark = pytest.mark.e2e


def test_a_reload_keeps_the_conversations_their_messages_and_the_open_one(open_chat, live_server):
    admin = open_chat("admin")
    open_chat("cliente")
    send(admin, "Hola a todos")
    enter_room(admin, "Crear", "actas", persistent=True)
    send(admin, "Primera acta")
    wait_online(admin, "cliente")
    admin.click("#online-list [data-user='cliente']")
    send(admin, "En privado")
    open_conversation(admin, "actas")

    admin.reload()
    wait_connected(admin)
    expect(admin.locator("#conversation-title")).to_have_text("actas")
    expect(admin.locator("#message-list .msg-text")).to_have_text(["Primera acta"])
    expect(admin.locator(".conversation-name")).to_have_text(["Sala general", "actas", "@cliente"])
    open_conversation(admin, "Sala general")
    expect(message(admin, "Hola a todos")).to_be_visible()
    open_conversation(admin, "@cliente")
    expect(message(admin, "En privado")).to_be_visible()

    admin.get_by_role("button", name="Salir").click()
    admin.wait_for_url(re.compile(r"/login"))
    log_in(admin, live_server.url, "admin")
    wait_connected(admin)
    expect(admin.locator(".conversation-name")).to_have_text(["Sala general", "actas"])
    expect(admin.locator("#message-list .msg")).to_have_count(0)
    open_conversation(admin, "actas")
    expect(admin.locator("#message-list .msg-text")).to_have_text(["Primera acta"])
    assert_clean(admin)


def test_a_new_tab_finds_the_accounts_rooms_and_leaving_takes_them_from_every_tab(
    open_chat, live_server
):
    first = open_chat("cliente")
    enter_room(first, "Crear", "equipo")
    second = new_tab(first, live_server.url)
    open_conversation(second, "equipo")
    send(second, "Desde la otra pestaña")
    open_conversation(first, "equipo")
    expect(message(first, "Desde la otra pestaña")).to_be_visible()

    open_menu(first).get_by_role("button", name="Abandonar sala").click()
    for page in first, second:
        expect(page.locator("[data-conversation='equipo']")).to_have_count(0)
        expect(page.locator("#conversation-title")).to_have_text("Sala general")
    assert_clean(first, second)
