"""Fostering: a designated case's officers, activities, residents' reports and evaluations as read
models; its fostering and revocation on the case's row; a revoked case releases its village.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None
# New read models (and a new column on the cases): service/migrate.py fills them from the log in the
# migration's transaction.
REBUILDS_READ_MODELS = True

HELD_BEFORE = "stage NOT IN ('rejected', 'withdrawn')"
HELD = "stage NOT IN ('rejected', 'revoked', 'withdrawn')"


def _village_index(condition: str) -> None:
    op.drop_index("uq_candidacies_village_held", table_name="candidacies")
    op.create_index(
        "uq_candidacies_village_held",
        "candidacies",
        ["village_code"],
        unique=True,
        sqlite_where=sa.text(condition),
        postgresql_where=sa.text(condition),
    )


def upgrade() -> None:
    op.add_column("candidacies", sa.Column("fostering", sa.JSON))
    op.add_column("candidacies", sa.Column("revoked", sa.JSON))
    _village_index(HELD)
    op.create_table(
        "fostering_officers",
        sa.Column("candidacy_id", sa.String(36), primary_key=True),
        sa.Column("username", sa.String(64), primary_key=True),
    )
    op.create_index("ix_fostering_officers_username", "fostering_officers", ["username"])
    op.create_table(
        "officer_assignments",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("candidacy_id", sa.String(36), nullable=False),
        sa.Column("officers", sa.JSON, nullable=False),
        sa.Column("decree_number", sa.String(200), nullable=False),
        sa.Column("decree_date", sa.String(10), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_officer_assignments_case", "officer_assignments", ["candidacy_id", "position"])
    op.create_table(
        "activities",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("candidacy_id", sa.String(36), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("held_on", sa.String(10), nullable=False),
        sa.Column("participants", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("topics", sa.JSON, nullable=False),
        sa.Column("recorded", sa.JSON, nullable=False),
    )
    op.create_index("ix_activities_case", "activities", ["candidacy_id", "position"])
    op.create_table(
        "village_reports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("candidacy_id", sa.String(36), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("verify_by", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("received", sa.JSON, nullable=False),
        sa.Column("verified_at", sa.String(32)),
        sa.Column("close_by", sa.String(32)),
        sa.Column("verified", sa.JSON),
        sa.Column("closed_at", sa.String(32)),
        sa.Column("closed", sa.JSON),
    )
    op.create_index("ix_village_reports_case", "village_reports", ["candidacy_id", "position"])
    op.create_table(
        "evaluations",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("candidacy_id", sa.String(36), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("rating", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("recorded", sa.JSON, nullable=False),
    )
    op.create_index("ix_evaluations_case", "evaluations", ["candidacy_id", "period", "position"])


FOSTERING_EVENTS = (
    "CandidacyRevoked",
    "FosteringOfficersAssigned",
    "ActivityRecorded",
    "VillageReportReceived",
    "VillageReportVerified",
    "VillageReportClosed",
    "VillageEvaluated",
)


def downgrade() -> None:
    """Only while the log holds no fostering events: an older revision cannot read them, and the log is
    append-only; restore the backup taken before the upgrade instead."""
    listed = ", ".join(f"'{name}'" for name in FOSTERING_EVENTS)
    if op.get_bind().execute(sa.text(f"SELECT 1 FROM events WHERE type IN ({listed}) LIMIT 1")).first():
        raise RuntimeError(
            "the log records fostering from revision 0016 on, and the log is append-only:"
            " restore the backup taken before the upgrade instead of downgrading"
        )
    op.drop_table("evaluations")
    op.drop_table("village_reports")
    op.drop_table("activities")
    op.drop_table("officer_assignments")
    op.drop_table("fostering_officers")
    _village_index(HELD_BEFORE)
    # ALTER TABLE ... DROP COLUMN on both databases (SQLite since 3.35): the table is not copied.
    op.drop_column("candidacies", "revoked")
    op.drop_column("candidacies", "fostering")
