"""export state per package and organisation; Error Feedback counted, resolved and sourced

What was exported is now per package (``provider``) and organisation (``tenant_id``) on ``export_item``
and ``remote_link``; existing rows belong to the connection the file has now. Error Feedback gets a count
and last-seen time (the same problem again is one row), a resolved time (the item exported later) and
whose words it holds (the package's, or KCC's own finding). Additive: no column or row is dropped.

Revision ID: 0002_window
Revises: 0005_reconcile
Create Date: 2026-12-01 05:00:00
"""
import sqlalchemy as sa
from alembic import op

import kcc_desktop.models.types

revision = '0002_window'
down_revision = '0005_reconcile'
branch_labels = None
depends_on = None


def _connection_target() -> tuple[str, str]:
    """(provider, tenant id) of the file's connection now: what existing rows were exported to."""
    bind = op.get_bind()
    found = bind.execute(sa.text(
        "SELECT key, value FROM app_setting WHERE key IN ('connection.provider', 'connection.tenant_id')")).all()
    rows = {str(key): str(value) for key, value in found}
    return rows.get('connection.provider') or 'xero', rows.get('connection.tenant_id') or ''


def upgrade() -> None:
    provider, tenant = _connection_target()
    with op.batch_alter_table('export_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('tenant_id', sa.String(length=64), server_default='', nullable=False))
        batch_op.drop_index('uq_export_item_pending_object', sqlite_where=sa.text("status = 'pending'"),
                            postgresql_where=sa.text("status = 'pending'"))
    op.execute(sa.text("UPDATE export_item SET provider = :p, tenant_id = :t").bindparams(p=provider, t=tenant))
    with op.batch_alter_table('export_item', schema=None) as batch_op:
        batch_op.create_index('ix_export_item_target_status', ['provider', 'tenant_id', 'status', 'item_type', 'object_id'],
                              unique=False)
        batch_op.create_index('uq_export_item_pending_target_object',
                              ['provider', 'tenant_id', 'item_type', 'object_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    with op.batch_alter_table('remote_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant_id', sa.String(length=64), server_default='', nullable=False))
        batch_op.drop_constraint('provider_object', type_='unique')
        batch_op.create_unique_constraint('provider_tenant_object', ['provider', 'tenant_id', 'object_type',
                                                                     'object_id'])
    # Links of the connected package belong to its organisation; another package's keep "" (unknown).
    op.execute(sa.text("UPDATE remote_link SET tenant_id = :t WHERE provider = :p").bindparams(p=provider, t=tenant))

    with op.batch_alter_table('export_feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', kcc_desktop.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('count', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('resolved_at', kcc_desktop.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=8), server_default='package', nullable=False))
        batch_op.create_index(batch_op.f('ix_export_feedback_resolved_at'), ['resolved_at'], unique=False)
    op.execute(sa.text("UPDATE export_feedback SET last_seen_at = at"))
    op.execute(sa.text("UPDATE export_feedback SET source = 'kcc' WHERE message LIKE 'Not sent:%'"))
    # The same problem on every run was a new row each time: keep the first, counted, last seen at the latest.
    op.execute(sa.text(
        "UPDATE export_feedback SET "
        " count = (SELECT COUNT(*) FROM export_feedback d WHERE d.export_item_id = export_feedback.export_item_id"
        "          AND d.message = export_feedback.message),"
        " last_seen_at = (SELECT MAX(d.at) FROM export_feedback d"
        "          WHERE d.export_item_id = export_feedback.export_item_id AND d.message = export_feedback.message)"
        " WHERE export_item_id IS NOT NULL AND id = (SELECT MIN(d.id) FROM export_feedback d"
        "          WHERE d.export_item_id = export_feedback.export_item_id AND d.message = export_feedback.message)"))
    op.execute(sa.text(
        "DELETE FROM export_feedback WHERE export_item_id IS NOT NULL AND id > (SELECT MIN(d.id) FROM "
        "export_feedback d WHERE d.export_item_id = export_feedback.export_item_id "
        "AND d.message = export_feedback.message)"))
    # A problem whose item has since been exported is resolved.
    op.execute(sa.text(
        "UPDATE export_feedback SET resolved_at = (SELECT COALESCE(i.exported_at, export_feedback.last_seen_at) "
        "FROM export_item i WHERE i.id = export_feedback.export_item_id) "
        "WHERE export_item_id IN (SELECT id FROM export_item WHERE status = 'exported')"))


def downgrade() -> None:
    with op.batch_alter_table('export_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_feedback_resolved_at'))
        batch_op.drop_column('source')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('count')
        batch_op.drop_column('last_seen_at')
    with op.batch_alter_table('remote_link', schema=None) as batch_op:
        batch_op.drop_constraint('provider_tenant_object', type_='unique')
        batch_op.create_unique_constraint('provider_object', ['provider', 'object_type', 'object_id'])
        batch_op.drop_column('tenant_id')
    with op.batch_alter_table('export_item', schema=None) as batch_op:
        batch_op.drop_index('uq_export_item_pending_target_object', sqlite_where=sa.text("status = 'pending'"),
                            postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index('ix_export_item_target_status')
        batch_op.create_index('uq_export_item_pending_object', ['item_type', 'object_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_column('tenant_id')
        batch_op.drop_column('provider')
