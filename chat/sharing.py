"""Files shared into conversations: the card a message carries, as MicroNAS has the file now.

Which files may be shared, and what their statuses mean, is MicroNAS's (nas.files); chat only
shows them. A card is {id, name, size, mime, status}; a file deleted since it was shared is
just {id, status: "deleted"}.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from nas import files
from nas.models import StoredFile

DELETED = "deleted"

Card = dict[str, Any]


def card(record: StoredFile) -> Card:
    """The file as a message shows it."""
    return {"id": record.id, "name": record.display_name, "size": record.size,
            "mime": record.mime, "status": record.status}


def card_to_share(file_id: str) -> Card:
    """The card of a file that may be shared, or not_found / forbidden."""
    return card(files.shareable(file_id))


def current_cards(file_ids: Collection[str]) -> dict[str, Card]:
    """Each file's card as it is now, by id (a deleted one says so)."""
    found = files.find_files(file_ids)
    return {file_id: card(found[file_id]) if file_id in found
            else {"id": file_id, "status": DELETED} for file_id in file_ids}
