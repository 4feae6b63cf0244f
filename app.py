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

        warnings.filterwarnings("ignore", message="Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()

import fcntl
import gc
import logging
import socket
import struct
import sys
from pathlib import Path

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
from config import BASE_DIR, ConfigError, load_config
from errors import Refusal
from extensions import csrf, db, limiter, migrate, socketio
from logging_.applog import configure_app_logging
from security.accounts import seed_accounts
from security.forms import LoginForm
from security.login import authenticate, end_session, start_session
from security.passwords import release_large_allocations
from security.ratelimit import LOGIN_LIMIT, login_ip_key
from security.redirects import safe_next

log = logging.getLogger("pichat")
HTTP_HEADROOM = 100
SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address


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
        message_queue=app.config["REDIS_URL"],
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
        return {"nav_endpoints": app.view_functions}

    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok")

    @app.route("/login", methods=["GET", "POST"])
    @limiter.limit(LOGIN_LIMIT, methods=["POST"], key_func=login_ip_key)
    def login() -> Response | str:
        form = LoginForm()
        if current_user.is_authenticated and request.method == "GET":
            return redirect(url_for("index"))
        if not form.validate_on_submit():
            status = 400 if request.method == "POST" else 200
            return render_template("login.html", form=form), status
        outcome = authenticate(form.username.data, form.password.data)
        if outcome.user is None:
            page = render_template("login.html", form=form, error=outcome.message)
            return page, outcome.status, outcome.headers()
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
        return render_template("index.html")


def prepare_database(app: Flask) -> list[str]:
    """Create or upgrade the schema, then seed the accounts this mode asks for."""
    with app.app_context():
        upgrade()
        return seed_accounts()


def lan_addresses() -> list[str]:
    """The IPv4 addresses of this machine's interfaces, so people know what to type."""
    addresses = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            request_ = struct.pack("256s", name.encode()[:15])
            try:
                packed = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request_)[20:24]
            except OSError:
                continue
            addresses.add(socket.inet_ntoa(packed))
    return sorted(addresses, key=lambda a: (a.startswith("127."), a)) or ["127.0.0.1"]


def server_options(app: Flask) -> dict[str, object]:
    """Web-server options: the connection ceiling, eventlet's buffers, TLS when configured."""
    # eventlet's default ceiling is 1024 sockets, after which it stops answering HTTP too;
    # the headroom keeps pages answering while chat holds MAX_CONNECTIONS sockets.
    ceiling = app.config["MAX_CONNECTIONS"] + HTTP_HEADROOM
    if app.config["ASYNC_MODE"] == "gevent":
        options: dict[str, object] = {"spawn": ceiling}
    else:
        options = {"max_size": ceiling, "protocol": small_buffer_protocol()}
    if app.config["TLS_CERT"] and app.config["TLS_KEY"]:
        options.update(certfile=app.config["TLS_CERT"], keyfile=app.config["TLS_KEY"])
    return options


def small_buffer_protocol() -> type:
    """eventlet's HTTP protocol with a 4 KiB write buffer instead of 16 KiB per socket.

    The buffer lives as long as the socket, so idle chat sockets pay for it; below 4 KiB
    small responses start waiting on Nagle's algorithm.
    """
    from eventlet import wsgi

    return type("SmallBufferProtocol", (wsgi.HttpProtocol,), {"wbufsize": 4096})


def main() -> None:
    """Serve on HOST:PORT with the configured async framework."""
    try:
        app = create_app()
        seeded = prepare_database(app)
    except (ConfigError, Refusal) as exc:
        sys.exit(f"PiChat no arranca: {exc}")
    if app.config["SEED_DEMO_USERS"]:
        log.warning(
            "MODO DESARROLLO: cuentas de prueba admin/admin123, cliente/cliente123, "
            "usuario/usuario123. No lo use en producción.%s",
            f" (creadas ahora: {', '.join(seeded)})" if seeded else "",
        )
    release_large_allocations()
    # Objects made at start-up live forever: out of the collector's sight, full collections
    # stop pausing every socket for ~130 ms.
    gc.collect()
    gc.freeze()
    host = app.config["HOST"]
    for address in lan_addresses() if host in ("0.0.0.0", "::") else [host]:
        log.info("PiChat disponible en http://%s:%s/", address, app.config["PORT"])
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"], **server_options(app))


if __name__ == "__main__":
    main()
