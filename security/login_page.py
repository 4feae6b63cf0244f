"""The login form as people read it: the refusal, when to try again, why the last session
ended, and which field has the focus."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import render_template, request, session
from flask_limiter.errors import RateLimitExceeded

from extensions import db, limiter
from logging_ import audit
from security import sessions
from security.forms import LoginForm
from security.headers import LOGGED_IN_KEY
from security.login import LoginOutcome
from security.models import User

RATE_LIMITED_MESSAGE = "Demasiadas peticiones desde este equipo."
# Below this a wait reads in seconds («43 s»); above it, in minutes («15 min»).
SECONDS_SHOWN_UNDER = 120

Page = tuple[str, int, dict[str, str]]


def wait_text(seconds: int) -> str:
    """«43 s» or «15 min»: how long until the next attempt may succeed."""
    if seconds < SECONDS_SHOWN_UNDER:
        return f"{seconds} s"
    return f"{math.ceil(seconds / 60)} min"


def login_page(form: LoginForm, outcome: LoginOutcome | None = None) -> Page:
    """The form with the refusal of `outcome` (status and Retry-After kept); on a plain
    visit, why this browser's last session ended."""
    outcome = outcome or LoginOutcome()
    page = render_template(
        "login.html", form=form, error=outcome.message or None,
        notice=ended_notice() if request.method == "GET" else None,
        retry_after=outcome.retry_after, wait=wait_text(outcome.retry_after),
        focus="password" if outcome.status == 401 else "username",
    )
    return page, outcome.status, outcome.headers()


def ended_notice() -> str | None:
    """Why this browser's last session ended, in Spanish; None when nothing ended.

    Read from the session cookie the browser still sends: the mark of a logout from here,
    or the stale user id and token of a session the server no longer accepts. Either stays
    until the next login, so every tab sent here by the same logout reads the same.
    """
    if session.get(sessions.ENDED) == sessions.LOGGED_OUT_HERE:
        return sessions.NOTICES[sessions.LOGGED_OUT_HERE]
    user_id, _, token = str(session.get(LOGGED_IN_KEY, "")).partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() and token else None
    if user is None:
        return None
    return sessions.NOTICES[
        sessions.why_ended(token, user.session_token, user.active, user.username)
    ]


def form_when_rate_limited(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap the rate-limited login view: past its limit, the form comes back (429) saying
    when to try again, instead of a bare error page."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except RateLimitExceeded as error:
            audit("rate_limited", target=request.path, outcome="refused",
                  detail=str(error.description))
            return login_page(LoginForm(), LoginOutcome(
                status=429, message=RATE_LIMITED_MESSAGE, retry_after=_seconds_to_reset()))

    return guarded


def _seconds_to_reset() -> int:
    breached = limiter.current_limit
    return max(1, math.ceil(breached.reset_at - time.time())) if breached else 60
