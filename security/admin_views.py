"""What the admin panel shows about the running server, read from providers it never imports.

app.py puts `app.extensions["status"]`: name -> zero-argument callable returning a dict
("chat": online users and rooms, "nas": file counts and scanner). A missing provider
reads as None, which the page shows as "no disponible".
"""

from __future__ import annotations

import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from extensions import db
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


def _provider(name: str) -> dict[str, Any] | None:
    provider = current_app.extensions.get("status", {}).get(name)
    return None if provider is None else provider()


def chat_status() -> dict[str, Any] | None:
    """Online usernames and open rooms with member counts (only these fields: never text)."""
    data = _provider("chat")
    if data is None:
        return None
    rooms = [
        {
            "room": str(room["room"]),
            "members": int(room["members"]),
            "persistent": bool(room.get("persistent")),
        }
        for room in data.get("rooms", [])
    ]
    return {"online": sorted(str(name) for name in data.get("online", [])), "rooms": rooms}


def nas_status() -> dict[str, Any] | None:
    """File counts by status and the scanner in use."""
    data = _provider("nas")
    if data is None:
        return None
    scanner = data.get("scanner") or {}
    return {
        "counts": {str(status): int(n) for status, n in (data.get("counts") or {}).items()},
        "scanner": {"engine": scanner.get("engine"), "version": scanner.get("version")},
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
        "redis": bool(current_app.config.get("REDIS_URL")),
        "chat": chat_status(),
        "nas": nas_status(),
    }


def users_with_presence() -> list[dict[str, object]]:
    """Every account as the admin API shows it; `online` is None when chat cannot say."""
    chat = chat_status()
    online = None if chat is None else set(chat["online"])
    return [
        {**user.to_json(), "online": None if online is None else user.username in online}
        for user in list_users()
    ]
