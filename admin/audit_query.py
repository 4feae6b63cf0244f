"""The admin's view of the audit trail: filters parsed strictly from a query string."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from errors import bad_request
from logging_.reader import read_rows

DEFAULT_LIMIT = 50
# Every page reads the trail from the newest row back: a bigger page would hold a Pi's CPU.
MAX_LIMIT = 500
# One export is built in memory; past this many rows it would risk the server's RAM.
MAX_EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class AuditFilter:
    """Which rows to read: event, user, [since, until) and the page."""

    event: str | None = None
    user: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def _moment(args: Mapping[str, str], name: str) -> datetime | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise bad_request(
            f"La fecha '{name}' no es válida: use ISO 8601, por ejemplo 2024-05-01T10:00:00Z."
        ) from None


def _whole_number(args: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise bad_request(f"'{name}' debe ser un número entero mayor o igual que {minimum}.")
    return int(raw)


def parse_filter(args: Mapping[str, str]) -> AuditFilter:
    """Build the filter from query arguments; a 400 refusal on a malformed one, limit capped."""
    return AuditFilter(
        event=(args.get("event") or "").strip() or None,
        user=(args.get("user") or "").strip() or None,
        since=_moment(args, "since"),
        until=_moment(args, "until"),
        limit=min(_whole_number(args, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT),
        offset=_whole_number(args, "offset", 0, 0),
    )


def for_export(wanted: AuditFilter) -> AuditFilter:
    """The same filter without its page: every matching row, up to MAX_EXPORT_ROWS."""
    return replace(wanted, limit=MAX_EXPORT_ROWS, offset=0)


def matching_rows(logs_dir: str, wanted: AuditFilter) -> list[dict[str, str]]:
    """The rows the filter selects, newest first."""
    return read_rows(
        logs_dir,
        event=wanted.event,
        user=wanted.user,
        since=wanted.since,
        until=wanted.until,
        limit=wanted.limit,
        offset=wanted.offset,
    )
