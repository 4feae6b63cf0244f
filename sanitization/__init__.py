"""Pure sanitizers for user input: stdlib only, no Flask; a refusal is errors.Refusal.

Import each function from the module that defines it:

- ``sanitization.names``: ``clean_username``, ``clean_room_code``, ``truncate_for_log``
- ``sanitization.text``: ``MAX_MESSAGE_CHARS``, ``clean_message_text``
- ``sanitization.filenames``: ``MAX_FILENAME_CHARS``, ``clean_display_filename``,
  ``file_extension``
- ``sanitization.csv_cells``: ``MAX_CELL_CHARS``, ``neutralise_csv_cell``
"""
