"""Each office's count of cases per stage at the end of every day it changed: the pipeline as of a
past day by one index seek per office and stage, not a sum over every day before it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
# A new read model: service/migrate.py fills it from the log in the migration's transaction.
REBUILDS_READ_MODELS = True


def upgrade() -> None:
    op.create_table(
        "stage_levels",
        sa.Column("office_code", sa.String(32), primary_key=True),
        sa.Column("stage", sa.String(16), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("cases", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stage_levels")
