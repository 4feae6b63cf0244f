"""Chat: a persistent room's message may carry a shared MicroNAS file.

Revision ID: 0005_message_files
Revises: 0004_room_members
Create Date: 2026-12-01 16:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005_message_files'
down_revision = '0004_room_members'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_id', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_column('file_id')
