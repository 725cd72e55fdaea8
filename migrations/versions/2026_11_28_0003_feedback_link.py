"""feedback link

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:42:13.373670
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('feedback_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('professional_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_feedback_link_municipality_id_municipality'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['professional_id'], ['professional.id'], name=op.f('fk_feedback_link_professional_id_professional'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_link')),
    sa.UniqueConstraint('token', name=op.f('uq_feedback_link_token'))
    )
    with op.batch_alter_table('feedback_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_link_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_link_professional_id'), ['professional_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feedback_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_link_professional_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_link_municipality_id'))

    op.drop_table('feedback_link')
