"""Tokens expire: every token gets an `expires_at`. Tokens issued before this revision expire 90 days
after the upgrade (not after their issue), so that nobody is locked out by the upgrade itself.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None
# A column of a plain table: the read models are untouched.
REBUILDS_READ_MODELS = False

GRACE = dt.timedelta(days=90)


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.String(32), nullable=True))
    expires = (dt.datetime.now(dt.UTC) + GRACE).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    op.execute(sa.text("UPDATE api_tokens SET expires_at = :expires").bindparams(expires=expires))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=sa.String(32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
