"""Row format of the audit trail: columns, timestamps, neutralised cells and the HMAC chain.

chain = hex HMAC-SHA256(key, previous chain + "\\x1f".join(the 8 cells seq..detail as
stored)). The first row ever chains from the keyed genesis (HMAC of GENESIS_LABEL), so a
file cannot pass for the start of the trail without the key. ``seq`` numbers every row
of the trail, across files and processes. The HMAC runs over the cells exactly as
written (after neutralisation), so verification needs only the files and the key.

Each file begins with a rotation row (event ROTATION_EVENT, written by the trail itself)
whose detail carries the previous file's last seq and chain: verify can link the files,
and check the oldest kept file even after rotation dropped the ones before it.
"""

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from sanitization.csv_cells import neutralise_csv_cell

COLUMNS = ("seq", "ts", "event", "user", "ip", "target", "outcome", "detail", "chain")
HEADER = ",".join(COLUMNS) + "\r\n"
HEADER_BYTES = HEADER.encode()
# Not in events.AUDIT_EVENTS: only the trail writes it, so log() can never fake one.
ROTATION_EVENT = "trail_rotated"
ROTATION_DETAIL = re.compile(r"prev_seq=(\d+) prev_chain=([0-9a-f]{64})")
GENESIS_LABEL = b"pichat audit trail genesis v1"
# DESIGN.md: an attempted username is logged as typed but cut at 64 characters.
USER_MAX_CHARS = 64
# A stored row always ends with ",<64 hex digits>\r\n".
CHAIN_TAIL = re.compile(rb",([0-9a-f]{64})\r\n\Z")
_SEP = "\x1f"
# Repeated values (event names, users, IPs) are neutralised once; the bound keeps a
# flood of distinct values from growing the memo without limit.
_MEMO_MAX = 4096

RawRow = tuple[int, object, object, object, object, object, object]


def neutralise_user(value: object) -> str:
    """Neutralise a user cell the way the trail stores it (cut at USER_MAX_CHARS)."""
    return neutralise_csv_cell(value, max_chars=USER_MAX_CHARS)


def rotation_detail(prev_seq: int, prev_chain: str) -> str:
    """Return the detail cell of a rotation row that follows (prev_seq, prev_chain)."""
    return f"prev_seq={prev_seq} prev_chain={prev_chain}"


def rotation_row(prev_seq: int, prev_chain: str, ns: int) -> RawRow:
    """Return the raw rotation row that opens a file after (prev_seq, prev_chain)."""
    return (ns, ROTATION_EVENT, "", "", "", "ok", rotation_detail(prev_seq, prev_chain))


class ChainHasher:
    """Computes chain values, the genesis and the head seal under the trail's key."""

    def __init__(self, key: bytes) -> None:
        self.keyed = hmac.new(key, digestmod=hashlib.sha256)
        self.genesis = self._digest(GENESIS_LABEL)

    def chain(self, prev: str, cells: Sequence[str]) -> str:
        """Return the chain value of ``cells`` following ``prev``."""
        return self._digest((prev + _SEP.join(cells)).encode("utf-8"))

    def seal(self, seq: int, chain: str) -> str:
        """Return the HMAC that proves a head record (seq, chain) was written with the key."""
        return self._digest(f"head{_SEP}{seq}{_SEP}{chain}".encode())

    def _digest(self, data: bytes) -> str:
        mac = self.keyed.copy()
        mac.update(data)
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
    """Turns buffered raw rows into CSV bytes with their seq and chain values."""

    def __init__(self, key: bytes) -> None:
        self.hasher = ChainHasher(key)
        self._memo = _NeutralMemo(neutralise_csv_cell)
        self._user_memo = _NeutralMemo(neutralise_user)
        self._ts_second = -1
        self._ts_prefix = ""

    def encode(self, rows: Iterable[RawRow], seq: int, prev: str) -> tuple[bytes, int, str]:
        """Return the CSV bytes of ``rows`` numbered after ``seq`` and chained after ``prev``,
        with the last seq and chain."""
        cell, user_cell = self._memo.cell, self._user_memo.cell
        keyed, join = self.hasher.keyed, _SEP.join
        lines = []
        for ns, event, user, ip, target, outcome, detail in rows:
            seq += 1
            cells = [
                str(seq),
                self._timestamp(ns),
                cell(event),
                user_cell(user),
                cell(ip),
                cell(target),
                cell(outcome),
                neutralise_csv_cell(detail),
            ]
            # ChainHasher.chain, inlined: this loop is most of a flush's cost.
            mac = keyed.copy()
            try:
                mac.update((prev + join(cells)).encode("utf-8"))
            except UnicodeEncodeError:
                # Lone surrogates cannot be stored as UTF-8; store a visible replacement
                # and chain over exactly what is stored.
                cells[:] = [c.encode("utf-8", "replace").decode("utf-8") for c in cells]
                mac.update((prev + join(cells)).encode("utf-8"))
            prev = mac.hexdigest()
            cells.append(prev)
            lines.append(cells)
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(lines)
        return out.getvalue().encode("utf-8"), seq, prev

    def _timestamp(self, ns: int) -> str:
        second, rest = divmod(ns, 1_000_000_000)
        if second != self._ts_second:
            stamp = datetime.fromtimestamp(second, UTC)
            self._ts_prefix = stamp.strftime("%Y-%m-%dT%H:%M:%S")
            self._ts_second = second
        return f"{self._ts_prefix}.{rest // 1000:06d}+00:00"
