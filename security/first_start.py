"""First start: the one-time page that creates the administrator, and the local CA's pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from errors import Refusal
from extensions import limiter
from logging_ import audit
from security import setup_token
from security.accounts import create_user, has_administrator
from security.certificates import fingerprint
from security.forms import SetupForm
from security.login import start_session
from security.models import User
from security.passwords import MIN_PASSWORD_CHARS
from security.ratelimit import SETUP_LIMIT, client_ip_key
from security.tls import local_ca_path

bp = Blueprint("first_start", __name__)
BAD_LINK = Refusal(
    403, "bad_token",
    "El enlace de configuración no es válido o ha caducado. Reinicie PiChat: la consola "
    "mostrará uno nuevo.",
)


@bp.route("/setup", methods=["GET", "POST"])
@limiter.limit(SETUP_LIMIT, key_func=client_ip_key)
def setup() -> Response | str | tuple[str, int]:
    """Create the first administrator through the one-time link, then log them in."""
    if has_administrator():
        abort(404)
    form = SetupForm()
    token = request.args.get("token") if request.method == "GET" else form.token.data
    if not setup_token.is_valid(current_app.config["INSTANCE_DIR"], token):
        audit("access_denied", target="/setup", outcome="refused", detail="setup_token")
        raise BAD_LINK
    form.token.data = token
    if not form.validate_on_submit():
        return _page(form), 400 if request.method == "POST" else 200
    try:
        user = _create_administrator(form)
    except Refusal as refusal:
        return _page(form, refusal.message), refusal.status
    start_session(user, form.password.data)
    audit("setup_completed", target=user.username)
    return redirect(url_for("index"))


def _create_administrator(form: SetupForm) -> User:
    """Claim the token, then create the account; a refused password gives the token back."""
    instance = current_app.config["INSTANCE_DIR"]
    if not setup_token.claim(instance, form.token.data):
        raise BAD_LINK
    try:
        user = create_user(form.username.data, form.password.data, "administrator")
    except Refusal:
        setup_token.give_back(instance)
        raise
    setup_token.forget(instance)
    return user


def _page(form: SetupForm, error: str | None = None) -> str:
    return render_template("setup.html", form=form, error=error, min_chars=MIN_PASSWORD_CHARS)


@bp.get("/ca.crt")
def ca_certificate() -> Response:
    """The local CA certificate, to install on every device that opens PiChat."""
    path = local_ca_path(current_app.config)
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/x-x509-ca-cert", as_attachment=True,
                     download_name="pichat-ca.crt")


@bp.get("/ca")
def ca_page() -> str:
    """How to install the local CA on Windows, macOS, Linux, Android and iOS."""
    path = local_ca_path(current_app.config)
    return render_template("ca.html", fingerprint=fingerprint(path) if path else None)


@bp.app_context_processor
def local_ca() -> dict[str, bool]:
    """Pages link to /ca only when there is a local CA to install."""
    return {"local_ca": local_ca_path(current_app.config) is not None}


def init_app(app: Flask) -> None:
    """Register the first-start pages."""
    app.register_blueprint(bp)
