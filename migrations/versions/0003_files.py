"""MicroNAS: the files table.

Revision ID: 0003_files
Revises: 0002_chat
Create Date: 2026-11-27 21:41:54.164916

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0003_files'
down_revision = '0002_chat'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('files',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('mime', sa.String(length=127), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=32), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=255), nullable=True),
    sa.Column('scan_engine', sa.String(length=32), nullable=True),
    sa.Column('scan_version', sa.String(length=255), nullable=True),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scan_attempts', sa.Integer(), nullable=False),
    sa.Column('next_scan_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('missing', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_files_status', 'files', ['status'], unique=False)
    op.create_index('ix_files_uploaded_at', 'files', ['uploaded_at'], unique=False)


def downgrade():
    op.drop_index('ix_files_uploaded_at', table_name='files')
    op.drop_index('ix_files_status', table_name='files')
    op.drop_table('files')
