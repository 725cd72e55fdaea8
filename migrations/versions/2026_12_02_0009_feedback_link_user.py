"""feedback link: the signed-in person who created it

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-02 03:25:00

A feedback link made in the web app (``/app/waves/{id}/feedback``) has no key behind it: reads of
its page are recorded under the account that made it. Links made before this revision get their
creator from the trail's ``feedback_link.create`` event.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('feedback_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_user_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE feedback_link SET created_by_user_id = ("
        " SELECT audit_event.user_id FROM audit_event"
        " WHERE audit_event.action = 'feedback_link.create'"
        " AND audit_event.object_type = 'feedback_link'"
        " AND audit_event.object_id = feedback_link.id"
        " ORDER BY audit_event.id LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table('feedback_link', schema=None) as batch_op:
        batch_op.drop_column('created_by_user_id')
