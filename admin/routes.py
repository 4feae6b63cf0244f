"""The admin panel: the /admin page and the /api/admin JSON routes, administrators only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from admin import audit_query, status
from errors import Refusal, bad_request
from logging_ import audit
from logging_.events import AUDIT_EVENTS
from logging_.reader import rows_to_csv
from sanitization.names import truncate_for_log
from security.accounts import create_user, get_user, unlock, update_user
from security.models import ROLES
from security.roles import require_role

T = TypeVar("T")
bp = Blueprint("admin", __name__)
CREATE_FIELDS = frozenset({"username", "password", "role"})
UPDATE_FIELDS = frozenset({"role", "active", "password"})


@bp.before_request
@require_role("administrator")
def administrators_only() -> None:
    """Every page and API of this blueprint answers administrators only (others: 403)."""


def json_fields(allowed: frozenset[str]) -> dict[str, Any]:
    """The request's JSON object, refusing anything else and fields outside `allowed`."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("Envíe un objeto JSON.")
    if unknown := sorted(set(body) - allowed):
        raise bad_request(f"Campos no admitidos: {', '.join(unknown)}.")
    return body


def audited(event: str, target: object, action: Callable[[], T]) -> T:
    """Run `action()`; a refusal is audited as `event` with outcome refused, then re-raised."""
    try:
        return action()
    except Refusal as refusal:
        audit(event, target=truncate_for_log(target), outcome="refused", detail=refusal.code)
        raise


def describe_changes(changed: list[str], user_json: dict[str, object]) -> str:
    """Audit detail of an update: the changed fields, new role/active shown, never the password."""
    shown = {"role": user_json["role"], "active": str(user_json["active"]).lower()}
    return ",".join(f"{name}={shown[name]}" if name in shown else name for name in changed)


@bp.get("/admin")
def panel() -> str:
    """The admin page; its script loads every section through the API."""
    return render_template("admin.html", roles=ROLES, events=AUDIT_EVENTS)


@bp.get("/api/admin/users")
def list_accounts() -> Response:
    """Every account with its state and whether it is online now."""
    return jsonify(status.users_with_presence())


@bp.post("/api/admin/users")
def create_account() -> tuple[Response, int]:
    """Create an account from {username, password, role}."""
    body = json_fields(CREATE_FIELDS)
    user = audited(
        "user_created",
        body.get("username"),
        lambda: create_user(body.get("username"), body.get("password"), body.get("role")),
    )
    audit("user_created", target=user.username, detail=f"role={user.role}")
    return jsonify(username=user.username, role=user.role, active=user.active), 201


@bp.patch("/api/admin/users/<username>")
def update_account(username: str) -> Response:
    """Change role, active or password; the user's sessions and sockets end at once."""
    body = json_fields(UPDATE_FIELDS)
    user = get_user(username)
    changed = audited("user_updated", user.username, lambda: update_user(user, **body))
    shown = user.to_json()
    if changed:
        audit("user_updated", target=user.username, detail=describe_changes(changed, shown))
    return jsonify(shown)


@bp.post("/api/admin/users/<username>/unlock")
def unlock_account(username: str) -> Response:
    """Lift a login lockout."""
    user = get_user(username)
    unlock(user)
    audit("user_unlocked", target=user.username)
    return jsonify(user.to_json())


def filtered_rows(wanted: audit_query.AuditFilter) -> list[dict[str, str]]:
    """Rows of the trail, including events still in the logger's buffer."""
    current_app.extensions["audit"].flush()
    return audit_query.matching_rows(current_app.config["LOG_DIR"], wanted)


@bp.get("/api/admin/audit")
def audit_page() -> Response:
    """A page of the audit trail, newest first, filtered by event, user, since and until."""
    return jsonify(filtered_rows(audit_query.parse_filter(request.args)))


@bp.get("/api/admin/audit.csv")
def audit_export() -> Response:
    """Every row the filters match as CSV, cells neutralised, as a download."""
    wanted = audit_query.for_export(audit_query.parse_filter(request.args))
    return Response(
        rows_to_csv(filtered_rows(wanted)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="pichat-auditoria.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/api/admin/status")
def server_status() -> Response:
    """Uptime, version, backends, connected users and open rooms."""
    return jsonify(status.server_status())

