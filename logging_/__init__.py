"""Audit trail: a buffered, rotating, tamper-evident CSV log of security-relevant events.

``init_app(app)`` puts an AuditLogger at ``app.extensions["audit"]`` and registers
``flask audit verify``; ``audit(event, ...)`` records one event with who and where.
"""

from collections.abc import Mapping

from flask import Flask, current_app, has_request_context, request


def init_app(app: Flask) -> None:
    """Create the app's AuditLogger from its config and register the audit CLI."""
    from logging_.audit_logger import AuditLogger
    from logging_.cli import audit_cli

    previous = app.extensions.get("audit")
    if previous is not None:
        previous.close()
    config = app.config
    app.extensions["audit"] = AuditLogger(
        config["LOG_DIR"],
        audit_key(config),
        max_file_size_mb=config["AUDIT_MAX_MB"],
        backup_count=config["AUDIT_BACKUP_COUNT"],
        buffer_size=config["AUDIT_BUFFER_ROWS"],
        flush_interval=config["AUDIT_FLUSH_SECONDS"],
        syslog=config.get("AUDIT_SYSLOG"),
    )
    app.cli.add_command(audit_cli)


def audit(
    event: str,
    target: str = "",
    outcome: str = "ok",
    detail: str = "",
    user: str | None = None,
    ip: str | None = None,
) -> None:
    """Record ``event`` for the current user and client, falling back to user/ip."""
    current_app.extensions["audit"].log(
        event,
        user=_current_username(user),
        ip=_client_ip(ip),
        target=target,
        outcome=outcome,
        detail=detail,
    )


def audit_key(config: Mapping[str, object]) -> bytes:
    """Return the HMAC key of the trail (config.py always resolves AUDIT_KEY)."""
    key = config["AUDIT_KEY"]
    return key.encode("utf-8") if isinstance(key, str) else bytes(key)


def _current_username(fallback: str | None) -> str:
    if has_request_context() and getattr(current_app, "login_manager", None) is not None:
        from flask_login import current_user

        if current_user.is_authenticated:
            return current_user.username
    return fallback or ""


def _client_ip(fallback: str | None) -> str:
    if has_request_context() and request.remote_addr:
        return request.remote_addr
    return fallback or ""
