"""Route guards by role; a refusal is audited as access_denied."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, request
from flask_login import current_user, login_required

from logging_ import audit


def require_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow only logged-in users with one of `roles`; others get 403."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                audit(
                    "access_denied",
                    target=request.path,
                    outcome="refused",
                    detail=f"role={current_user.role}",
                )
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate
