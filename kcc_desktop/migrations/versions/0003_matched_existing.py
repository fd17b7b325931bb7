"""export items that matched a record the package already had (issue 13)

Revision ID: 0002_matched_existing
Revises: 0002_claims
Create Date: 2026-12-02 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_matched_existing'
down_revision = '0002_claims'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('export_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_state', sa.String(length=8), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('export_item', schema=None) as batch_op:
        batch_op.drop_column('match_state')
