"""When a case starts: the proposer may give the day a case began (`proposed_on`, in the proposal's
event since its version 2), and every case has a start (`started_on`): that day, or else the earliest
day recorded on the case, its proposal's recording or any stage's date.

Durations were counted from the day the proposal was recorded, so a case entered after the fact (its
meetings and decree dated before that day) had a negative `days_to_designation`. The start changes
what the read models hold for existing logs (the cases' start, the register's and the reports' days to
designation), so they are rebuilt from the log: the two columns added here are filled by that rebuild
(service/migrate.py), in this migration's transaction.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None
# Existing cases get their start, and designations their days counted from it.
REBUILDS_READ_MODELS = True


def upgrade() -> None:
    op.add_column("candidacies", sa.Column("proposed_on", sa.String(10), nullable=True))
    op.add_column("candidacies", sa.Column("started_on", sa.String(10), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both databases (SQLite since 3.35): the table is not copied.
    op.drop_column("candidacies", "started_on")
    op.drop_column("candidacies", "proposed_on")
