"""Every audit event PiChat records: the one list the logger checks and the admin filter offers.

The rotation row that opens each audit file (chain.ROTATION_EVENT) is not listed: the
trail writes it itself, log() refuses it, and the admin panel does not show it.
"""

AUDIT_EVENTS = (
    "login_success",
    "login_failed",
    "account_locked",
    "logout",
    "rate_limited",
    "csrf_rejected",
    "setup_completed",
    "user_created",
    "user_updated",
    "user_unlocked",
    "room_created",
    "room_joined",
    "room_join_failed",
    "room_left",
    "room_closed",
    "direct_message",
    "message_deleted",
    "history_purged",
    "file_uploaded",
    "file_downloaded",
    "file_deleted",
    "file_infected",
    "file_shared",
    "access_denied",
    "socket_refused",
)
