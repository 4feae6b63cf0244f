"""Upload type detection: libmagic on the file's first bytes, checked against an allow-list.

The client's Content-Type is never trusted; the name's extension must also agree with the
content, so a page or program renamed ``.pdf`` is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from types import MappingProxyType

import magic

from errors import Refusal
from sanitization.filenames import file_extension

SNIFF_BYTES = 8 * 1024

_ODF = "application/vnd.oasis.opendocument."
_OOXML = "application/vnd.openxmlformats-officedocument."
OFFICE_BY_EXTENSION = MappingProxyType({
    "odt": _ODF + "text",
    "ods": _ODF + "spreadsheet",
    "odp": _ODF + "presentation",
    "docx": _OOXML + "wordprocessingml.document",
    "xlsx": _OOXML + "spreadsheetml.sheet",
    "pptx": _OOXML + "presentationml.presentation",
})

DEFAULT_ALLOWED: Mapping[str, AbstractSet[str]] = MappingProxyType({
    # libmagic names CSV text/csv, application/csv or just text/plain, depending on content.
    "text/plain": frozenset({"txt", "log", "md", "csv"}),
    "text/csv": frozenset({"csv"}),
    "application/csv": frozenset({"csv"}),
    "application/pdf": frozenset({"pdf"}),
    "image/png": frozenset({"png"}),
    "image/jpeg": frozenset({"jpg", "jpeg"}),
    "image/gif": frozenset({"gif"}),
    "image/webp": frozenset({"webp"}),
    "application/zip": frozenset({"zip"}),
    **{mime: frozenset({extension}) for extension, mime in OFFICE_BY_EXTENSION.items()},
})

# Refused whatever ALLOWED_TYPES says: programs, scripts and markup that a browser would
# render run code on a user's machine (or on a misconfigured server) once downloaded.
NEVER_MIMES = frozenset({
    "application/x-executable", "application/x-pie-executable", "application/x-sharedlib",
    "application/x-dosexec", "application/x-mach-binary", "application/x-msdownload",
    "application/vnd.microsoft.portable-executable", "application/x-msi",
    "application/java-archive", "application/javascript", "text/javascript",
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
})
_NEVER_MIME_WORDS = ("executable", "script", "php", "python", "perl", "ruby", "html", "svg")
NEVER_EXTENSIONS = frozenset({
    "exe", "dll", "com", "scr", "msi", "bat", "cmd", "ps1", "vbs", "jar", "js", "mjs",
    "sh", "bash", "php", "phtml", "phar", "py", "pl", "cgi", "rb", "html", "htm", "xhtml",
    "shtml", "svg", "svgz", "xml", "hta", "htaccess", "lnk", "so", "apk", "app",
})

_ZIP_MAGIC = b"PK\x03\x04"


def _rejected(message: str) -> Refusal:
    return Refusal(415, "unsupported_type", message)


def detect_mime(head: bytes) -> str:
    """Return libmagic's MIME type for the first SNIFF_BYTES of a file."""
    try:
        return magic.from_buffer(bytes(head[:SNIFF_BYTES]), mime=True)
    except magic.MagicException as exc:
        raise _rejected("No se pudo determinar el tipo del archivo.") from exc


def check_type(head: bytes, display_name: str,
               allowed: Mapping[str, AbstractSet[str]] = DEFAULT_ALLOWED) -> str:
    """Return the MIME type the upload is accepted as, or raise a 415 refusal."""
    mime = detect_mime(head)
    extension = file_extension(display_name)
    if is_never_allowed(mime) or extension in NEVER_EXTENSIONS:
        raise _rejected(f"Este tipo de archivo nunca se admite ({mime}, .{extension}).")
    if not extension:
        raise _rejected("El archivo no tiene extensión; no se puede comprobar su tipo.")
    mime = _office_container(mime, extension, head)
    if mime not in allowed:
        raise _rejected(f"Tipo de archivo no permitido: {mime}.")
    if extension not in allowed[mime]:
        raise _rejected(f"La extensión .{extension} no corresponde al contenido ({mime}).")
    return mime


def is_never_allowed(mime: str) -> bool:
    """Return True for executables, scripts and markup, which no allow-list may admit."""
    mime = mime.lower()
    return mime in NEVER_MIMES or any(word in mime for word in _NEVER_MIME_WORDS)


def never_allowed_entries(allowed: Mapping[str, AbstractSet[str]]) -> list[str]:
    """The entries of an allow-list (ALLOWED_TYPES) that admit a type no list may admit."""
    return sorted(
        mime for mime, extensions in allowed.items()
        if is_never_allowed(mime) or extensions & NEVER_EXTENSIONS
    )


def _office_container(mime: str, extension: str, head: bytes) -> str:
    """Name a zip by its office extension: libmagic misses minimal or reordered documents."""
    if extension not in OFFICE_BY_EXTENSION:
        return mime
    generic_zip = mime == "application/octet-stream" and head.startswith(_ZIP_MAGIC)
    if mime == "application/zip" or generic_zip:
        return OFFICE_BY_EXTENSION[extension]
    return mime
