"""A staff machine that trusts PiChat's CA, as /ca tells people to set up: HTTPS all the way."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.browser import TIMEOUT_MS, log_in, watch_errors
from tests.live_server import LiveServer
from tests.services import require_service

pytestmark = pytest.mark.e2e
NAME = "pichat.lan"
STRONG = "caballo-grapa-bateria-7"


def trusting_home(tmp_path: Path, ca_path: Path) -> dict[str, str]:
    """A HOME whose NSS database (what chromium trusts on Linux) holds only PiChat's CA."""
    if shutil.which("certutil") is None:
        require_service("certutil not installed: apt-get install libnss3-tools")
    nssdb = tmp_path / "home" / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for command in (["-N", "--empty-password"], ["-A", "-t", "C,,", "-n", "PiChat CA",
                                                 "-i", str(ca_path)]):
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", *command], check=True, timeout=30,
                       capture_output=True)
    return {**os.environ, "HOME": str(tmp_path / "home")}


@pytest.fixture
def production(tmp_path: Path):
    """Production with nothing configured but TLS_NAMES, reached as https://pichat.lan."""
    server = LiveServer(tmp_path / "server", tls=True, PICHAT_ENV="production",
                        TLS_NAMES=NAME).start()
    yield server
    server.stop()


def test_a_trusting_browser_sets_up_pichat_and_chats_in_a_secure_context(
    chromium, production, tmp_path
):
    browser = chromium(args=[f"--host-resolver-rules=MAP {NAME} 127.0.0.1"],
                       env=trusting_home(tmp_path, production.ca_path))
    origin = f"https://{NAME}:{production.port}"
    context = browser.new_context(locale="es-ES")
    page = watch_errors(context.new_page())
    page.goto(f"http://{NAME}:{production.port}/")
    page.wait_for_url(re.compile(rf"^{re.escape(origin)}/login"), timeout=TIMEOUT_MS)
    link = re.findall(r"https://\S+/setup\?token=[\w-]+", production.log_text())[-1]
    page.goto(link.replace("127.0.0.1", NAME))
    page.fill("#username", "jefa")
    page.fill("#password", STRONG)
    page.fill("#password_again", STRONG)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/", timeout=TIMEOUT_MS)
    expect(page.locator(".whoami .user")).to_have_text("jefa")
    assert page.evaluate("window.isSecureContext") is True
    context.grant_permissions(["notifications"], origin=origin)
    assert page.evaluate("Notification.requestPermission()") == "granted"
    page.click("button.link")  # Salir
    page.wait_for_url(re.compile(rf"^{re.escape(origin)}/login"), timeout=TIMEOUT_MS)
    log_in(page, origin, "jefa", password=STRONG)
    assert page.errors == []
    context.close()


def test_a_browser_without_the_ca_refuses_the_connection(chromium, production, tmp_path):
    empty_home = {**os.environ, "HOME": str(tmp_path / "empty-home")}
    browser = chromium(args=[f"--host-resolver-rules=MAP {NAME} 127.0.0.1"], env=empty_home)
    page = browser.new_page()
    with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
        page.goto(f"https://{NAME}:{production.port}/login")
    page.close()
