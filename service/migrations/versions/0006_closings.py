"""Closings: each office's rejections and withdrawals per year, for the year's report.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
# A new read model: service/migrate.py fills it from the log in the migration's transaction.
REBUILDS_READ_MODELS = True


def upgrade() -> None:
    op.create_table(
        "closings",
        sa.Column("office_code", sa.String(32), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("stage", sa.String(16), primary_key=True),
        sa.Column("cases", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("closings")
