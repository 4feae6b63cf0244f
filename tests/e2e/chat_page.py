"""The chat page in a real browser: the gestures and checks its tests share."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import TIMEOUT_MS, watch_errors

OWN = re.compile(r"\bmsg-own\b")
# While the server is down the browser itself logs each refused connection attempt.
REFUSED = "ERR_CONNECTION_REFUSED"


def wait_connected(page: Page) -> Page:
    expect(page.locator("#connection-status")).to_have_text("Conectado")
    return page


def new_tab(page: Page, base_url: str) -> Page:
    """Another tab of the same browser session (same account), on the chat page."""
    tab = watch_errors(page.context.new_page())
    tab.goto(f"{base_url}/")
    return wait_connected(tab)


def wait_online(page: Page, *names: str) -> None:
    for name in names:
        expect(page.locator(f"#online-list [data-user='{name}']")).to_be_visible()


def send(page: Page, text: str) -> None:
    """Write `text` and press Enter; wait until the server has taken it."""
    page.fill("#composer-text", text)
    page.press("#composer-text", "Enter")
    expect(message(page, text)).to_be_visible(timeout=TIMEOUT_MS)
    expect(message(page, text)).not_to_have_class(re.compile(r"\bmsg-pending\b"))


def message(page: Page, text: str) -> Locator:
    return page.locator("#message-list .msg", has_text=text)


def conversation(page: Page, name: str) -> Locator:
    """The side-list button of the conversation shown as `name`."""
    exact = re.compile(f"^{re.escape(name)}$")
    label = page.locator(".conversation-name", has_text=exact)
    return page.locator("#conversation-list .conversation", has=label)


def open_conversation(page: Page, name: str) -> None:
    conversation(page, name).click()
    expect(page.locator("#conversation-title")).to_have_text(name)


def room_dialog(
    page: Page, action: str, code: str, password: str, persistent: bool = False
) -> None:
    """Open the room dialog (from the drawer on a phone), pick `action` ("Unirse" or "Crear"),
    fill it in and submit."""
    if page.locator("#side-toggle").is_visible():
        page.click("#side-toggle")
    page.click("#open-room-dialog")
    page.locator("#room-form .segmented label", has_text=action).click()
    page.fill("#room-code", code)
    page.fill("#room-password", password)
    if persistent:
        page.check("#room-persistent")
    page.click("#room-submit")


def enter_room(page: Page, action: str, code: str, persistent: bool = False) -> None:
    """Create or join room `code` (password "clave-de-sala") and wait until it is open."""
    room_dialog(page, action, code, "clave-de-sala", persistent)
    expect(page.locator("#conversation-title")).to_have_text(code)


def open_menu(page: Page) -> Locator:
    """Open the conversation's ⋮ menu and return it."""
    page.click("#conversation-menu-button")
    menu = page.locator("#conversation-menu")
    expect(menu).to_be_visible()
    return menu


def assert_clean(*pages: Page, server_was_down: bool = False) -> None:
    """No console error or uncaught exception (but the refused connections of an outage)."""
    for page in pages:
        errors = [e for e in page.errors if not (server_was_down and REFUSED in e)]
        assert errors == [], page.errors


def scroll_to_top(page: Page) -> None:
    """Scroll the message list to its very top, as a reader going back does."""
    page.locator("#message-list").evaluate("list => { list.scrollTop = 0; }")


def message_menu(page: Page, text: str) -> Locator:
    """Open the ⋯ menu of the message showing `text`; return that message."""
    shown = message(page, text)
    shown.locator(".msg-actions-toggle").click()
    expect(shown.locator(".msg-menu")).to_be_visible()
    return shown


def in_view(page: Page, item: Locator) -> bool:
    """Whether `item` lies within the visible part of the message list."""
    return item.evaluate(
        """node => {
          const box = node.getBoundingClientRect();
          const list = node.closest('#message-list').getBoundingClientRect();
          return box.top >= list.top - 1 && box.bottom <= list.bottom + 1;
        }"""
    )
