"""Display names for uploaded files (shown to users, never used as a path on disk)."""

import re
import unicodedata

MAX_FILENAME_CHARS = 200
FALLBACK_FILENAME = "archivo"
# Longest extension kept when a long name is cut; past it the "extension" is just text.
_MAX_KEPT_EXTENSION = 16

# Cc/Cf hide or reorder characters (NUL, bidi overrides as in "factura\u202efdp.exe");
# Zl/Zp break lines; Cs (lone surrogates) cannot be encoded as UTF-8.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_PATH_SEPARATORS = re.compile(r"[/\\]")
# Unsafe in a Content-Disposition header or on Windows/macOS filesystems.
_UNSAFE = re.compile(r'[<>:"|?*]')
# Leading dots would make a hidden file (".htaccess"); Windows drops trailing dots and
# spaces, which would change the extension a user sees ("informe.exe." is an .exe).
_EDGE_DOTS_AND_SPACES = re.compile(r"^[\s.]+|[\s.]+$")


def clean_display_filename(raw: object, max_chars: int = MAX_FILENAME_CHARS) -> str:
    """Return a safe, non-empty display name of at most ``max_chars`` characters."""
    if not isinstance(raw, str):
        return FALLBACK_FILENAME
    name = "".join(c for c in raw if unicodedata.category(c) not in _REMOVED_CATEGORIES)
    name = unicodedata.normalize("NFC", name)
    name = _PATH_SEPARATORS.split(name)[-1]
    name = _EDGE_DOTS_AND_SPACES.sub("", _UNSAFE.sub("_", name))
    return _EDGE_DOTS_AND_SPACES.sub("", _shorten(name, max_chars)) or FALLBACK_FILENAME


def file_extension(name: str) -> str:
    """Return the lower-cased extension of the last path component, without the dot."""
    base = _PATH_SEPARATORS.split(name)[-1].lstrip(".")
    stem, dot, extension = base.rpartition(".")
    return extension.strip().lower() if dot and stem else ""


def _shorten(name: str, max_chars: int) -> str:
    if len(name) <= max_chars:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension
    if not stem or len(suffix) > min(_MAX_KEPT_EXTENSION, max_chars // 2):
        return name[:max_chars]
    return stem[: max_chars - len(suffix)] + suffix
