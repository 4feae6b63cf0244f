"""Rate-limit keys and the role-scaled default limit.

Anonymous clients and `usuario` get RATELIMIT_DEFAULT; `cliente` twice it and
`administrator` five times it, keyed per user when logged in so people behind one
NAT do not share a budget, and per IP otherwise.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many

from extensions import limiter

ROLE_MULTIPLIER = {"administrator": 5, "cliente": 2, "usuario": 1}
# Per client IP, on top of the per-account lockout: one address cannot sweep many accounts.
LOGIN_LIMIT = "10 per minute"
# Per client IP: the setup token has 256 bits, but nobody needs more tries than this.
SETUP_LIMIT = "10 per minute"


def client_ip_key() -> str:
    """Key attempts at a secret (a password, the setup token) by client IP, logged in or not."""
    return f"client-ip:{get_remote_address()}"


def scale_limits(spec: str, factor: int) -> str:
    """Multiply every amount in a limit string like '200 per day;50 per hour'."""
    scaled = [
        f"{item.amount * factor} per {item.multiples} {item.GRANULARITY.name}"
        for item in parse_many(spec)
    ]
    return ";".join(scaled)


class RateLimitPolicy:
    """The per-app key function and default limit that extensions.limiter delegates to."""

    def __init__(self, default_spec: str) -> None:
        self._by_role = {role: scale_limits(default_spec, k) for role, k in ROLE_MULTIPLIER.items()}
        self._anonymous = self._by_role["usuario"]

    def key(self) -> str:
        """Per user when logged in, per client IP otherwise."""
        if current_user.is_authenticated:
            return f"user:{current_user.id}"
        return f"ip:{get_remote_address()}"

    def default_limit(self) -> str:
        """The default limit for the current client's role."""
        if current_user.is_authenticated:
            return self._by_role.get(current_user.role, self._anonymous)
        return self._anonymous


@limiter.request_filter
def _exempt_infrastructure() -> bool:
    """Static files and the health check never count against anyone's limit."""
    return request.endpoint in ("static", "health")


def init_app(app: Flask) -> None:
    """Register the policy and bind the limiter (Redis storage when REDIS_URL is set)."""
    app.extensions["rate_limit"] = RateLimitPolicy(app.config["RATELIMIT_DEFAULT"])
    limiter.init_app(app)
