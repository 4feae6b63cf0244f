"""PiChat's composition root: create_app() wires every package; `python app.py` serves it."""

from __future__ import annotations

import os

if __name__ == "__main__":
    # The async framework must patch the standard library before anything imports it.
    if os.environ.get("PICHAT_ASYNC_MODE", "eventlet") == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        import warnings

        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()

import gc
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

import admin
import chat
import logging_
import nas
import security
from chat.message_queue import redis_queue
from config import BASE_DIR, ConfigError, load_config
from errors import Refusal
from extensions import csrf, db, limiter, migrate, socketio
from logging_.applog import configure_app_logging
from nas.routes import UPLOADERS
from security import setup_token
from security.accounts import has_administrator, seed_accounts
from security.certificates import CertificateError, TlsFiles, fingerprint, server_context
from security.forms import LoginForm
from security.https_server import serve
from security.lan import listening_addresses
from security.login import LoginOutcome, authenticate, end_session, start_session
from security.login_page import form_when_rate_limited, login_page
from security.passwords import release_large_allocations
from security.ratelimit import LOGIN_LIMIT, client_ip_key
from security.redirects import safe_next
from security.tls import keep_renewed, prepare_certificates, uses_local_ca

log = logging.getLogger("pichat")
HTTP_HEADROOM = 100
DEMO_WARNING = "Modo de demostración: cuentas de prueba activas; no lo use en producción"


def create_app(config_name: str | None = None) -> Flask:
    """Build an app for `config_name` (development, production, testing)."""
    app = Flask(__name__)
    app.config.from_object(load_config(config_name))
    make_data_dirs(app)
    configure_app_logging(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    # The singleton keeps the previous app's queue manager; each app chooses its own.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        client_manager=redis_queue(app.config["REDIS_URL"]),
        cors_allowed_origins=app.config["ALLOWED_ORIGINS"] or None,
    )
    trust_proxies(app)
    logging_.init_app(app)
    security.init_app(app)
    chat.init_app(app)  # first: it subscribes to what MicroNAS's worker may announce
    nas.init_app(app)
    admin.init_app(app)
    register_pages(app)
    return app


def make_data_dirs(app: Flask) -> None:
    """Create the log folder and the SQLite file's folder on first start."""
    Path(app.config["LOG_DIR"]).mkdir(parents=True, exist_ok=True)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address from their headers.

    Wrapped outside Socket.IO's middleware, so sockets see the real address too.
    """
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_pages(app: Flask) -> None:
    """The simple page routes: health, login, logout and home."""

    @app.context_processor
    def navigation() -> dict[str, object]:
        demo = DEMO_WARNING if app.config["SEED_DEMO_USERS"] else None
        return {"nav_endpoints": app.view_functions, "demo_warning": demo}

    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok")

    @app.route("/login", methods=["GET", "POST"])
    @form_when_rate_limited
    @limiter.limit(LOGIN_LIMIT, methods=["POST"], key_func=client_ip_key)
    def login() -> Response | tuple[str, int, dict[str, str]]:
        form = LoginForm()
        if current_user.is_authenticated and request.method == "GET":
            return redirect(url_for("index"))
        if not form.validate_on_submit():
            status = 400 if request.method == "POST" else 200
            return login_page(form, LoginOutcome(status=status))
        outcome = authenticate(form.username.data, form.password.data)
        if outcome.user is None:
            return login_page(form, outcome)
        start_session(outcome.user, form.password.data)
        return redirect(safe_next(request.args.get("next")) or url_for("index"))

    @app.post("/logout")
    @login_required
    def logout() -> Response:
        end_session(current_user._get_current_object())
        return redirect(url_for("login"))

    @app.get("/")
    @login_required
    def index() -> str:
        return render_template("index.html", can_upload=current_user.role in UPLOADERS)


def prepare_database(app: Flask) -> list[str]:
    """Create or upgrade the schema, then seed the accounts this mode asks for."""
    with app.app_context():
        upgrade()
        return seed_accounts()


def announce(app: Flask, seeded: list[str], files: TlsFiles | None) -> None:
    """Tell the console where PiChat is, which CA to trust and, once, how to set it up."""
    config = app.config
    if config["SEED_DEMO_USERS"]:
        created = f" (creadas ahora: {', '.join(seeded)})" if seeded else ""
        log.warning("%s: admin/admin123, cliente/cliente123, usuario/usuario123.%s",
                    DEMO_WARNING, created)
    scheme = "https" if files else "http"
    urls = [f"{scheme}://{address}:{config['PORT']}/"
            for address in listening_addresses(config["HOST"])]
    for url in urls:
        log.info("PiChat disponible en %s", url)
    if files and files.ca_path:
        log.info("Certificado de PiChat: %sca (huella SHA-256 %s)", urls[0],
                 fingerprint(files.ca_path))
    with app.app_context():
        if config["SEED_DEMO_USERS"] or has_administrator():
            return
        token = setup_token.current_token(config["INSTANCE_DIR"])
    log.warning("Aún no hay administrador. Ábralo una vez, antes de una hora: %ssetup?token=%s",
                urls[0], token)


def main() -> None:
    """Serve on HOST:PORT with the configured async framework, over HTTPS unless TLS=off."""
    try:
        app = create_app()
        seeded = prepare_database(app)
        files = prepare_certificates(app.config)
        context = server_context(files) if files else None
    except (ConfigError, Refusal, CertificateError) as exc:
        sys.exit(f"PiChat no arranca: {exc}")
    announce(app, seeded, files)
    release_large_allocations()
    # Objects made at start-up live forever: out of the collector's sight, full collections
    # stop pausing every socket for ~130 ms.
    gc.collect()
    gc.freeze()
    config = app.config
    if context is not None and uses_local_ca(config):
        socketio.start_background_task(keep_renewed, context, config, socketio.sleep)
    serve(app, config["HOST"], config["PORT"], async_mode=config["ASYNC_MODE"],
          ssl_context=context, header_timeout=config["HTTP_HEADER_TIMEOUT"],
          max_connections=connection_ceiling(config), max_per_address=per_address_cap(config))


def connection_ceiling(config: Mapping[str, Any]) -> int:
    """Connections the web server accepts: every chat socket plus room for pages.

    eventlet's default ceiling is 1024 sockets, after which it stops answering HTTP too;
    the headroom keeps pages answering while chat holds MAX_CONNECTIONS sockets.
    """
    return config["MAX_CONNECTIONS"] + HTTP_HEADROOM


def per_address_cap(config: Mapping[str, Any]) -> int | None:
    """Connections one client address may hold; None behind a trusted proxy.

    Behind nginx every connection comes from the proxy's address, so a cap would refuse
    everyone at once; connections per client are limited in nginx there (`limit_conn`).
    """
    return None if config["TRUSTED_PROXIES"] else config["MAX_CONNECTIONS_PER_IP"]


if __name__ == "__main__":
    main()
