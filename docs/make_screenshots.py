"""The README's screenshots of the chat page, desktop (1366x768) and phone (390x844), taken
from a real `python app.py` in Debian's chromium: ``make screenshots``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.browser import CHROMIUM_ARGS, log_in  # noqa: E402
from tests.e2e.chat_page import enter_room, open_menu, send  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

OUT = ROOT / "docs" / "capturas"


def main() -> None:
    """Two people in a persistent room, one on a desk and one on a phone; then offline."""
    server = LiveServer(Path(tempfile.mkdtemp()) / "capturas").start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=CHROMIUM_ARGS)

            def open_as(username: str, width: int, height: int):  # noqa: ANN202
                context = browser.new_context(viewport={"width": width, "height": height},
                                              locale="es-ES")
                page = context.new_page()
                log_in(page, server.url, username)
                expect(page.locator("#connection-status")).to_have_text("Conectado")
                return page

            phone, desk = open_as("cliente", 390, 844), open_as("admin", 1366, 768)
            enter_room(phone, "Crear", "ventas", persistent=True)
            enter_room(desk, "Unirse", "ventas")
            send(desk, "Hola equipo, @cliente: ¿revisamos las cifras?")
            send(phone, "Sí, ahora mismo")
            desk.screenshot(path=OUT / "escritorio.png")
            phone.screenshot(path=OUT / "movil.png")
            open_menu(phone)
            phone.screenshot(path=OUT / "movil-menu.png")
            phone.keyboard.press("Escape")
            server.stop()
            expect(desk.locator("#offline-banner")).to_be_visible()
            desk.fill("#composer-text", "escrito sin conexión")
            desk.press("#composer-text", "Enter")
            desk.screenshot(path=OUT / "escritorio-sin-conexion.png")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
