"""The files page in a real browser against a real server: upload, live status, download."""

from __future__ import annotations

import hashlib
import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import log_in
from tests.micronas import EICAR, MIB

pytestmark = pytest.mark.e2e
FULL_DATE = r"\d{1,2} [a-z]{3} \d{4}, \d\d:\d\d"  # «1 dic 2026, 16:05»


def open_files(page, server, username: str) -> None:
    """Log in through the form and wait for the files page's live connection."""
    log_in(page, server.url, username, "/files")
    expect(page.locator("#connection-status")).to_have_text("Actualización en vivo")


def item(page, name: str):
    """The list item of the file called ``name``."""
    return page.locator(".file-item", has=page.get_by_text(name, exact=True))


def test_upload_shows_progress_turns_clean_live_and_downloads_identical(live_server, page,
                                                                       tmp_path):
    data = (b"linea de un informe largo\n" * 90_000)[: 2 * MIB]
    source = tmp_path / "informe_año.txt"
    source.write_bytes(data)
    open_files(page, live_server, "cliente")
    page.set_input_files("#upload-input", str(source))
    expect(page.locator("#upload-percent")).to_have_text("100 %")
    assert page.eval_on_selector("#upload-bar", "bar => bar.value") == 100
    entry = item(page, "informe_año.txt")
    expect(entry.locator(".badge")).to_have_text("limpio")
    expect(entry.locator(".file-scan")).to_have_text(re.compile(rf"^Sin amenazas · {FULL_DATE}$"))
    expect(entry.locator(".file-type")).to_have_text("Documento de texto")
    expect(entry.locator(".file-date")).to_have_text(re.compile(rf"^{FULL_DATE}$"))
    expect(page.locator("#upload-message")).to_contain_text("está limpio")
    with page.expect_download() as info:
        entry.locator(".file-download").click()
    download = info.value
    assert download.suggested_filename == "informe_año.txt"
    with open(download.path(), "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert page.errors == []


def test_usuario_sees_no_upload_control_but_downloads(live_server, page):
    uploader = live_server.session("cliente")
    token = live_server.csrf_token(uploader, "/files")
    answer = uploader.post(f"{live_server.url}/api/files", headers={"X-CSRFToken": token},
                           files={"file": ("acta.txt", b"acta de la reunion\n")})
    assert answer.status_code == 201
    open_files(page, live_server, "usuario")
    assert page.locator("#upload-input").count() == 0
    assert page.locator("#drop-zone").count() == 0
    entry = item(page, "acta.txt")
    expect(entry.locator(".badge")).to_have_text("limpio")
    expect(entry.locator(".file-delete")).to_be_hidden()
    with page.expect_download() as info:
        entry.locator(".file-download").click()
    assert info.value.suggested_filename == "acta.txt"
    assert page.errors == []


def test_eicar_upload_is_blocked_with_a_plain_message(live_server, page, tmp_path):
    source = tmp_path / "eicar.txt"
    source.write_bytes(EICAR)
    open_files(page, live_server, "cliente")
    page.set_input_files("#upload-input", str(source))
    expect(page.locator("#upload-message")).to_have_text(
        "Archivo bloqueado: contiene Eicar-Test-Signature. Un administrador lo revisará; "
        "no se puede descargar.")
    entry = item(page, "eicar.txt")
    expect(entry.locator(".badge")).to_have_text("bloqueado")
    expect(entry.locator(".file-scan")).to_contain_text(
        "Bloqueado: un administrador lo revisará; no se puede descargar")
    expect(entry.locator(".file-download")).to_be_hidden()


def test_cancelled_upload_leaves_nothing_on_the_server(live_server, page, tmp_path):
    source = tmp_path / "lento.txt"
    source.write_bytes(b"x" * (2 * MIB))
    open_files(page, live_server, "cliente")
    # 256 KiB/s upload: the transfer lasts seconds, long enough to cancel it halfway.
    page.context.new_cdp_session(page).send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 262144})
    page.set_input_files("#upload-input", str(source))
    page.wait_for_function("() => document.getElementById('upload-bar').value >= 10")
    page.click("#upload-cancel")
    expect(page.locator("#upload-message")).to_have_text("Subida de «lento.txt» cancelada.")
    quarantine = live_server.root / "cuarentena"
    deadline = time.monotonic() + 10
    while any(quarantine.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(quarantine.iterdir()) == []
    assert page.locator(".file-item").count() == 0


def test_refused_type_shows_the_server_message(live_server, page, tmp_path):
    source = tmp_path / "programa.exe"
    source.write_bytes(b"MZ" + b"\x00" * 500)
    open_files(page, live_server, "cliente")
    page.set_input_files("#upload-input", str(source))
    expect(page.locator("#upload-message")).to_contain_text("nunca se admite")
    assert page.locator(".file-item").count() == 0


def test_admin_deletes_after_confirming(live_server, page, tmp_path):
    source = tmp_path / "borrar.txt"
    source.write_bytes(b"para borrar\n")
    open_files(page, live_server, "admin")
    page.set_input_files("#upload-input", str(source))
    entry = item(page, "borrar.txt")
    expect(entry.locator(".badge")).to_have_text("limpio")
    entry.locator(".file-delete").click()
    page.click("#confirm-cancel")
    expect(entry).to_be_visible()
    entry.locator(".file-delete").click()
    expect(page.locator("#confirm-title")).to_have_text("¿Borrar «borrar.txt»?")
    page.click("#confirm-accept")
    expect(entry).to_have_count(0)
    page.reload()
    expect(page.locator("#files-empty")).to_be_visible()
    assert page.errors == []


def test_files_page_fits_a_phone_screen(live_server, browser, tmp_path):
    source = tmp_path / ("informe_trimestral_de_la_asociacion_de_vecinos_" * 3 + ".txt")
    source.write_bytes(b"texto\n")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    open_files(phone, live_server, "admin")
    phone.set_input_files("#upload-input", str(source))
    expect(phone.locator(".file-item .badge")).to_have_text("limpio")
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert scroll_width <= 390


def upload_as(server, username: str, name: str, data: bytes) -> dict:
    """Upload through the API as `username`, as another person's browser would."""
    http = server.session(username)
    answer = http.post(f"{server.url}/api/files", files={"file": (name, data)},
                       headers={"X-CSRFToken": server.csrf_token(http, "/files")}, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_the_list_stays_newest_first_live_and_after_a_reload(live_server, page):
    for name in ("uno.txt", "dos.txt"):
        upload_as(live_server, "cliente", name, name.encode())
    open_files(page, live_server, "usuario")
    for name in ("tres.txt", "cuatro.txt"):
        upload_as(live_server, "cliente", name, name.encode())
        expect(item(page, name)).to_be_visible()
    newest_first = ["cuatro.txt", "tres.txt", "dos.txt", "uno.txt"]
    expect(page.locator(".file-item .file-name")).to_have_text(newest_first)
    page.reload()
    expect(page.locator(".file-item .file-name")).to_have_text(newest_first)
    assert page.errors == []


def test_a_blocked_file_never_shows_to_a_usuario_live_or_on_reload(live_server, page):
    open_files(page, live_server, "usuario")
    upload_as(live_server, "cliente", "eicar.txt", EICAR)
    upload_as(live_server, "cliente", "acta.txt", b"acta\n")
    expect(item(page, "acta.txt").locator(".badge")).to_have_text("limpio")
    expect(item(page, "eicar.txt")).to_have_count(0)
    page.reload()
    expect(item(page, "acta.txt")).to_be_visible()
    expect(item(page, "eicar.txt")).to_have_count(0)
    expect(page.locator("#files-count")).to_have_text("(1)")
    assert page.errors == []
