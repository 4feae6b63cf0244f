"""How much MicroNAS may keep: UPLOAD_QUOTA_MB per account and MIN_FREE_DISK_MB on the disk.

An upload is refused before any byte is stored when its account is already at its quota
or the disk is nearly full; the final check that the file fits the quota is made by the
database in the statement that records it (security/quota.py), so uploads sent at the
same instant cannot add up past it.
"""

from __future__ import annotations

import errno
import shutil

from flask import current_app
from sqlalchemy import BigInteger, ColumnElement, func, literal, select

from errors import Refusal
from extensions import db
from nas.models import StoredFile

MIB = 1024 * 1024


def used_bytes(username: str) -> ColumnElement[int]:
    """What `username`'s files take, as a subquery the recording statement can compare."""
    return (
        select(func.coalesce(func.sum(StoredFile.size), 0))
        .where(StoredFile.uploaded_by == username)
        .scalar_subquery()
    )


def fits(username: str, size: int) -> ColumnElement[bool]:
    """The condition under which a file of `size` bytes fits `username`'s quota."""
    # 64-bit on both sides: PostgreSQL refuses a quota of 2 GiB or more as a 32-bit integer.
    quota = literal(current_app.config["UPLOAD_QUOTA_MB"] * MIB, BigInteger)
    return used_bytes(username) + literal(size, BigInteger) <= quota


def refuse_when_full(username: str) -> None:
    """Refuse an upload at once when the account is at its quota or the disk nearly full."""
    if not db.session.scalar(select(fits(username, 1))):
        raise over_quota()
    free = shutil.disk_usage(current_app.config["QUARANTINE_DIR"]).free
    if free < current_app.config["MIN_FREE_DISK_MB"] * MIB:
        raise disk_full()


def usage_by_account() -> dict[str, int]:
    """Bytes kept in MicroNAS by each account that has files."""
    rows = db.session.execute(
        select(StoredFile.uploaded_by, func.sum(StoredFile.size)).group_by(StoredFile.uploaded_by)
    ).all()
    return {username: int(total) for username, total in rows}


def over_quota() -> Refusal:
    """The 507 of an account whose files would pass UPLOAD_QUOTA_MB."""
    quota = current_app.config["UPLOAD_QUOTA_MB"]
    return Refusal(507, "quota", f"Ha llegado a su cuota de {quota} MB en MicroNAS; "
                                 "borre archivos o pida más espacio a un administrador.")


def disk_full() -> Refusal:
    """The 507 of a server whose disk is (nearly) full."""
    return Refusal(507, "disk_full", "El servidor se está quedando sin espacio en disco; "
                                     "avise a un administrador.")


def is_disk_full(error: OSError) -> bool:
    """Whether a write failed because the disk (or the user's disk quota) is full."""
    return error.errno in (errno.ENOSPC, errno.EDQUOT)
