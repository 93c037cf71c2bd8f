"""Indexes for national reports: rejections and withdrawals by day, and the designations of a year
read from the index alone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Indexes only: the read models keep their rows, nothing needs replaying (see service/migrate.py).
REBUILDS_READ_MODELS = False


def upgrade() -> None:
    op.create_index("ix_stage_changes_stage_day", "stage_changes", ["stage", "day", "office_code", "delta"])
    op.create_index(
        "ix_designations_year_figures",
        "designations",
        ["decree_year", "office_code", "quarter", "days_to_designation", "recorded_day"],
    )


def downgrade() -> None:
    op.drop_index("ix_designations_year_figures", table_name="designations")
    op.drop_index("ix_stage_changes_stage_day", table_name="stage_changes")
