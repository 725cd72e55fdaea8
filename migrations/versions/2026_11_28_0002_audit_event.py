"""audit event

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 18:22:57.677132
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('wave_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_api_key_id'), ['api_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_occurred_at'), ['occurred_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_api_key_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
