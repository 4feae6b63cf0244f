"""The one-time link that creates the first administrator: a random token kept in INSTANCE_DIR.

The token file (mode 0600, beside the generated keys) holds the token and its expiry, so
every process of one installation prints the same link and a restart within the hour
does not invalidate it. Using it renames the file away first: two requests racing with
the same token cannot both create an administrator.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from security.clock import utcnow

# Long enough to walk to another machine and open the link; short enough that a link left
# in a terminal's scrollback is useless by the time anyone else reads it.
TOKEN_LIFETIME = timedelta(minutes=60)
TOKEN_FILE = "setup-token.json"  # noqa: S105 (a file name, not a secret)
USED_SUFFIX = ".used"


def current_token(instance_dir: str, now: datetime | None = None) -> str:
    """The unexpired setup token, made (and stored) now when there is none."""
    path = Path(instance_dir) / TOKEN_FILE
    now = now or utcnow()
    stored = _read(path)
    if stored is not None and now < stored[1]:
        return stored[0]
    token = secrets.token_urlsafe(32)
    _write(path, token, now + TOKEN_LIFETIME)
    return token


def is_valid(instance_dir: str, token: object, now: datetime | None = None) -> bool:
    """Whether `token` is the stored, unexpired setup token (compared in constant time)."""
    stored = _read(Path(instance_dir) / TOKEN_FILE)
    if stored is None or not isinstance(token, str) or not token:
        return False
    return secrets.compare_digest(stored[0], token) and (now or utcnow()) < stored[1]


def claim(instance_dir: str, token: object) -> bool:
    """Take the token for this request: True for exactly one caller with the valid token."""
    path = Path(instance_dir) / TOKEN_FILE
    if not is_valid(instance_dir, token):
        return False
    try:
        os.rename(path, path.with_name(TOKEN_FILE + USED_SUFFIX))
    except FileNotFoundError:
        return False  # another request used it a moment ago
    return True


def give_back(instance_dir: str) -> None:
    """Put a claimed token back (the administrator could not be created: weak password)."""
    path = Path(instance_dir) / TOKEN_FILE
    os.rename(path.with_name(TOKEN_FILE + USED_SUFFIX), path)


def forget(instance_dir: str) -> None:
    """Remove every trace of the token once an administrator exists."""
    for name in (TOKEN_FILE, TOKEN_FILE + USED_SUFFIX):
        (Path(instance_dir) / name).unlink(missing_ok=True)


def _read(path: Path) -> tuple[str, datetime] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return str(data["token"]), datetime.fromisoformat(data["expires"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, token: str, expires: datetime) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent)  # created 0600
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump({"token": token, "expires": expires.isoformat()}, file)
    os.replace(temporary, path)
