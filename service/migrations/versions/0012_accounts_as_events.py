"""Accounts become events: every user's opening (and live tokens, and deactivation) is appended to the
log as imported events; `users` becomes a read model of them, with `role_grants` beside it; tokens are
kept by id and user id; passwords get a table of their own; events record the acting user's id.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

The opening events are written as plain rows with the chain's one hash (`events.store.event_hash`,
pinned by tests/unit/test_event_hash.py), their payloads spelled out here at schema version 1, so this
migration does not change meaning when the code's event classes grow later versions. The read models
(`users`, `role_grants`, and the cases whose stamps gain positions) are then rebuilt from the log by
`service.migrate.upgrade`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

from events.store import canonical_json, event_hash

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ACTOR = {"username": "cli", "name": "migration 0012", "role": "admin", "office": None}
REQUEST_ID = "migration-0012"


def upgrade() -> None:
    bind = op.get_bind()
    if "actor_id" not in {c["name"] for c in sa.inspect(bind).get_columns("events")}:
        op.add_column("events", sa.Column("actor_id", sa.String(36)))
    old_users = bind.execute(
        sa.text(
            "SELECT id, username, name, role, office_code, region_code, active, created_at FROM users"
            " ORDER BY created_at, username"
        )
    ).all()
    old_tokens = bind.execute(
        sa.text(
            "SELECT token_hash, username, created_at, revoked_at, expires_at FROM api_tokens"
            " ORDER BY created_at, token_hash"
        )
    ).all()
    op.drop_table("api_tokens")
    op.drop_table("users")
    _create_tables()

    ids = {user.username: user.id for user in old_users}
    tokens = [
        {
            "token_id": str(uuid.uuid4()),
            "token_hash": token.token_hash,
            "user_id": ids[token.username],
            "created_at": token.created_at,
            "revoked_at": token.revoked_at,
            "expires_at": token.expires_at,
        }
        for token in old_tokens
    ]
    log = _Log(bind)
    for user in old_users:
        opened = {
            "user_id": user.id,
            "username": user.username,
            "name": user.name,
            "role": user.role,
            "office_code": user.office_code,
            "region_code": user.region_code,
            "imported": True,
            "created_at": user.created_at,
        }
        log.append(user.id, "UserCreated", opened)
        live = [t for t in tokens if t["user_id"] == user.id and t["revoked_at"] is None]
        for token in live:
            log.append(
                user.id, "TokenIssued", {"token_id": token["token_id"], "expires_at": token["expires_at"]}
            )
        if not user.active:
            ended = [t["token_id"] for t in live]
            reason = "deactivated before accounts were recorded as events"
            log.append(user.id, "UserDeactivated", {"reason": reason, "tokens_ended": ended})
            for token in live:
                token["revoked_at"] = log.recorded_at
    if tokens:
        bind.execute(sa.table("api_tokens", *(sa.column(k) for k in tokens[0])).insert(), tokens)
    log.close()


class _Log:
    """Appends to the hash chain under the lock the upgrade holds: position, previous hash, hash."""

    def __init__(self, bind: sa.Connection) -> None:
        self.bind = bind
        head = bind.execute(sa.text("SELECT position, hash, recorded_at FROM ledger_head WHERE id = 1")).one()
        self.position, self.hash = head.position, head.hash
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.recorded_at = max(now, head.recorded_at)
        self.versions: dict[str, int] = {}
        self.appended = 0

    def append(self, stream_id: str, type_name: str, payload: dict[str, Any]) -> None:
        self.position += 1
        version = self.versions[stream_id] = self.versions.get(stream_id, 0) + 1
        row = {
            "position": self.position,
            "event_id": str(uuid.uuid4()),
            "stream_type": "user",
            "stream_id": stream_id,
            "version": version,
            "type": type_name,
            "schema_version": 1,
            "data": canonical_json(payload),
            "actor_username": ACTOR["username"],
            "actor_name": ACTOR["name"],
            "actor_role": ACTOR["role"],
            "actor_office": ACTOR["office"],
            "request_id": REQUEST_ID,
            "recorded_at": self.recorded_at,
            "prev_hash": self.hash,
        }
        row["hash"] = event_hash(**row)
        self.bind.execute(sa.table("events", *(sa.column(k) for k in row)).insert(), [row])
        self.hash = row["hash"]
        self.appended += 1

    def close(self) -> None:
        if self.appended:
            self.bind.execute(
                sa.text("UPDATE ledger_head SET position = :p, hash = :h, recorded_at = :at WHERE id = 1"),
                {"p": self.position, "h": self.hash, "at": self.recorded_at},
            )


def _create_tables() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("office_code", sa.String(32)),
        sa.Column("region_code", sa.String(32)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("role_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_users_office", "users", ["office_code"])
    op.create_table(
        "role_grants",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("office_code", sa.String(32)),
        sa.Column("region_code", sa.String(32)),
        sa.Column("imported", sa.Boolean, nullable=False),
    )
    op.create_index("ix_role_grants_user", "role_grants", ["user_id", "position"])
    op.create_index("ix_role_grants_username", "role_grants", ["username", "position"])
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(36), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_id"])
    op.create_table(
        "passwords",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    """Only while the log holds no account events: once it does, they cannot be taken back (the log is
    append-only); restore the backup taken before the upgrade instead."""
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM events WHERE stream_type = 'user' LIMIT 1")).first():
        raise RuntimeError(
            "the log records accounts as events from revision 0012 on, and the log is append-only:"
            " restore the backup taken before the upgrade instead of downgrading"
        )
    for table in ("passwords", "api_tokens", "role_grants", "users"):
        op.drop_table(table)
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("office_code", sa.String(32), sa.ForeignKey("offices.code")),
        sa.Column("region_code", sa.String(32)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("id", sa.String(36), nullable=False, server_default=sa.text("''")),
    )
    op.create_index("ux_users_id", "users", ["id"], unique=True)
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), sa.ForeignKey("users.username"), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_api_tokens_username", "api_tokens", ["username"])
    # In place on both engines (a batch copy of the log would lose its append-only triggers).
    op.execute("ALTER TABLE events DROP COLUMN actor_id")
