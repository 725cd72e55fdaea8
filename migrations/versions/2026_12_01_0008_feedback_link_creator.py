"""feedback link: the key that created it

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-01 20:55:00

Reads of a feedback page are recorded in the audit trail under the key that made the link. Links
made before this revision get their creator from the trail's ``feedback_link.create`` event.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('feedback_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_api_key_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE feedback_link SET created_by_api_key_id = ("
        " SELECT audit_event.api_key_id FROM audit_event"
        " WHERE audit_event.action = 'feedback_link.create'"
        " AND audit_event.object_type = 'feedback_link'"
        " AND audit_event.object_id = feedback_link.id"
        " ORDER BY audit_event.id LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table('feedback_link', schema=None) as batch_op:
        batch_op.drop_column('created_by_api_key_id')
