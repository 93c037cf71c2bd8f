"""Designation days: each office's designations per decree year and quarter, for the year's report.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
# A new read model: service/migrate.py fills it from the log in the migration's transaction.
REBUILDS_READ_MODELS = True


def upgrade() -> None:
    op.create_table(
        "designation_days",
        sa.Column("office_code", sa.String(32), primary_key=True),
        sa.Column("decree_year", sa.Integer, primary_key=True),
        sa.Column("quarter", sa.String(2), primary_key=True),
        sa.Column("designated", sa.Integer, nullable=False),
        sa.Column("days", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("designation_days")
