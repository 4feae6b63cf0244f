"""A lost connection in a real browser: a banner, messages that wait and then go, in order;
a message the server refuses says why and can be sent again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.chat_page import (
    assert_clean,
    enter_room,
    message,
    open_conversation,
    send,
    wait_online,
)

pytestmark = pytest.mark.e2e

PENDING = re.compile(r"\bmsg-pending\b")
# The server restarts and the page's next attempt comes within 3 s.
BACK_MS = 15_000


def test_messages_written_while_the_server_is_down_wait_and_go_in_order_when_it_returns(
    open_chat, live_server
):
    admin, cliente = open_chat("admin"), open_chat("cliente")
    enter_room(admin, "Crear", "actas", persistent=True)
    enter_room(cliente, "Unirse", "actas")
    expect(admin.locator(".notice", has_text="cliente se ha unido")).to_have_count(1)
    wait_online(admin, "cliente")

    live_server.stop()
    for page in admin, cliente:
        expect(page.locator("#offline-banner")).to_contain_text("Sin conexión")
        expect(page.locator("#online-stale")).to_be_visible()
    for text in ("uno", "dos", "tres"):
        admin.fill("#composer-text", text)
        admin.press("#composer-text", "Enter")
        expect(message(admin, text)).to_have_class(PENDING)
        expect(message(admin, text).locator(".msg-state")).to_have_text("Pendiente")

    live_server.start()
    for page in admin, cliente:
        expect(page.locator("#offline-banner")).to_be_hidden(timeout=BACK_MS)
        expect(page.locator("#online-stale")).to_be_hidden()
    expect(cliente.locator("#message-list .msg-text")).to_have_text(["uno", "dos", "tres"])
    expect(admin.locator("#message-list .msg-pending")).to_have_count(0)
    expect(admin.locator("#message-list .msg-text")).to_have_text(["uno", "dos", "tres"])
    for page in admin, cliente:
        expect(page.locator("#composer-error")).to_be_hidden()
        expect(page.locator(".notice", has_text="se ha unido")).to_have_count(
            1 if page is admin else 0
        )
        open_conversation(page, "Sala general")
        expect(page.locator(".notice")).to_have_count(0)
    assert_clean(admin, cliente, server_was_down=True)


def test_a_message_the_server_refuses_says_why_and_goes_when_retried(open_chat, live_server):
    admin = open_chat("admin")
    open_chat("usuario")
    wait_online(admin, "usuario")
    admin.click("#online-list [data-user='usuario']")
    send(admin, "Hola")
    account = live_server.session("admin")
    token = live_server.csrf_token(account, "/admin")

    def set_active(active: bool) -> None:
        answer = account.patch(f"{live_server.url}/api/admin/users/usuario",
                               json={"active": active}, headers={"X-CSRFToken": token},
                               timeout=10)
        assert answer.status_code == 200, answer.text

    set_active(False)
    admin.fill("#composer-text", "¿Sigue ahí?")
    admin.press("#composer-text", "Enter")
    failed = message(admin, "¿Sigue ahí?")
    expect(failed.locator(".msg-error")).to_have_text("No se ha enviado: No existe ese usuario.")
    expect(admin.locator("#composer-text")).to_have_value("")

    set_active(True)
    failed.get_by_role("button", name="Reintentar").click()
    expect(failed.locator(".msg-error")).to_have_count(0)
    expect(failed.locator(".msg-state")).to_have_count(0)
    assert_clean(admin)
