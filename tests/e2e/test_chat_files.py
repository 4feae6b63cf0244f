"""Files and mentions in the chat page, in real browsers against a real server whose clamd
holds each scan until the test lets it through: a dropped file's card goes from «en análisis»
to «limpio» (or «bloqueado») for everyone in the room; a usuario shares an existing file from
a phone; a mention turns the room's badge into "@"."""

from __future__ import annotations

import hashlib
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.chat_page import assert_clean, conversation, enter_room, open_conversation, send
from tests.e2e.test_chat_details import a11y_problems
from tests.live_server import LiveServer
from tests.micronas import EICAR
from tests.services import FakeClamd, _recv_exact

pytestmark = pytest.mark.e2e
HOLD_SECONDS = 20.0


class GatedClamd(FakeClamd):
    """A clamd that answers each scan only once the test calls `release()`: EICAR is found,
    anything else is clean."""

    def __init__(self, socket_path: str) -> None:
        self.gate = threading.Semaphore(0)
        super().__init__(socket_path, reply=b"")

    def release(self, scans: int = 1) -> None:
        self.gate.release(scans)

    def _answer(self, conn, command: bytes) -> None:
        if command != b"zINSTREAM":
            super()._answer(conn, command)
            return
        data = b""
        while size := struct.unpack(">I", _recv_exact(conn, 4))[0]:
            data += _recv_exact(conn, size)
        if self.gate.acquire(timeout=HOLD_SECONDS):
            found = EICAR in data
            conn.sendall(b"stream: Eicar-Test-Signature FOUND\0" if found else b"stream: OK\0")


@pytest.fixture
def clamd_gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatedClamd]:
    # A short directory: a unix socket path must fit in 108 bytes.
    gate = GatedClamd(str(tmp_path_factory.mktemp("gate") / "clamd.sock"))
    yield gate
    gate.release(100)
    gate.close()


@pytest.fixture
def live_server(tmp_path: Path, clamd_gate: GatedClamd) -> Iterator[LiveServer]:
    """The usual live server, scanning with the gated clamd."""
    server = LiveServer(tmp_path / "server", CLAMD_SOCKET=clamd_gate.socket).start()
    yield server
    server.stop()


def drop_file(page: Page, name: str, data: bytes) -> None:
    """Drag a file over the conversation and drop it there, as from the desktop."""
    transfer = page.evaluate_handle(
        "([name, bytes]) => { const t = new DataTransfer();"
        " t.items.add(new File([new Uint8Array(bytes)], name, { type: 'text/plain' }));"
        " return t; }", [name, list(data)])
    page.dispatch_event("#chat-main", "dragover", {"dataTransfer": transfer})
    expect(page.locator("#drop-overlay")).to_contain_text("Suelte el archivo")
    page.dispatch_event("#chat-main", "drop", {"dataTransfer": transfer})
    expect(page.locator("#drop-overlay")).to_be_hidden()


def card(page: Page, name: str) -> Locator:
    return page.locator("#message-list .file-card", has_text=name)


def test_a_dropped_file_turns_clean_for_another_member_who_downloads_it_and_eicar_is_blocked(
        open_chat, clamd_gate):
    cliente, usuario = open_chat("cliente"), open_chat("usuario")
    enter_room(cliente, "Crear", "proyecto")
    enter_room(usuario, "Unirse", "proyecto")
    data = b"presupuesto de 2026: aprobado\n" * 200
    drop_file(cliente, "presupuesto.txt", data)
    shared = card(usuario, "presupuesto.txt")
    expect(shared.locator(".badge")).to_have_text("en análisis")
    expect(shared.locator(".file-card-facts")).to_have_text("5,9 KB · Documento de texto")
    expect(shared.get_by_role("link", name="Descargar presupuesto.txt")).to_have_count(0)
    clamd_gate.release()
    expect(shared.locator(".badge")).to_have_text("limpio")
    with usuario.expect_download() as info:
        shared.get_by_role("link", name="Descargar presupuesto.txt").click()
    with open(info.value.path(), "rb") as handle:
        assert hashlib.sha256(handle.read()).digest() == hashlib.sha256(data).digest()

    drop_file(cliente, "eicar.txt", EICAR)
    blocked = card(usuario, "eicar.txt")
    expect(blocked.locator(".badge")).to_have_text("en análisis")
    clamd_gate.release()
    for page in (usuario, cliente):
        expect(card(page, "eicar.txt").locator(".badge")).to_have_text("bloqueado")
        expect(card(page, "eicar.txt").locator("a")).to_have_count(0)
    assert_clean(cliente, usuario)


def test_a_usuario_on_a_phone_finds_an_existing_file_by_name_and_shares_it_privately(
        live_server, open_chat, clamd_gate):
    uploader = live_server.session("cliente")
    token = live_server.csrf_token(uploader)
    for name in ("acta_reunión.txt", "otro.txt"):
        answer = uploader.post(f"{live_server.url}/api/files", headers={"X-CSRFToken": token},
                               files={"file": (name, f"{name}\n".encode())}, timeout=10)
        assert answer.status_code == 201
    clamd_gate.release(2)
    admin, usuario = open_chat("admin"), open_chat("usuario", width=390, height=800)
    usuario.click("#side-toggle")
    usuario.click("#online-list [data-user='admin']")
    usuario.click("#attach-file")
    dialog = usuario.locator("#share-dialog")
    expect(dialog.locator("#share-upload")).to_be_hidden()  # a usuario cannot upload
    expect(dialog.locator(".share-pick")).to_have_count(2)
    assert a11y_problems(usuario) == []
    dialog.locator("#share-search").fill("reunion")
    expect(dialog.locator(".share-pick")).to_have_count(1)
    dialog.get_by_role("button", name="Compartir acta_reunión.txt").click()
    expect(dialog).to_be_hidden()
    mine = card(usuario, "acta_reunión.txt")
    expect(mine.locator(".badge")).to_have_text("limpio")
    assert usuario.evaluate("document.documentElement.scrollWidth") <= 390
    open_conversation(admin, "@usuario")
    expect(card(admin, "acta_reunión.txt").get_by_role("link")).to_be_visible()
    assert_clean(admin, usuario)


def test_a_name_picked_after_at_mentions_a_member_whose_room_badge_turns_to_at(open_chat):
    admin, cliente = open_chat("admin"), open_chat("cliente")
    enter_room(admin, "Crear", "equipo")
    enter_room(cliente, "Unirse", "equipo")
    open_conversation(cliente, "Sala general")
    admin.click("#composer-text")
    admin.keyboard.type("Hola @cl")
    options = admin.locator("#mention-list [role=option]")
    expect(options).to_have_text(["@cliente"])
    assert a11y_problems(admin) == []
    admin.keyboard.press("Enter")
    expect(admin.locator("#composer-text")).to_have_value("Hola @cliente ")
    admin.keyboard.type("¿lo revisas?")
    admin.keyboard.press("Enter")
    expect(admin.locator("#message-list .msg-text").last).to_have_text("Hola @cliente ¿lo revisas?")
    room = conversation(cliente, "equipo")
    expect(room.locator(".unread-mention")).to_have_text("@1")
    expect(room).to_have_attribute("aria-label", "equipo, 1 sin leer, le han mencionado")
    assert a11y_problems(cliente) == []
    send(admin, "sin mención")
    expect(room.locator(".unread-mention")).to_have_text("@2")
    room.click()
    expect(room.locator(".unread")).to_be_hidden()
    assert_clean(admin, cliente)
