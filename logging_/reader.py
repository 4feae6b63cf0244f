"""Reading the audit trail back: filtered rows newest first, and CSV export."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

from logging_.chain import COLUMNS, neutralise_user
from logging_.trail import snapshot
from sanitization.csv_cells import neutralise_csv_cell

ROW_KEYS = COLUMNS[:7]


def read_rows(
    logs_dir: str,
    filename: str = "audit.csv",
    event: str | None = None,
    user: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, str]]:
    """Return stored rows newest first; since is inclusive, until exclusive (naive = UTC)."""
    users = None if user is None else {user, neutralise_user(user)}
    since, until = _aware(since), _aware(until)
    found: list[dict[str, str]] = []
    if limit <= 0:
        return found
    for cells in _newest_first(logs_dir, filename):
        if event is not None and cells[1] != event:
            continue
        if users is not None and cells[2] not in users:
            continue
        if (since or until) and not _within(cells[0], since, until):
            continue
        if offset > 0:
            offset -= 1
            continue
        found.append(dict(zip(ROW_KEYS, cells, strict=False)))
        if len(found) >= limit:
            break
    return found


def rows_to_csv(rows: list[dict[str, str]]) -> str:
    """Return rows as CSV text (header + rows), every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ROW_KEYS)
    # Stored cells are already neutral and neutralising is idempotent on them; doing it
    # again keeps the export safe even for rows that did not come from the trail.
    writer.writerows([neutralise_csv_cell(row.get(key, "")) for key in ROW_KEYS] for row in rows)
    return out.getvalue()


def _newest_first(logs_dir: str, filename: str) -> Iterator[list[str]]:
    with snapshot(logs_dir, filename) as files:
        for file in reversed(files):
            text = file.read().decode("utf-8", "replace")
            rows = [r for r in csv.reader(io.StringIO(text, newline="")) if len(r) == 8]
            if rows and list(rows[0]) == list(COLUMNS):
                rows = rows[1:]
            yield from reversed(rows)


def _within(stamp: str, since: datetime | None, until: datetime | None) -> bool:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    return (since is None or moment >= since) and (until is None or moment < until)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
