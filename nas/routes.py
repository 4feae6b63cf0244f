"""MicroNAS HTTP routes: the files page, list, upload, download, delete and the admin rescan.

The blueprint and its rate limits are built once at import: Flask-Limiter's ``limiter`` is
a process-wide singleton, so limits declared per create_app() would pile up.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, render_template, request, send_file
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, same_origin, validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import ValidationError

from errors import Refusal
from extensions import csrf, limiter
from nas import files
from nas.multipart import FilePart, PartReader
from nas.scan_queue import queue_scan
from security.roles import require_role

# Per user. Uploads are the costliest request (disk, hashing, a scan); five a minute is
# plenty for a person and stops one account from filling the disk or the scan queue.
UPLOAD_LIMIT = "5 per minute"
# Downloads are cheap but unbounded ones would let one account saturate the LAN link.
DOWNLOAD_LIMIT = "10 per minute"
# Deleting is destructive: a stolen admin session should not wipe the store in one burst.
DELETE_LIMIT = "3 per minute"
UPLOADERS = ("administrator", "cliente")

bp = Blueprint("nas", __name__)


@bp.get("/files")
@login_required
def files_page() -> str:
    """The files page: the list, an upload control for uploaders, delete for administrators."""
    return render_template(
        "files.html",
        files=[record.to_json() for record in files.list_files()],
        can_upload=current_user.role in UPLOADERS,
        max_upload_mb=current_app.config["MAX_UPLOAD_MB"],
    )


@bp.get("/api/files")
@login_required
def list_files() -> Response:
    """Every file (``?status=`` filters), newest first."""
    return jsonify([record.to_json() for record in files.list_files(request.args.get("status"))])


@bp.post("/api/files")
@require_role(*UPLOADERS)
@limiter.limit(UPLOAD_LIMIT)
@csrf.exempt  # checked in _open_upload: CSRFProtect would spool the whole body first
def upload() -> tuple[Response, int]:
    """Receive one multipart ``file``: 201 with the file JSON (and a message when blocked)."""
    return jsonify(files.receive_upload(_open_upload())), 201


@bp.get("/api/files/<file_id>/download")
@login_required
@limiter.limit(DOWNLOAD_LIMIT)
def download(file_id: str) -> Response:
    """Send a clean file as an attachment that no browser will render or sniff."""
    record, path = files.downloadable(file_id)
    response = send_file(path, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = content_disposition(record.display_name)
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.delete("/api/files/<file_id>")
@require_role("administrator")
@limiter.limit(DELETE_LIMIT)
def delete(file_id: str) -> tuple[str, int]:
    """Delete a file and its row."""
    files.delete_file(file_id)
    return "", 204


@bp.post("/api/files/rescan")
@require_role("administrator")
def rescan() -> tuple[Response, int]:
    """Queue every pending file for a scan now."""
    return jsonify(queued=queue_scan()), 202


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name as RFC 5987 ``filename*``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = ascii_name.replace("\\", "_").replace('"', "_").strip() or "archivo"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _open_upload() -> FilePart:
    """Decode the body up to the file part and check the CSRF token (header or earlier field)."""
    boundary = request.mimetype_params.get("boundary", "")
    if request.mimetype != "multipart/form-data" or not boundary:
        raise Refusal(400, "no_file", "Envíe el archivo como multipart/form-data (campo file).")
    try:
        part = PartReader(request.stream, boundary.encode("ascii")).open()
    except RequestEntityTooLarge as exc:  # Content-Length over MAX_CONTENT_LENGTH
        raise files.too_large() from exc
    except ValueError as exc:  # MultipartError, a bad boundary, undecodable headers
        raise Refusal(400, "no_file", "No se recibió ningún archivo.") from exc
    _check_csrf(part.fields)
    return part


def _check_csrf(fields: dict[str, str]) -> None:
    """CSRFProtect's checks, on the header or on a field sent before the file."""
    config = current_app.config
    token = next((request.headers[h] for h in config["WTF_CSRF_HEADERS"] if h in request.headers),
                 fields.get(config["WTF_CSRF_FIELD_NAME"]))
    try:
        validate_csrf(token)
    except ValidationError as exc:
        raise CSRFError(exc.args[0]) from exc
    if request.is_secure and config["WTF_CSRF_SSL_STRICT"] and not same_origin(
        request.referrer or "", f"https://{request.host}/"
    ):
        raise CSRFError("The referrer does not match the host.")
