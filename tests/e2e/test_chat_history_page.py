"""A persistent room's history in the chat page: scrolling back page by page, editing and
deleting (seen live by another member, and forgotten by the tab), searching without accents
and jumping to an old message on a phone, and the creator's choice of how long it keeps."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, insert, select

from chat.models import ChatMessage, ChatRoom
from tests.e2e.chat_page import (
    assert_clean,
    enter_room,
    in_view,
    message,
    message_menu,
    open_menu,
    scroll_to_top,
    send,
    wait_connected,
)
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
A11Y_CHECK = (Path(__file__).parent / "a11y_check.js").read_text()
AUTHORS = ("cliente", "admin")
KEPT_IN_TAB = "() => JSON.stringify(Object.assign({}, sessionStorage))"


def seed_messages(server: LiveServer, code: str, texts: list[str],
                  age: timedelta = timedelta(hours=1)) -> None:
    """Write `texts` as room `code`'s oldest messages straight into the server's database
    (through the socket they would take minutes), a minute apart, the last `age` ago."""
    engine = create_engine(server.env["DATABASE_URL"])
    start = datetime.now(UTC) - age - timedelta(minutes=len(texts))
    try:
        with engine.begin() as connection:
            room_id = connection.execute(
                select(ChatRoom.id).where(ChatRoom.code == code)).scalar_one()
            connection.execute(insert(ChatMessage.__table__), [
                {"id": uuid.uuid4().hex, "room_id": room_id, "username": AUTHORS[n % 2],
                 "text": text, "created_at": start + timedelta(minutes=n)}
                for n, text in enumerate(texts)
            ])
    finally:
        engine.dispose()


def shown_messages(page: Page):
    return page.locator("#message-list .msg")


def tab_memory(page: Page) -> str:
    """What this tab keeps in sessionStorage, as one string."""
    return page.evaluate(KEPT_IN_TAB)


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_scrolling_to_the_top_loads_older_pages_in_place_until_the_beginning(
    open_chat, live_server
):
    creator = open_chat("admin")
    enter_room(creator, "Crear", "actas", persistent=True)
    seed_messages(live_server, "actas", [f"Mensaje antiguo {n:03d}" for n in range(120)])
    reader = open_chat("usuario")
    enter_room(reader, "Unirse", "actas")
    expect(shown_messages(reader)).to_have_count(50)
    expect(message(reader, "Mensaje antiguo 119")).to_be_visible()

    scroll_to_top(reader)
    expect(shown_messages(reader)).to_have_count(100)
    assert in_view(reader, message(reader, "Mensaje antiguo 070")), "the reader lost their place"
    expect(reader.locator(".history-head")).to_have_count(0)

    scroll_to_top(reader)
    expect(shown_messages(reader)).to_have_count(120)
    expect(reader.locator("#message-list > li").first).to_have_text("Principio de la conversación")
    expect(shown_messages(reader).nth(0)).to_contain_text("Mensaje antiguo 000")
    scroll_to_top(reader)
    reader.wait_for_timeout(300)
    expect(shown_messages(reader)).to_have_count(120)
    assert_clean(creator, reader)


def test_an_edit_and_a_delete_reach_another_member_live_and_the_tabs_keep_no_old_words(open_chat):
    author = open_chat("usuario")
    enter_room(author, "Crear", "actas", persistent=True)
    admin = open_chat("admin")
    enter_room(admin, "Unirse", "actas")
    send(author, "Reunion a las 10")
    send(author, "Esto sobra del todo")

    # By keyboard: ⋯, «Editar», the text in place, Enter saves.
    message(author, "Reunion a las 10").locator(".msg-actions-toggle").focus()
    author.keyboard.press("Enter")
    expect(author.get_by_role("button", name="Editar")).to_be_focused()
    author.keyboard.press("Enter")
    box = author.get_by_role("textbox", name="Editar mensaje")
    expect(box).to_be_focused()
    box.fill("Reunión a las 11")
    box.press("Enter")
    for page in author, admin:
        expect(message(page, "Reunión a las 11")).to_contain_text("(editado)")
        expect(message(page, "Reunion a las 10")).to_have_count(0)

    # Escape leaves the text as it was.
    message_menu(author, "Esto sobra").get_by_role("button", name="Editar").click()
    author.get_by_role("textbox", name="Editar mensaje").fill("otra cosa")
    author.keyboard.press("Escape")
    expect(message(author, "Esto sobra del todo")).not_to_contain_text("(editado)")
    expect(message(author, "Esto sobra del todo").locator(".msg-actions-toggle")).to_be_focused()

    message_menu(author, "Esto sobra").get_by_role("button", name="Borrar").click()
    dialog = author.locator("#confirm-dialog")
    expect(dialog).to_contain_text("¿Borrar el mensaje?")
    dialog.get_by_role("button", name="Borrar").click()
    for page in author, admin:
        expect(page.locator(".msg-deleted")).to_have_text(re.compile("Mensaje borrado"))
        expect(message(page, "Esto sobra")).to_have_count(0)

    # An administrator may delete anyone's message, not edit it.
    menu = message_menu(admin, "Reunión a las 11")
    expect(menu.get_by_role("button", name="Borrar")).to_be_visible()
    expect(menu.get_by_role("button", name="Editar")).to_have_count(0)
    admin.keyboard.press("Escape")

    for page in author, admin:
        page.wait_for_function(f"() => !({KEPT_IN_TAB})().includes('sobra')")
        assert "Reunión a las 11" in tab_memory(page)
    admin.reload()
    wait_connected(admin)
    expect(message(admin, "Reunión a las 11")).to_contain_text("(editado)")
    expect(admin.locator(".msg-deleted")).to_have_count(1)
    assert "sobra" not in admin.locator("#message-list").inner_text()
    assert_clean(author, admin)


def test_on_a_phone_cafe_finds_café_marked_and_a_tap_brings_the_old_message_into_view(
    open_chat, live_server
):
    phone = open_chat("admin", **PHONE)
    enter_room(phone, "Crear", "actas", persistent=True)
    older = ["Nos vemos en el café de la esquina"] + [f"Mensaje {n}" for n in range(1, 130)]
    seed_messages(live_server, "actas", older)
    phone.reload()
    wait_connected(phone)
    expect(message(phone, "Mensaje 129")).to_be_visible()
    expect(phone.locator(".chat-head #search-input")).to_be_hidden()

    open_menu(phone).get_by_role("button", name="Buscar en la sala").click()
    search = phone.get_by_role("searchbox", name="Buscar en la sala")
    expect(search).to_be_focused()
    search.fill("cafe")
    search.press("Enter")
    hit = phone.locator("#search-list .search-hit")
    expect(hit).to_have_count(1)
    expect(hit.locator("mark")).to_have_text("café")
    expect(phone.locator("#search-summary")).to_have_text("1 mensaje, el más reciente primero.")
    no_sideways_scroll(phone)
    assert phone.evaluate(A11Y_CHECK, 4.5) == []

    hit.click()
    found = message(phone, "Nos vemos en el café")
    expect(found).to_be_in_viewport()
    expect(found).to_have_class(re.compile(r"\bmsg-found\b"))
    expect(phone.locator("#search-results")).to_be_hidden()
    assert in_view(phone, found)
    no_sideways_scroll(phone)
    assert_clean(phone)


def test_the_creator_keeps_30_days_older_messages_go_and_a_member_has_no_say(
    open_chat, live_server
):
    creator = open_chat("cliente")
    enter_room(creator, "Crear", "actas", persistent=True)
    seed_messages(live_server, "actas", ["Acta de hace 40 días"], age=timedelta(days=40))
    seed_messages(live_server, "actas", ["Acta de ayer"], age=timedelta(days=1))
    member = open_chat("usuario")
    enter_room(member, "Unirse", "actas")
    expect(message(member, "Acta de hace 40 días")).to_be_visible()
    expect(open_menu(member).locator("#retention-box")).to_be_hidden()

    menu = open_menu(creator)
    choice = menu.get_by_label("Conservar mensajes")
    expect(choice).to_have_value("0")
    choice.select_option("30")
    dialog = creator.locator("#confirm-dialog")
    expect(dialog).to_contain_text("se borrarán para todos")
    dialog.get_by_role("button", name="Conservar 30 días").click()
    expect(menu.locator("#retention-note")).to_have_text(re.compile("últimos 30 días"))
    expect(choice).to_have_value("30")

    for _ in range(20):
        member.reload()
        wait_connected(member)
        expect(message(member, "Acta de ayer")).to_be_visible()
        if message(member, "Acta de hace 40 días").count() == 0:
            break
        member.wait_for_timeout(250)
    expect(message(member, "Acta de hace 40 días")).to_have_count(0)
    assert_clean(creator, member)
