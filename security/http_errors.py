"""The HTTP edge's translator: refusals and errors as a Spanish page or JSON {error, message}."""

from __future__ import annotations

import logging
import sqlite3

import psycopg
from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from errors import Refusal
from extensions import db
from logging_ import audit

log = logging.getLogger(__name__)

ERRORS = {
    400: ("bad_request", "La petición no es válida."),
    401: ("unauthorized", "Inicie sesión para continuar."),
    403: ("forbidden", "No tiene permiso para hacer esto."),
    404: ("not_found", "No se encontró lo que busca."),
    405: ("method_not_allowed", "Método no permitido."),
    409: ("conflict", "La operación choca con el estado actual."),
    413: ("too_large", "El archivo supera el tamaño máximo permitido."),
    415: ("unsupported_type", "Tipo de archivo no permitido."),
    429: ("rate_limited", "Demasiadas peticiones. Espere un momento y vuelva a intentarlo."),
    500: ("server_error", "Error interno del servidor. Inténtelo de nuevo más tarde."),
    503: ("busy", "El servidor está ocupado. Inténtelo de nuevo en unos segundos."),
}
# SQLite's answers when another connection held the lock past the busy timeout.
_SQLITE_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
SQLITE_BUSY_MESSAGE = "La base de datos está ocupada. Inténtelo de nuevo en unos segundos."
# PostgreSQL refusing connections, restarting or cutting sessions (psycopg's OperationalError).
POSTGRES_DOWN_MESSAGE = "La base de datos no responde. Inténtelo de nuevo en unos segundos."


def wants_json() -> bool:
    """API paths and clients that prefer JSON get JSON errors."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(status: int, code: str | None = None, message: str | None = None) -> Response:
    """Build the error answer in the form the client wants."""
    default_code, default_message = ERRORS.get(status, ERRORS[500])
    code, message = code or default_code, message or default_message
    if wants_json():
        response = jsonify(error=code, message=message)
    else:
        response = Response(render_template("error.html", status=status, message=message))
    response.status_code = status
    return response


def _render_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, CSRFError):
        audit("csrf_rejected", target=request.path, outcome="refused", detail=error.description)
        return error_response(
            400, "csrf", "El formulario caducó o no es válido. Recargue la página."
        )
    if status == 429:
        audit("rate_limited", target=request.path, outcome="refused", detail=str(error.description))
        # Flask-Limiter adds Retry-After with the breached window's real reset time.
        return error_response(429)
    return error_response(status)


def _render_refusal(refusal: Refusal) -> Response:
    return error_response(refusal.status, refusal.code, refusal.message)


def _render_unexpected(error: Exception) -> Response:
    cause = getattr(error, "original_exception", None) or error
    if (message := passing_database_trouble(cause)) is not None:
        return _render_database_unavailable(message)
    log.exception("Unhandled error on %s %s", request.method, request.path, exc_info=error)
    return error_response(500)


def database_busy(error: BaseException) -> bool:
    """Whether `error` is the database unable to answer for now: SQLite giving up on a lock
    another connection holds, or PostgreSQL down, restarting or unreachable."""
    return passing_database_trouble(error) is not None


def passing_database_trouble(error: BaseException) -> str | None:
    """What to tell the user when `error` is a database condition that passes, else None."""
    if not isinstance(error, OperationalError):
        return None
    if isinstance(error.orig, psycopg.OperationalError):
        return POSTGRES_DOWN_MESSAGE
    code = getattr(error.orig, "sqlite_errorcode", None)  # extended code: the low byte is primary
    return SQLITE_BUSY_MESSAGE if code is not None and (code & 0xFF) in _SQLITE_BUSY_CODES else None


def _render_database_unavailable(message: str) -> Response:
    """A 503 for a database locked too long (by a backup, a maintenance shell, another
    process) or restarting: a condition that passes, not a bug, so one log line and no
    traceback."""
    log.warning("Database unavailable on %s %s: answered 503", request.method, request.path)
    try:
        db.session.rollback()
    except OperationalError:
        db.session.close()  # the connection is gone with the server; the pool forgets it
    # The error page must not ask the unavailable database who is logged in.
    g._login_user = current_app.login_manager.anonymous_user()
    return _render_refusal(Refusal(503, "busy", message))


def init_app(app: Flask) -> None:
    """Register the renderers for refusals, HTTP errors and unexpected exceptions."""
    app.register_error_handler(Refusal, _render_refusal)
    app.register_error_handler(HTTPException, _render_http_error)
    app.register_error_handler(InternalServerError, _render_unexpected)
    app.register_error_handler(OperationalError, _render_unexpected)
    if not app.debug:
        app.register_error_handler(Exception, _render_unexpected)
