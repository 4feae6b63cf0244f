"""The office's words for PiChat's codes: roles, audit events and their outcomes.

One mapping for every page: templates call `label`, and a page whose script draws codes
gets `LABELS` as JSON from its template, never a copy. A code with no label shows as itself.
"""

from __future__ import annotations

from flask import Flask

ROLE_LABELS = {"administrator": "Administrador", "cliente": "Cliente", "usuario": "Usuario"}

EVENT_LABELS = {
    "login_success": "Inicio de sesión",
    "login_failed": "Inicio de sesión fallido",
    "account_locked": "Cuenta bloqueada",
    "logout": "Cierre de sesión",
    "rate_limited": "Demasiadas peticiones",
    "csrf_rejected": "Formulario caducado o ajeno",
    "setup_completed": "Configuración inicial",
    "user_created": "Cuenta creada",
    "user_updated": "Cuenta modificada",
    "user_unlocked": "Cuenta desbloqueada",
    "room_created": "Sala creada",
    "room_joined": "Entrada en una sala",
    "room_join_failed": "Entrada en una sala rechazada",
    "room_left": "Salida de una sala",
    "room_closed": "Sala cerrada",
    "direct_message": "Mensaje directo",
    "message_deleted": "Mensaje borrado",
    "history_purged": "Historial depurado",
    "file_uploaded": "Archivo subido",
    "file_downloaded": "Archivo descargado",
    "file_deleted": "Archivo borrado",
    "file_infected": "Archivo infectado",
    "file_shared": "Archivo compartido en el chat",
    "access_denied": "Acceso denegado",
    "socket_refused": "Conexión de chat rechazada",
}

OUTCOME_LABELS = {
    "ok": "Correcto",
    "refused": "Rechazado",
    "bad_credentials": "Usuario o contraseña incorrectos",
    "locked": "Bloqueado",
    "disabled": "Cuenta desactivada",
    "blocked": "Bloqueado",
    "disconnected": "Desconectado",
    "unauthenticated": "Sin sesión",
    "too_many_sockets": "Demasiadas conexiones",
    "wrong_password": "Contraseña incorrecta",
    "not_found": "No existe",
    "forbidden": "Sin permiso",
    "bad_request": "Petición no válida",
    "rate_limited": "Demasiados intentos",
    "quota": "Límite alcanzado",
    "exists": "Ya existe",
    "too_long": "Demasiado largo",
}

LABELS = {"roles": ROLE_LABELS, "events": EVENT_LABELS, "outcomes": OUTCOME_LABELS}


def label(kind: str, code: str) -> str:
    """The Spanish label of `code` among `kind` ("roles", "events", "outcomes"), else `code`."""
    return LABELS[kind].get(code, code)


def init_app(app: Flask) -> None:
    """Give every template `label(kind, code)` and the whole mapping as `labels`."""
    app.add_template_global(label, "label")
    app.add_template_global(LABELS, "labels")
