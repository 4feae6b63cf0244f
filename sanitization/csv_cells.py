"""CSV cells that a spreadsheet will not run and a line reader will not split."""

import re

MAX_CELL_CHARS = 2000
TRUNCATION_MARKER = "…[truncado]"

# A spreadsheet runs a cell starting with these as a formula (OWASP CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Every line boundary of str.splitlines() is made visible text, so no reader (csv,
# "for line in file", splitlines) sees a forged row; other C0/C1 controls become \xNN
# so that viewing the log in a terminal cannot run escape sequences.
_NEWLINES = re.compile(r"\r\n|[\r\n\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def neutralise_csv_cell(value: object, max_chars: int = MAX_CELL_CHARS) -> str:
    """Return ``value`` as a single-line, formula-free cell of at most ``max_chars``."""
    text = "" if value is None else str(value)
    # Escaping never shortens text, so the head decides whether to truncate.
    cell = _escape(text[: max_chars + 1])
    quote = "'" if text.startswith(_FORMULA_STARTS) or cell.startswith(_FORMULA_STARTS) else ""
    if len(quote) + len(cell) > max_chars:
        cell = cell[: max_chars - len(quote) - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER
    return quote + cell


def _escape(text: str) -> str:
    text = _NEWLINES.sub(lambda m: _visible_newline(m.group()), text)
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _visible_newline(boundary: str) -> str:
    return "\\n" if boundary in ("\r\n", "\r", "\n") else f"\\u{ord(boundary):04x}"
