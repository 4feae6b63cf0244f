"""What MicroNAS announces; chat subscribes and decides who hears it (MicroNAS never imports chat).

Each signal is sent with the app as sender and the payload as keyword arguments.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
# file: the new file's JSON, as the files list shows it.
file_added = _signals.signal("file-added")
# status: the file's verdict and its provenance (StoredFile.status_json()).
file_status_changed = _signals.signal("file-status-changed")
# file_id: the file that is gone.
file_deleted = _signals.signal("file-deleted")
# alert: id, name, uploaded_by and signature of a blocked upload, for administrators only.
file_infected = _signals.signal("file-infected")
