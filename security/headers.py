"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, request, session

# No inline script or handler and no CDN: an injected tag cannot run code.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# Once a browser has seen PiChat over HTTPS it never tries plain HTTP again for a year, so a
# network attacker cannot strip TLS from a later visit.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
# Flask-Login's session key: read without loading the user, so static files cost no query.
LOGGED_IN_KEY = "_user_id"


def add_security_headers(response: Response) -> Response:
    """Set the headers; a route that set its own CSP (downloads: sandbox) keeps it."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if LOGGED_IN_KEY in session and "no-store" not in response.headers.get("Cache-Control", ""):
        # A shared or lost machine's cache must not keep what only this person may see.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the header hook."""
    app.after_request(add_security_headers)
