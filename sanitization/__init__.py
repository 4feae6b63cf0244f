"""Pure sanitizers for user input: stdlib only, no Flask, no project imports.

Import each function from the module that defines it:

- ``sanitization.names``: ``clean_username``, ``clean_room_code``, ``truncate_for_log``
- ``sanitization.text``: ``MAX_MESSAGE_CHARS``, ``clean_message_text``
- ``sanitization.filenames``: ``MAX_FILENAME_CHARS``, ``clean_display_filename``,
  ``file_extension``
- ``sanitization.csv_cells``: ``MAX_CELL_CHARS``, ``neutralise_csv_cell``
"""


class SanitizationError(ValueError):
    """Input that cannot be made safe; ``code`` is the ack/JSON error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
