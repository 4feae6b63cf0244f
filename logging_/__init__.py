"""Audit trail: a buffered, rotating, tamper-evident CSV log of security-relevant events.

``init_app(app)`` puts an AuditLogger at ``app.extensions["audit"]`` and registers
``flask audit verify``; ``audit(event, ...)`` records one event with who and where.
"""

import os
from typing import Any

from flask import Flask, current_app, has_request_context, request


class AuditConfigError(RuntimeError):
    """The app is not set up for auditing (no key, or init_app was not called)."""


def init_app(app: Flask) -> None:
    """Create the app's AuditLogger from its config and register the audit CLI."""
    from logging_.audit_logger import AuditLogger
    from logging_.cli import audit_cli

    previous = app.extensions.get("audit")
    if previous is not None:
        previous.close()
    config = app.config
    app.extensions["audit"] = AuditLogger(
        audit_dir(app),
        audit_key(config),
        max_file_size_mb=float(config.get("AUDIT_MAX_FILE_MB", 10)),
        backup_count=int(config.get("AUDIT_BACKUP_COUNT", 5)),
        buffer_size=int(config.get("AUDIT_BUFFER_SIZE", 100)),
        flush_interval=float(config.get("AUDIT_FLUSH_INTERVAL", 1.0)),
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
    logger = current_app.extensions.get("audit")
    if logger is None:
        raise AuditConfigError("logging_.init_app(app) was not called")
    logger.log(
        event,
        user=_current_username(user),
        ip=_client_ip(ip),
        target=target,
        outcome=outcome,
        detail=detail,
    )


def audit_dir(app: Flask) -> str:
    """Return the folder of the app's audit trail (LOG_DIR, else <root>/logs)."""
    return app.config.get("LOG_DIR") or os.path.join(app.root_path, "logs")


def audit_key(config: Any) -> bytes:
    """Return the HMAC key of the trail: AUDIT_KEY, else SECRET_KEY."""
    key = config.get("AUDIT_KEY") or config.get("SECRET_KEY")
    if not key:
        # Without a secret key the chain could be recomputed by anyone who edits the file.
        raise AuditConfigError("AUDIT_KEY or SECRET_KEY must be set for the audit trail")
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
