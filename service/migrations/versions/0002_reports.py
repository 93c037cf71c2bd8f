"""Read models for targets, the designation register and performance reports as of any day.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
    op.create_table(
        "pipeline_counts",
        sa.Column("office_code", sa.String(32), primary_key=True),
        sa.Column("stage", sa.String(16), primary_key=True),
        sa.Column("cases", sa.Integer, nullable=False),
    )
    op.create_table(
        "stage_changes",
        sa.Column("office_code", sa.String(32), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("stage", sa.String(16), primary_key=True),
        sa.Column("delta", sa.Integer, nullable=False),
    )
    op.create_index("ix_stage_changes_day", "stage_changes", ["day"])
    op.create_table(
        "designations",
        sa.Column("candidacy_id", sa.String(36), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("village_code", sa.String(13), nullable=False),
        sa.Column("village_name", sa.String(200), nullable=False),
        sa.Column("district_name", sa.String(200)),
        sa.Column("regency_name", sa.String(200)),
        sa.Column("province_name", sa.String(200)),
        sa.Column("office_code", sa.String(32), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=False),
        sa.Column("decree_number", sa.String(200), nullable=False),
        sa.Column("decree_date", sa.String(10), nullable=False),
        sa.Column("decree_year", sa.Integer, nullable=False),
        sa.Column("quarter", sa.String(2), nullable=False),
        sa.Column("fostering_officers", sa.JSON, nullable=False),
        sa.Column("proposed_by", sa.JSON, nullable=False),
        sa.Column("coordinated_by", sa.JSON, nullable=False),
        sa.Column("socialized_by", sa.JSON, nullable=False),
        sa.Column("assessed_by", sa.JSON, nullable=False),
        sa.Column("approved_by", sa.JSON, nullable=False),
        sa.Column("recorded_day", sa.String(10), nullable=False),
        sa.Column("days_to_designation", sa.Integer, nullable=False),
    )
    op.create_index("ix_designations_year", "designations", ["decree_year", "office_code"])
    op.create_index("ix_designations_office", "designations", ["office_code", "position"])
    op.create_table(
        "targets",
        sa.Column("office_code", sa.String(32), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("target", sa.Integer, nullable=False),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
        sa.Column("set_by", sa.JSON, nullable=False),
        sa.Column("last_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_targets_year", "targets", ["year"])
    op.create_table(
        "target_history",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("office_code", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("target", sa.Integer, nullable=False),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
        sa.Column("set_day", sa.String(10), nullable=False),
        sa.Column("set_by", sa.JSON, nullable=False),
    )
    op.create_index("ix_target_history_year", "target_history", ["year", "office_code", "set_day"])


def downgrade() -> None:
    for table in ("target_history", "targets", "designations", "stage_changes", "pipeline_counts"):
        op.drop_table(table)
    op.drop_index("ix_events_recorded_at", "events")
