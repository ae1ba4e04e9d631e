"""moderation: the invite each enrollment was made with (enrollments.invite_id), so a ban can withdraw it

Revision ID: 0008_enrollment_invite
Revises: 0007_deletion_retention
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_enrollment_invite"
down_revision = "0007_deletion_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # enrollments made before this revision name no invite: a ban of one of them withdraws nothing
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invite_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key("fk_enrollments_invite_id_invites", "invites", ["invite_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_constraint("fk_enrollments_invite_id_invites", type_="foreignkey")
        batch_op.drop_column("invite_id")
