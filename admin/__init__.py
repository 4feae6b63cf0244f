"""The admin panel: its page, the /api/admin routes, and what it shows of chat and MicroNAS."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Note the start time for uptime and register the panel's blueprint."""
    from admin import routes, status

    status.record_start(app)
    app.register_blueprint(routes.bp)
