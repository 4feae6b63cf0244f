"""What logging in through the real form takes, in-process or over HTTP: the demo accounts'
passwords and the CSRF token that every page carries."""

from __future__ import annotations

import re

DEMO_PASSWORDS = {"admin": "admin123", "cliente": "cliente123", "usuario": "usuario123"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def password_for(username: str, password: str | None = None) -> str:
    """`password`, or the demo account's own when none is given."""
    return DEMO_PASSWORDS[username] if password is None else password


def csrf_token(page: str) -> str:
    """The CSRF token in a page's csrf-token meta tag."""
    match = CSRF_META.search(page)
    assert match, "page has no csrf-token meta"
    return match.group(1)
