"""Chat message text: newlines kept, control and bidi characters removed."""

import re

from errors import Refusal, bad_request

MAX_MESSAGE_CHARS = 2000
# Input over this many times the limit is refused as too long before any per-character
# work, so a 1 MB frame costs the event loop only a length check. Only text padded with
# thousands of control characters or spaces is refused here and not after cleaning.
_RAW_LENGTH_FACTOR = 4

_BIDI_CONTROLS = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
# Cc is U+0000-U+001F and U+007F-U+009F. Bidi overrides/isolates could make a message
# display reversed ("Trojan Source"); tab becomes a space so words stay apart.
_TRANSLATION = {
    **{cp: None for cp in [*range(0x00, 0x20), *range(0x7F, 0xA0), *_BIDI_CONTROLS]},
    ord("\n"): "\n",
    ord("\t"): " ",
}
# A lone surrogate (possible from JSON "\ud800") cannot be encoded as UTF-8 and would
# make storing or sending the message raise.
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_message_text(raw: object, max_chars: int = MAX_MESSAGE_CHARS) -> str:
    """Return the message ready to broadcast, or raise bad_request / too_long."""
    if not isinstance(raw, str):
        raise bad_request("El mensaje debe ser texto.")
    too_long = Refusal(400, "too_long", f"El mensaje supera los {max_chars} caracteres.")
    if len(raw) > _RAW_LENGTH_FACTOR * max_chars:
        raise too_long
    text = raw.replace("\r\n", "\n").replace("\r", "\n").translate(_TRANSLATION)
    text = _SURROGATES.sub("", text).strip()
    if not text:
        raise bad_request("El mensaje está vacío.")
    if len(text) > max_chars:
        raise too_long
    return text
