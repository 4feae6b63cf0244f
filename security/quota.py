"""Writing a row only while its owner stays within a quota, decided by the database itself.

Counting first and inserting after lets two requests of one person, sent at the same
instant, both see room for one more. Here the count and the insert are one statement
(INSERT ... SELECT ... WHERE <within quota>), and PostgreSQL first locks the owner's
account row so that person's requests take turns; SQLite runs the statement under its
write lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, insert, literal, select

from extensions import db
from security.models import User


def insert_if(table: Table, values: dict[str, Any], within: ColumnElement[bool],
              owner: str) -> bool:
    """Insert `values` into `table` when `within` holds; whether the row was written."""
    db.session.execute(select(User.id).where(User.username == owner).with_for_update())
    row = select(*(literal(value, table.c[name].type) for name, value in values.items()))
    statement = insert(table).from_select(list(values), row.where(within))
    # RETURNING, because psycopg reports no rowcount for an INSERT ... SELECT.
    key = next(iter(table.primary_key.columns))
    return db.session.execute(statement.returning(key)).first() is not None
