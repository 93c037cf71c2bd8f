"""Region history: every name of every region with the day it held from, so that a report as of a
past day names regions as they were named that day.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None
# A new read model: service/migrate.py fills it from the log in the migration's transaction.
REBUILDS_READ_MODELS = True


def upgrade() -> None:
    op.create_table(
        "region_history",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("effective_on", sa.String(10)),
    )


def downgrade() -> None:
    op.drop_table("region_history")
