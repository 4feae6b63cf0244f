"""Checking the whole trail, oldest file to newest, against the key and the head record.

Every row must carry the next seq and a chain equal to HMAC(key, previous chain + its
cells), so a changed row breaks its chain, and a removed or inserted row breaks the seq
at that row (a removed row: at the row that now follows it). Every file must open with
a rotation row carrying the previous file's last seq and chain: a missing middle file,
a file emptied or planted without one, is named. The oldest kept file's rotation row is
checked under the key against the seq and chain it carries -- the genesis for the first
file ever; after rotation dropped older files, what they ended with cannot be checked,
so that one link is trusted. Last, ``audit.head`` (sealed with the key) must name the
last row: a head further on means the tail was cut.
"""

import csv
import io
from dataclasses import dataclass

from logging_.chain import COLUMNS, ROTATION_DETAIL, ROTATION_EVENT, ChainHasher
from logging_.head import inspect_head
from logging_.snapshot import Snapshot, SnapshotFile, snapshot

_NOT_OPENED = "archivo falso o vaciado: no empieza con una fila de rotación"


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of verify(): where the first broken row is, and why."""

    ok: bool
    rows: int
    file: str | None = None
    line: int | None = None
    reason: str = ""


class _Broken(Exception):
    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(reason)
        self.file = file
        self.line = line
        self.reason = reason


def verify(logs_dir: str, key: bytes, filename: str = "audit.csv") -> VerifyResult:
    """Check every row, file link and the head of the trail; name the first break."""
    with snapshot(logs_dir, filename) as taken:
        checker = _TrailChecker(ChainHasher(key), filename, taken.head)
        try:
            for index, file in enumerate(taken.files):
                checker.check_file(file, newest=index == len(taken.files) - 1)
            checker.check_head(taken)
        except _Broken as broken:
            return VerifyResult(False, checker.rows, broken.file, broken.line, broken.reason)
    reason = f"ok: {checker.rows} filas verificadas"
    if checker.seq is not None:
        reason += f" (seq {checker.first_seq}-{checker.seq} en {len(taken.files)} archivos)"
    return VerifyResult(True, checker.rows, reason=reason)


class _TrailChecker:
    """Walks rows in order, carrying the seq and chain across files."""

    def __init__(self, hasher: ChainHasher, filename: str, head: bytes | None) -> None:
        self._hasher = hasher
        self._filename = filename
        self._head, _, self._head_damaged = (
            (None, 0, False) if head is None else inspect_head(head, hasher)
        )
        self._head_present = head is not None
        self._chain_at_head: str | None = None
        self.seq: int | None = None
        self.chain = ""
        self.first_seq: int | None = None
        self.rows = 0
        self._where = (filename, 1)

    def check_file(self, file: SnapshotFile, newest: bool) -> None:
        """Raise _Broken at the first row of ``file`` that does not follow."""
        try:
            text = file.read().decode("utf-8")
        except UnicodeDecodeError as error:
            raise _Broken(
                file.name, 1, f"el archivo no es UTF-8 válido (byte {error.start})"
            ) from error
        reader = csv.reader(io.StringIO(text, newline=""))
        line = 1
        try:
            for index, cells in enumerate(reader):
                line = reader.line_num
                if index == 0 and tuple(cells) != COLUMNS:
                    raise _Broken(file.name, line, "cabecera inválida")
                if index == 1:
                    self._check_opening(file.name, line, cells)
                elif index > 1:
                    self._check_row(file.name, line, cells)
        except csv.Error as error:
            raise _Broken(file.name, reader.line_num, f"CSV ilegible: {error}") from error
        if text and not text.endswith("\r\n"):
            raise _Broken(file.name, line, "la última fila está incompleta")
        if line <= 1 and not (newest and self._head_present):
            # Writers put the header and the rotation row in one write: no rows is forged.
            raise _Broken(file.name, 2, _NOT_OPENED)
        self._where = (file.name, line + 1)

    def check_head(self, taken: Snapshot) -> None:
        """Raise _Broken when the head record is missing, forged or beyond the last row."""
        if taken.head is None:
            if self.seq is not None:
                raise _Broken(
                    taken.head_name,
                    1,
                    f"falta {taken.head_name}: no se puede "
                    "comprobar que el final del registro esté completo",
                )
            return
        head = self._head
        if head is None or self._head_damaged:
            raise _Broken(taken.head_name, 1, f"{taken.head_name} falsificado o ilegible")
        last = self.seq or 0
        if head[0] > last:
            raise _Broken(
                *self._where,
                f"corte: faltan las filas posteriores a la seq {last} "
                f"({taken.head_name} registra la seq {head[0]})",
            )
        if self._chain_at_head not in (None, head[1]):
            raise _Broken(
                taken.head_name, 1, f"{taken.head_name} no coincide con la fila seq {head[0]}"
            )

    def _check_opening(self, name: str, line: int, cells: list[str]) -> None:
        detail = cells[7] if len(cells) == len(COLUMNS) else ""
        match = ROTATION_DETAIL.fullmatch(detail)
        if cells[2:3] != [ROTATION_EVENT] or match is None:
            raise _Broken(name, line, _NOT_OPENED)
        prev_seq, prev_chain = int(match.group(1)), match.group(2)
        if self.seq is None:
            if prev_seq == 0 and prev_chain != self._hasher.genesis:
                raise _Broken(
                    name,
                    line,
                    "fila de rotación falsificada: no parte del origen de la cadena (¿otra clave?)",
                )
        elif prev_seq > self.seq:
            raise _Broken(name, line, self._missing_between(name, prev_seq))
        elif (prev_seq, prev_chain) != (self.seq, self.chain):
            raise _Broken(
                name,
                line,
                f"archivo insertado o fuera de orden: continúa la seq "
                f"{prev_seq} pero el anterior termina en la {self.seq} (cadena rota)",
            )
        self.seq, self.chain = prev_seq, prev_chain
        self._check_row(name, line, cells)

    def _missing_between(self, name: str, prev_seq: int) -> str:
        rows = f"las filas seq {self.seq + 1}-{prev_seq}"
        older, newer = _suffix(self._where[0], self._filename), _suffix(name, self._filename)
        gone = [f"{self._filename}.{n}" for n in range(newer + 1, older)]
        if gone:
            return f"falta el archivo {', '.join(gone)} ({rows}; cadena rota)"
        return f"faltan {rows} al final de {self._where[0]} (cadena rota)"

    def _check_row(self, name: str, line: int, cells: list[str]) -> None:
        if len(cells) != len(COLUMNS):
            raise _Broken(name, line, f"fila con {len(cells)} columnas en vez de {len(COLUMNS)}")
        if not cells[0].isdigit():
            raise _Broken(name, line, f"seq inválida {cells[0]!r} (cadena rota)")
        seq, expected = int(cells[0]), (self.seq or 0) + 1
        if seq > expected:
            raise _Broken(
                name, line, f"faltan filas: tras la seq {expected - 1} viene la {seq} (cadena rota)"
            )
        if seq < expected:
            raise _Broken(
                name,
                line,
                f"fila insertada o reordenada: seq {seq} tras la {expected - 1} (cadena rota)",
            )
        if self._hasher.chain(self.chain, cells[:8]) != cells[8]:
            raise _Broken(name, line, f"fila modificada: la cadena no coincide (seq {seq})")
        self.seq, self.chain = seq, cells[8]
        if self._head is not None and seq == self._head[0]:
            self._chain_at_head = self.chain
        self.first_seq = seq if self.first_seq is None else self.first_seq
        self.rows += cells[2] != ROTATION_EVENT


def _suffix(name: str, filename: str) -> int:
    rest = name[len(filename) + 1 :]
    return int(rest) if rest.isdigit() else 0
