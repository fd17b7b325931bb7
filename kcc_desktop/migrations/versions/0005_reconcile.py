"""reconciliation: what was sent (export_snapshot), differences handled by hand (reconcile_note), and who
marked a row exported and why (export_item, audit_entry)

Revision ID: 0005_reconcile
Revises: 0002_both_sides
"""
import sqlalchemy as sa
from alembic import op

import kcc_desktop.models.types

revision = '0005_reconcile'
down_revision = '0002_both_sides'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Additive: rows made before keep empty who/why (and no snapshot: reconciliation says so).
    with op.batch_alter_table('audit_entry') as batch:
        batch.add_column(sa.Column('user', sa.String(length=100), nullable=False, server_default=''))
        batch.add_column(sa.Column('reason', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('export_item') as batch:
        batch.add_column(sa.Column('marked_by', sa.String(length=100), nullable=False, server_default=''))
        batch.add_column(sa.Column('mark_reason', sa.Text(), nullable=False, server_default=''))
    op.create_table('export_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('item_type', sa.String(length=24), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('taken_at', kcc_desktop.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_snapshot')),
    sa.UniqueConstraint('provider', 'item_type', 'object_id', name='snapshot_object')
    )
    op.create_table('reconcile_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('item_type', sa.String(length=24), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('remote_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('user', sa.String(length=100), nullable=False),
    sa.Column('at', kcc_desktop.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_note'))
    )
    with op.batch_alter_table('reconcile_note') as batch:
        batch.create_index('ix_reconcile_note_object', ['provider', 'item_type', 'object_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reconcile_note') as batch:
        batch.drop_index('ix_reconcile_note_object')
    op.drop_table('reconcile_note')
    op.drop_table('export_snapshot')
    with op.batch_alter_table('export_item') as batch:
        batch.drop_column('mark_reason')
        batch.drop_column('marked_by')
    with op.batch_alter_table('audit_entry') as batch:
        batch.drop_column('reason')
        batch.drop_column('user')
