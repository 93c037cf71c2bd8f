"""Every user gets a stable id (a UUID): what identifies the person, whatever their username.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None
# A column of a plain table: the read models are untouched.
REBUILDS_READ_MODELS = False


def upgrade() -> None:
    # SQLite adds a NOT NULL column in place only with a default (making it NOT NULL afterwards would
    # copy the table, and the tokens' foreign keys refuse the old one's drop): the same on both
    # engines, and every row gets its own id at once.
    op.add_column("users", sa.Column("id", sa.String(36), nullable=False, server_default=sa.text("''")))
    bind = op.get_bind()
    for (username,) in bind.execute(sa.text("SELECT username FROM users")).all():
        bind.execute(
            sa.text("UPDATE users SET id = :id WHERE username = :username"),
            {"id": str(uuid.uuid4()), "username": username},
        )
    op.create_index("ux_users_id", "users", ["id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_users_id", table_name="users")
    op.execute("ALTER TABLE users DROP COLUMN id")
