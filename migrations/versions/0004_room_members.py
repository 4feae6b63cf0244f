"""Chat: persistent rooms' memberships, kept per account.

Revision ID: 0004_room_members
Revises: 0003_files
Create Date: 2026-12-01 16:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0004_room_members'
down_revision = '0003_files'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chat_members',
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['chat_rooms.id'], ),
    sa.PrimaryKeyConstraint('room_id', 'username')
    )
    with op.batch_alter_table('chat_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_members_username'), ['username'], unique=False)


def downgrade():
    with op.batch_alter_table('chat_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_members_username'))
    op.drop_table('chat_members')
