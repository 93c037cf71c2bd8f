"""Drop the procedure that confirmed a remembered token inside a write: every request now looks its
token up, on either database.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None
# A procedure only: the read models are untouched.
REBUILDS_READ_MODELS = False


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        op.execute("DROP PROCEDURE IF EXISTS confirm_live_token(text, text, text, text, text)")


def downgrade() -> None:
    """Nothing calls the procedure any more: going back to 0007 does not bring it back (0007's own
    downgrade drops it only if it is there)."""
