"""What the admin panel shows about the running server: version, uptime, backends, chat, files."""

from __future__ import annotations

import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from chat.status import chat_status
from extensions import db
from nas.files import nas_status
from nas.storage_budget import usage_by_account
from security.accounts import list_users

UNKNOWN_VERSION = "desconocida"


def read_version(root: str | Path) -> str:
    """The project version from pyproject.toml next to app.py, or UNKNOWN_VERSION."""
    try:
        with open(Path(root) / "pyproject.toml", "rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return UNKNOWN_VERSION


def record_start(app: Flask) -> None:
    """Remember when this app started and which version it is."""
    app.extensions["admin"] = {
        "started_at": datetime.now(UTC),
        "started_monotonic": time.monotonic(),
        "version": read_version(app.root_path),
    }


def server_status() -> dict[str, Any]:
    """Version, uptime, backends in use and the live chat and file summaries."""
    started = current_app.extensions["admin"]
    return {
        "version": started["version"],
        "started_at": started["started_at"].isoformat(),
        "uptime_seconds": int(time.monotonic() - started["started_monotonic"]),
        # The backend's name only: the URL may carry a password.
        "database": db.engine.url.get_backend_name(),
        "redis": bool(current_app.config["REDIS_URL"]),
        "chat": chat_status(),
        "nas": nas_status(),
    }


def users_with_presence() -> list[dict[str, object]]:
    """Every account as the admin API shows it: online now, and what it keeps in MicroNAS."""
    online, usage = set(chat_status()["online"]), usage_by_account()
    return [
        {**user.to_json(), "online": user.username in online,
         "storage_bytes": usage.get(user.username, 0)}
        for user in list_users()
    ]
