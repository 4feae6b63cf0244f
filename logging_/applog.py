"""Application logging (not the audit trail): stderr plus LOG_DIR/pichat.log.

Each process rotates pichat.log on its own, so with several processes on one LOG_DIR
a rotation may drop a few lines of another process; the audit trail, which must not
lose rows, has its own locked rotation (trail.py).
"""

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from typing import TextIO

from flask import Flask
from flask.logging import default_handler

APP_LOG_NAME = "pichat.log"
APP_LOG_MAX_BYTES = 5 * 1024 * 1024
APP_LOG_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
_STDERR_NAME = "pichat-stderr"
_FILE_NAME = "pichat-file"


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is at each record (test runners swap it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        """Return the current sys.stderr."""
        return sys.stderr


def configure_app_logging(app: Flask) -> None:
    """Send logging to stderr and LOG_DIR/pichat.log; repeated calls replace, not stack."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() in (_STDERR_NAME, _FILE_NAME):
            root.removeHandler(handler)
            handler.close()
    log_dir = app.config["LOG_DIR"]
    os.makedirs(log_dir, exist_ok=True)
    file_handler = RotatingFileHandler(
        os.path.join(log_dir, APP_LOG_NAME),
        maxBytes=APP_LOG_MAX_BYTES,
        backupCount=APP_LOG_BACKUPS,
        encoding="utf-8",
        delay=True,
    )
    for name, handler in ((_STDERR_NAME, _CurrentStderrHandler()), (_FILE_NAME, file_handler)):
        handler.set_name(name)
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if app.debug else logging.INFO)
    # Records reach the root handlers by propagation; Flask's own would print twice.
    app.logger.removeHandler(default_handler)
