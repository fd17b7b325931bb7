"""a company that is both customer and supplier

Revision ID: 0002_both_sides
Revises: 0002_matched_existing
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_both_sides'
down_revision = '0002_matched_existing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Additive: every existing company trades one way, as before.
    with op.batch_alter_table('company') as batch:
        batch.add_column(sa.Column('trades_both_ways', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('company') as batch:
        batch.drop_column('trades_both_ways')
