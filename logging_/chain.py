"""Row format of the audit trail: columns, timestamps, neutralised cells and the HMAC chain.

chain = hex HMAC-SHA256(key, previous chain + "\\x1f".join(the 7 cells as stored)); the
first row ever chains from "". The HMAC runs over the cells exactly as written (after
neutralisation), so verification needs only the file and the key.
"""

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from sanitization.csv_cells import neutralise_csv_cell

COLUMNS = ("ts", "event", "user", "ip", "target", "outcome", "detail", "chain")
HEADER = ",".join(COLUMNS) + "\r\n"
HEADER_BYTES = HEADER.encode()
# DESIGN.md: an attempted username is logged as typed but cut at 64 characters.
USER_MAX_CHARS = 64
# A stored row always ends with ",<64 hex digits>\r\n"; that tail is all a writer reads.
CHAIN_TAIL = re.compile(rb",([0-9a-f]{64})\r\n\Z")
CHAIN_TAIL_BYTES = 67
_SEP = "\x1f"
# Repeated values (event names, users, IPs) are neutralised once; the bound keeps a
# flood of distinct values from growing the memo without limit.
_MEMO_MAX = 4096

RawRow = tuple[int, object, object, object, object, object, object]


def neutralise_user(value: object) -> str:
    """Neutralise a user cell the way the trail stores it (cut at USER_MAX_CHARS)."""
    return neutralise_csv_cell(value, max_chars=USER_MAX_CHARS)


class ChainHasher:
    """Computes the chain value of a row from the previous one."""

    def __init__(self, key: bytes) -> None:
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def chain(self, prev: str, cells: Sequence[str]) -> str:
        """Return the chain value of ``cells`` following ``prev``."""
        mac = self._mac.copy()
        mac.update((prev + _SEP.join(cells)).encode("utf-8"))
        return mac.hexdigest()


class _NeutralMemo(dict):
    """Neutralised form of each str seen, computed on first lookup."""

    def __init__(self, neutralise: Callable[[object], str]) -> None:
        super().__init__()
        self.neutralise = neutralise

    def __missing__(self, value: str) -> str:
        if len(self) >= _MEMO_MAX:
            self.clear()
        cell = self[value] = self.neutralise(value)
        return cell

    def cell(self, value: object) -> str:
        """Return the neutralised cell of any value (memoised for str only)."""
        # Only str keys: 1, 1.0 and True are equal dict keys but different cells.
        return self[value] if type(value) is str else self.neutralise(value)


class RowEncoder:
    """Turns buffered raw rows into CSV bytes with their chain values."""

    def __init__(self, key: bytes) -> None:
        self._hasher = ChainHasher(key)
        self._memo = _NeutralMemo(neutralise_csv_cell)
        self._user_memo = _NeutralMemo(neutralise_user)
        self._ts_second = -1
        self._ts_prefix = ""

    def encode(self, rows: Iterable[RawRow], prev: str) -> tuple[bytes, str]:
        """Return the CSV bytes of ``rows`` chained after ``prev``, and the last chain."""
        cell, user_cell = self._memo.cell, self._user_memo.cell
        lines = []
        for ns, event, user, ip, target, outcome, detail in rows:
            cells = [
                self._timestamp(ns),
                cell(event),
                user_cell(user),
                cell(ip),
                cell(target),
                cell(outcome),
                neutralise_csv_cell(detail),
            ]
            prev = self._chain(prev, cells)
            cells.append(prev)
            lines.append(cells)
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(lines)
        return out.getvalue().encode("utf-8"), prev

    def _chain(self, prev: str, cells: list[str]) -> str:
        try:
            return self._hasher.chain(prev, cells)
        except UnicodeEncodeError:
            # Lone surrogates cannot be stored as UTF-8; store a visible replacement
            # and chain over exactly what is stored.
            cells[:] = [c.encode("utf-8", "replace").decode("utf-8") for c in cells]
            return self._hasher.chain(prev, cells)

    def _timestamp(self, ns: int) -> str:
        second, rest = divmod(ns, 1_000_000_000)
        if second != self._ts_second:
            stamp = datetime.fromtimestamp(second, UTC)
            self._ts_prefix = stamp.strftime("%Y-%m-%dT%H:%M:%S")
            self._ts_second = second
        return f"{self._ts_prefix}.{rest // 1000:06d}+00:00"
