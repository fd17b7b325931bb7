"""claims on export items, and the organisation's shared pacing budget

Revision ID: 0002_claims
Revises: 0001
Create Date: 2026-12-02 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import kcc_desktop.models.types

revision = '0002_claims'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('export_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_owner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claim_until', kcc_desktop.models.types.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_export_item_claim', ['claim_owner'], unique=False)
    op.create_table('package_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('batch', sa.Boolean(), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('started_at', kcc_desktop.models.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', kcc_desktop.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_call'))
    )
    with op.batch_alter_table('package_call', schema=None) as batch_op:
        batch_op.create_index('ix_package_call_tenant', ['provider', 'tenant', 'finished_at'], unique=False)
    op.create_table('pacing_tenant',
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'tenant', name=op.f('pk_pacing_tenant'))
    )


def downgrade() -> None:
    op.drop_table('pacing_tenant')
    with op.batch_alter_table('package_call', schema=None) as batch_op:
        batch_op.drop_index('ix_package_call_tenant')
    op.drop_table('package_call')
    with op.batch_alter_table('export_item', schema=None) as batch_op:
        batch_op.drop_index('ix_export_item_claim')
        batch_op.drop_column('claim_until')
        batch_op.drop_column('claim_owner')
