"""Reading the audit trail back: filtered rows newest first, and CSV export."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

from logging_.chain import COLUMNS, ROTATION_EVENT, neutralise_user
from logging_.snapshot import snapshot
from sanitization.csv_cells import neutralise_csv_cell

# What the admin reads: the event cells (seq and chain are for verify).
ROW_KEYS = COLUMNS[1:8]


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
    """Yield the event cells (ts..detail, chain) of stored rows, newest first.

    The header and the trail's own rotation rows are left out: they record no event."""
    with snapshot(logs_dir, filename) as taken:
        for file in reversed(taken.files):
            text = file.read().decode("utf-8", "replace")
            rows = [
                r[1:]
                for r in csv.reader(io.StringIO(text, newline=""))
                if len(r) == len(COLUMNS) and r[2] != ROTATION_EVENT and r[0] != COLUMNS[0]
            ]
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
