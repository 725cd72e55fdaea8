"""publication cut: responses are published in batches (response.cut_id), waves choose their smallest cell

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:47:13.628996
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('publication_cut',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('n_responses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_publication_cut_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_cut'))
    )
    with op.batch_alter_table('publication_cut', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_cut_wave_id'), ['wave_id'], unique=False)

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cut_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_response_pending', ['wave_id'], unique=False, postgresql_where=sa.text('cut_id IS NULL'), sqlite_where=sa.text('cut_id IS NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_response_cut_id_publication_cut'), 'publication_cut', ['cut_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('professional_feedback', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('professional_feedback')

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_response_cut_id_publication_cut'), type_='foreignkey')
        batch_op.drop_index('ix_response_pending', postgresql_where=sa.text('cut_id IS NULL'), sqlite_where=sa.text('cut_id IS NULL'))
        batch_op.drop_column('cut_id')

    with op.batch_alter_table('publication_cut', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_cut_wave_id'))

    op.drop_table('publication_cut')
