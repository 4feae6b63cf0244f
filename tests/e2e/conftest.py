"""Fixtures of the browser tests: people logged in to the chat, each in a browser of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser import log_in, watch_errors
from tests.e2e.chat_page import wait_connected

OpenChat = Callable[..., Page]


@pytest.fixture
def open_chat(live_server, browser: Browser) -> Iterator[OpenChat]:
    """Log a user in, in a browser context of their own, and wait until the chat is connected."""
    contexts = []

    def open_as(username: str, width: int = 1200, height: int = 800) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="es-ES")
        contexts.append(context)
        page = watch_errors(context.new_page())
        log_in(page, live_server.url, username)
        return wait_connected(page)

    yield open_as
    for context in contexts:
        context.close()
