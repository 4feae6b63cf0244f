"""Checking the HMAC chain of the whole trail, oldest file to newest.

Every row's chain must equal HMAC(key, previous chain + its cells), so a changed,
removed or inserted row breaks the chain at that row (a removed row: at the row that
now follows it). The first row of the oldest file must chain from "" -- unless rotated
files exist, because rotation drops the oldest files and with them the earlier chain:
then that first row is trusted as the anchor. Hence removing the oldest rows of the
oldest file looks like rotation; everything after the anchor is fully checked.
"""

import csv
import io
from dataclasses import dataclass

from logging_.chain import COLUMNS, ChainHasher
from logging_.trail import SnapshotFile, snapshot

_BROKEN = "la cadena no coincide: fila modificada, eliminada o insertada"


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of verify(): where the first broken row is, and why."""

    ok: bool
    rows: int
    file: str | None = None
    line: int | None = None
    reason: str = ""


class _Broken(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def verify(logs_dir: str, key: bytes, filename: str = "audit.csv") -> VerifyResult:
    """Check the chain of every row in the trail; name the first row that breaks it."""
    checker = _ChainChecker(ChainHasher(key))
    with snapshot(logs_dir, filename) as files:
        checker.anchored = len(files) > 1
        for file in files:
            try:
                checker.check_file(file)
            except _Broken as broken:
                return VerifyResult(False, checker.rows, file.name, broken.line, broken.reason)
    return VerifyResult(True, checker.rows, reason=f"ok: {checker.rows} filas verificadas")


class _ChainChecker:
    """Walks rows in order, carrying the previous chain value across files."""

    def __init__(self, hasher: ChainHasher) -> None:
        self._hasher = hasher
        self._prev: str | None = None
        self.anchored = False
        self.rows = 0

    def check_file(self, file: SnapshotFile) -> None:
        """Raise _Broken at the first row of ``file`` that does not chain."""
        try:
            text = file.read().decode("utf-8")
        except UnicodeDecodeError as error:
            raise _Broken(1, f"el archivo no es UTF-8 válido (byte {error.start})") from error
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            for index, cells in enumerate(reader):
                if index == 0 and tuple(cells) != COLUMNS:
                    raise _Broken(reader.line_num, "cabecera inválida")
                if index > 0:
                    self._check(reader.line_num, cells)
        except csv.Error as error:
            raise _Broken(reader.line_num, f"CSV ilegible: {error}") from error
        if text and not text.endswith("\r\n"):
            raise _Broken(reader.line_num, "la última fila está incompleta")

    def _check(self, line: int, cells: list[str]) -> None:
        if len(cells) != len(COLUMNS):
            raise _Broken(line, f"fila con {len(cells)} columnas en vez de {len(COLUMNS)}")
        prev = "" if self._prev is None else self._prev
        trusted_anchor = self._prev is None and self.anchored
        if self._hasher.chain(prev, cells[:7]) != cells[7] and not trusted_anchor:
            raise _Broken(line, _BROKEN)
        self._prev = cells[7]
        self.rows += 1
