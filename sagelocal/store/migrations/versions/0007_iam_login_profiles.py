"""iam: login profiles (console passwords, argon2id hashes)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sagelocal.store.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iam_login_profiles",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("password_reset_required", sa.Boolean(), nullable=False),
        sa.Column("create_date", sagelocal.store.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["iam_users.user_id"], name=op.f("fk_iam_login_profiles_user_id_iam_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_iam_login_profiles")),
    )
    op.create_index(
        op.f("ix_iam_login_profiles_account_id"), "iam_login_profiles", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_iam_login_profiles_account_id"), table_name="iam_login_profiles")
    op.drop_table("iam_login_profiles")
