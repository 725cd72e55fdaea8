"""core tables

Revision ID: 0001
Revises:
Create Date: 2026-11-28 17:56:18.145418
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('instrument_version',
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_instrument_version'))
    )
    op.create_table('municipality',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_municipality')),
    sa.UniqueConstraint('slug', name=op.f('uq_municipality_slug'))
    )
    op.create_table('answer_layout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_version', sa.String(length=32), nullable=False),
    sa.Column('form', sa.String(length=32), nullable=False),
    sa.Column('modules', sa.String(length=200), nullable=False),
    sa.Column('item_ids', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['instrument_version'], ['instrument_version.version'], name=op.f('fk_answer_layout_instrument_version_instrument_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_layout')),
    sa.UniqueConstraint('instrument_version', 'form', 'modules', name=op.f('uq_answer_layout_instrument_version_form_modules'))
    )
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_api_key_municipality_id_municipality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_api_key_secret_hash'))
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('partner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_partner_municipality_id_municipality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner'))
    )
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_team_municipality_id_municipality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team'))
    )
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('wave',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('instrument_version', sa.String(length=32), nullable=False),
    sa.Column('modules', sa.String(length=200), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instrument_version'], ['instrument_version.version'], name=op.f('fk_wave_instrument_version_instrument_version')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_wave_municipality_id_municipality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wave'))
    )
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wave_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('professional',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_professional_municipality_id_municipality'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_professional_partner_id_partner'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_professional_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_professional')),
    sa.UniqueConstraint('municipality_id', 'code', name=op.f('uq_professional_municipality_id_code'))
    )
    with op.batch_alter_table('professional', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_professional_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_professional_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_professional_team_id'), ['team_id'], unique=False)

    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('professional_id', sa.Integer(), nullable=False),
    sa.Column('form', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_invitation_municipality_id_municipality'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['professional_id'], ['professional.id'], name=op.f('fk_invitation_professional_id_professional'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_invitation_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token', name=op.f('uq_invitation_token'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_professional_id'), ['professional_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_wave_id'), ['wave_id'], unique=False)

    op.create_table('response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('professional_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('form', sa.String(length=32), nullable=False),
    sa.Column('layout_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('answers', sa.String(length=255), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submission_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['layout_id'], ['answer_layout.id'], name=op.f('fk_response_layout_id_answer_layout')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_response_municipality_id_municipality'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['professional_id'], ['professional.id'], name=op.f('fk_response_professional_id_professional'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_response_team_id_team'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_response_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_response_submission_key'))
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_professional_id'), ['professional_id'], unique=False)
        batch_op.create_index('ix_response_wave_id_form', ['wave_id', 'form'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_wave_id_form')
        batch_op.drop_index(batch_op.f('ix_response_professional_id'))
        batch_op.drop_index(batch_op.f('ix_response_municipality_id'))

    op.drop_table('response')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_wave_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_professional_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_municipality_id'))

    op.drop_table('invitation')
    with op.batch_alter_table('professional', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_professional_team_id'))
        batch_op.drop_index(batch_op.f('ix_professional_partner_id'))
        batch_op.drop_index(batch_op.f('ix_professional_municipality_id'))

    op.drop_table('professional')
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wave_municipality_id'))

    op.drop_table('wave')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_municipality_id'))

    op.drop_table('team')
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_municipality_id'))

    op.drop_table('partner')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_municipality_id'))

    op.drop_table('api_key')
    op.drop_table('answer_layout')
    op.drop_table('municipality')
    op.drop_table('instrument_version')

