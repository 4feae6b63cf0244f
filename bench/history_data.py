"""A big persistent room's messages, generated straight into the database (never through the
socket): executemany on SQLite, COPY on PostgreSQL.

Texts are office chat: 3-14 words drawn with Zipf-like weights from Spanish words (with and
without accents) and a long tail of rare ones, so a searched word may be in one message
of eight or in a few hundred of the million. Message i has the id f"{i:032x}"; the oldest
`expired` messages are 400 days old, the rest spread over the last 300 days, in order.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg

COMMON = [
    "reunión", "mañana", "informe", "proyecto", "cliente", "factura", "pedido", "envío",
    "revisar", "documento", "equipo", "servidor", "impresora", "correo", "llamada", "oficina",
    "semana", "lunes", "martes", "miércoles", "jueves", "viernes", "presupuesto", "almacén",
    "café", "niño", "canción", "revisión", "acción", "sesión",
]
RARE = [f"ref{n}" for n in range(5000)]
POOL_SIZE = 20_000
WORDS_PER_MESSAGE = (3, 14)
AUTHORS = [f"persona{n:02d}" for n in range(50)]
CHUNK = 50_000
EXPIRED_AGE = timedelta(days=400)
KEPT_SPAN = timedelta(days=300)
SEED = 15


def texts(seed: int = SEED) -> list[str]:
    """POOL_SIZE message texts; message i uses text i % POOL_SIZE."""
    chosen = random.Random(seed)  # noqa: S311  (test data, the same every run)
    vocabulary = COMMON + RARE
    # The first word is in ~13 % of messages, ref100 in ~1 %, ref2000 in ~0.07 %.
    weights = [1 / (rank + 10) for rank in range(len(vocabulary))]
    return [" ".join(chosen.choices(vocabulary, weights, k=chosen.randint(*WORDS_PER_MESSAGE)))
            for _ in range(POOL_SIZE)]


def message_id(index: int) -> str:
    """The id of generated message `index`."""
    return f"{index:032x}"


def rows(room_id: int, count: int, expired: int, now: datetime) -> Iterator[tuple]:
    """(id, room_id, username, text, created_at) of every generated message, oldest first."""
    pool = texts()
    oldest, kept_from = now - EXPIRED_AGE, now - KEPT_SPAN
    kept_step = KEPT_SPAN / max(1, count - expired)
    for index in range(count):
        if index < expired:
            created = oldest + timedelta(milliseconds=index)
        else:
            created = kept_from + kept_step * (index - expired)
        yield (message_id(index), room_id, AUTHORS[index % len(AUTHORS)],
               pool[index % POOL_SIZE], created)


class Database:
    """The benchmark server's database, reached directly: SQLite file or PostgreSQL URL."""

    def __init__(self, sqlite_path: str | None = None, postgres_url: str | None = None) -> None:
        self.sqlite_path = sqlite_path
        self.postgres_url = postgres_url

    @property
    def name(self) -> str:
        return "SQLite" if self.sqlite_path else "PostgreSQL"

    def query(self, sql: str, *args: object) -> tuple:
        """The first row of a query (placeholders: ?)."""
        if self.sqlite_path:
            with sqlite3.connect(self.sqlite_path, timeout=60) as database:
                return database.execute(sql, args).fetchone()
        with psycopg.connect(self.postgres_url, autocommit=True) as conn:
            return conn.execute(sql.replace("?", "%s"), args).fetchone()

    def fill(self, room_id: int, count: int, expired: int) -> None:
        """Generate the room's `count` messages, the oldest `expired` ones past retention."""
        if self.sqlite_path:
            _fill_sqlite(self.sqlite_path, room_id, count, expired)
        else:
            _fill_postgresql(self.postgres_url, room_id, count, expired)

    def search_index_merged(self) -> bool:
        """Whether the SQLite full-text index is one segment again (PostgreSQL: always)."""
        if not self.sqlite_path:
            return True
        return self.query("SELECT count(DISTINCT segid) FROM chat_messages_fts_idx")[0] <= 1


def _fill_sqlite(path: str, room_id: int, count: int, expired: int) -> None:
    """Insert the messages into a SQLite file (its triggers index them), CHUNK per commit.

    A bulk load leaves the full-text index half-way through merging its big segments, work
    every later write would share (sends 0.6x as fast for a while); a room that grew one
    message at a time merged as it went, so the index is merged once at the end (0.4 s).
    """
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    generated = rows(room_id, count, expired, datetime.now(UTC))
    with sqlite3.connect(path, timeout=60) as database:
        for _ in range(0, count, CHUNK):
            chunk = [(*row[:4], row[4].strftime(stamp)) for row in _take(generated, CHUNK)]
            database.executemany(
                "INSERT INTO chat_messages (id, room_id, username, text, created_at) "
                "VALUES (?, ?, ?, ?, ?)", chunk)
            database.commit()
        database.execute("INSERT INTO chat_messages_fts(chat_messages_fts) VALUES ('optimize')")


def _fill_postgresql(url: str, room_id: int, count: int, expired: int) -> None:
    """COPY the messages in; the search index is dropped first and made again after (the
    same definition), as a bulk load is done, then the table is analysed."""
    with psycopg.connect(url, autocommit=True) as conn:
        [definition] = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_chat_messages_search'"
        ).fetchone()
        conn.execute("DROP INDEX ix_chat_messages_search")
        columns = "chat_messages (id, room_id, username, text, created_at)"
        with conn.cursor().copy(f"COPY {columns} FROM STDIN") as copy:
            for row in rows(room_id, count, expired, datetime.now(UTC)):
                copy.write_row(row)
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute(definition)
        conn.execute("VACUUM ANALYZE chat_messages")


def fresh_postgres_database(url: str) -> str:
    """Drop and create the database `url` names (through the `postgres` database); `url`."""
    drop_postgres_database(url)
    _as_admin(url, 'CREATE DATABASE "{}"')
    return url


def drop_postgres_database(url: str) -> None:
    """Drop the database `url` names, if it exists (a million messages take ~0.5 GB)."""
    _as_admin(url, 'DROP DATABASE IF EXISTS "{}" WITH (FORCE)')


def _as_admin(url: str, statement: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(statement.format(name))


def _take(iterator: Iterator[tuple], count: int) -> Iterator[tuple]:
    for _ in range(count):
        row = next(iterator, None)
        if row is None:
            return
        yield row
