"""Chat history: edits, per-room retention, and full-text search of persistent rooms.

SQLite: an FTS5 external-content index over chat_messages.text (the text is stored once,
in chat_messages; the index holds only its words), kept in step by three triggers.
`remove_diacritics 2` makes "reunion" find "reunión". A later migration that rebuilds
chat_messages (batch_alter_table with a table copy) drops these triggers: recreate them.

PostgreSQL: a stored generated column search_vector = to_tsvector('simple',
pichat_unaccent(text)) with a GIN index. Stored rather than only indexed: a search for the
newest matches often walks back through recent messages testing each one, and testing a
stored vector costs a tenth of building it from the text (a million-message room: 5 ms
instead of 100). unaccent() itself is only STABLE (its dictionary could change), so it
cannot appear in a generated column or an index; the usual remedy is an IMMUTABLE wrapper
naming the dictionary. Without the unaccent extension (not installed, or no right to
create it) the wrapper falls back to translate() over the Latin letters with accents that
Spanish, Catalan, Portuguese and French use. An index on (room_id, seq) serves history
pages (SQLite's room_id index already ends in the rowid).

Revision ID: 0006_history
Revises: 0005_message_files
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006_history'
down_revision = '0005_message_files'
branch_labels = None
depends_on = None

SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE chat_messages_fts USING fts5(text, content='chat_messages', "
    "content_rowid='seq', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER chat_messages_fts_insert AFTER INSERT ON chat_messages BEGIN "
    "INSERT INTO chat_messages_fts(rowid, text) VALUES (new.seq, new.text); END",
    "CREATE TRIGGER chat_messages_fts_delete AFTER DELETE ON chat_messages BEGIN "
    "INSERT INTO chat_messages_fts(chat_messages_fts, rowid, text) "
    "VALUES ('delete', old.seq, old.text); END",
    "CREATE TRIGGER chat_messages_fts_update AFTER UPDATE OF text ON chat_messages BEGIN "
    "INSERT INTO chat_messages_fts(chat_messages_fts, rowid, text) "
    "VALUES ('delete', old.seq, old.text); "
    "INSERT INTO chat_messages_fts(rowid, text) VALUES (new.seq, new.text); END",
    # Messages kept before this migration.
    "INSERT INTO chat_messages_fts(chat_messages_fts) VALUES ('rebuild')",
]
SQLITE_SEARCH_DROP = [
    "DROP TRIGGER IF EXISTS chat_messages_fts_insert",
    "DROP TRIGGER IF EXISTS chat_messages_fts_delete",
    "DROP TRIGGER IF EXISTS chat_messages_fts_update",
    "DROP TABLE IF EXISTS chat_messages_fts",
]

UNACCENT_WRAPPER = (
    "CREATE OR REPLACE FUNCTION pichat_unaccent(text) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS "
    "$$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$"
)
ACCENTED = "áàâäãåāéèêëēíìîïīóòôöõøōúùûüūñçÁÀÂÄÃÅĀÉÈÊËĒÍÌÎÏĪÓÒÔÖÕØŌÚÙÛÜŪÑÇ"
PLAIN = "aaaaaaaeeeeeiiiiiooooooouuuuuncAAAAAAAEEEEEIIIIIOOOOOOOUUUUUNC"
TRANSLATE_WRAPPER = (
    "CREATE OR REPLACE FUNCTION pichat_unaccent(text) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS "
    f"$$ SELECT translate($1, '{ACCENTED}', '{PLAIN}') $$"
)
POSTGRESQL_SEARCH = [
    "ALTER TABLE chat_messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, pichat_unaccent(text))) STORED",
    "CREATE INDEX ix_chat_messages_search ON chat_messages USING gin (search_vector)",
    # Word frequencies for the planner: with the default (100) a word it has no figure for
    # is guessed common, and the newest matches are looked for by walking back through the
    # whole room (250 ms with a million messages) instead of asking the GIN index (1 ms).
    "ALTER TABLE chat_messages ALTER COLUMN search_vector SET STATISTICS 1000",
    "CREATE INDEX ix_chat_messages_room_seq ON chat_messages (room_id, seq)",
]


def upgrade():
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('chat_rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        bind.exec_driver_sql(_unaccent_wrapper(bind))
        for statement in POSTGRESQL_SEARCH:
            bind.exec_driver_sql(statement)
    elif bind.dialect.name == 'sqlite':
        for statement in SQLITE_SEARCH:
            bind.exec_driver_sql(statement)


def _unaccent_wrapper(bind):
    """The wrapper over the unaccent extension when it can be had, else over translate()."""
    try:
        with bind.begin_nested():  # a failed CREATE EXTENSION must not abort the migration
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    except sa.exc.DBAPIError:
        return TRANSLATE_WRAPPER
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'unaccent'"
    ).scalar_one()
    return UNACCENT_WRAPPER.format(schema=_quoted(schema))


def _quoted(identifier):
    return '"' + identifier.replace('"', '""') + '"'


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_chat_messages_room_seq")
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_chat_messages_search")
        bind.exec_driver_sql("ALTER TABLE chat_messages DROP COLUMN IF EXISTS search_vector")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS pichat_unaccent(text)")
    elif bind.dialect.name == 'sqlite':
        for statement in SQLITE_SEARCH_DROP:
            bind.exec_driver_sql(statement)
    with op.batch_alter_table('chat_rooms', schema=None) as batch_op:
        batch_op.drop_column('retention_days')
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_column('edited_at')
