"""The event log, its ledger head, idempotency keys, the candidacy read model, reference tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
       BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
       BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END""",
]

POSTGRES_APPEND_ONLY = [
    """CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
       FOR EACH ROW EXECUTE FUNCTION events_append_only()""",
    """CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
       FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("stream_type", sa.String(32), nullable=False),
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("actor_username", sa.String(64), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("actor_office", sa.String(32)),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )
    statements = SQLITE_APPEND_ONLY if op.get_context().dialect.name == "sqlite" else POSTGRES_APPEND_ONLY
    for statement in statements:
        op.execute(statement)

    ledger_head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    op.bulk_insert(ledger_head, [{"id": 1, "position": 0, "hash": GENESIS_HASH, "recorded_at": ""}])

    op.create_table(
        "idempotency_keys",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("username", "key", name="pk_idempotency_keys"),
    )

    op.create_table(
        "candidacies",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("village_code", sa.String(13), nullable=False),
        sa.Column("village_name", sa.String(200), nullable=False),
        sa.Column("district_name", sa.String(200)),
        sa.Column("regency_name", sa.String(200)),
        sa.Column("province_name", sa.String(200)),
        sa.Column("office_code", sa.String(32), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=False),
        sa.Column("proposed_year", sa.Integer, nullable=False),
        sa.Column("proposed_position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("indicators", sa.JSON, nullable=False),
        sa.Column("proposed", sa.JSON, nullable=False),
        sa.Column("coordinated", sa.JSON),
        sa.Column("socialized", sa.JSON),
        sa.Column("assessed", sa.JSON),
        sa.Column("designated", sa.JSON),
        sa.Column("closed", sa.JSON),
        sa.Column("returned", sa.JSON),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("last_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_candidacies_office", "candidacies", ["office_code", "proposed_position"])
    op.create_index("ix_candidacies_region", "candidacies", ["region_code", "proposed_position"])
    held = sa.text("stage NOT IN ('rejected', 'withdrawn')")
    op.create_index(
        "uq_candidacies_village_held",
        "candidacies",
        ["village_code"],
        unique=True,
        sqlite_where=held,
        postgresql_where=held,
    )

    op.create_table(
        "offices",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=False),
        sa.Column("region_name", sa.String(200), nullable=False),
        sa.Column("regencies", sa.JSON, nullable=False),
    )
    op.create_index("ix_offices_region", "offices", ["region_code"])
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("office_code", sa.String(32), sa.ForeignKey("offices.code")),
        sa.Column("region_code", sa.String(32)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), sa.ForeignKey("users.username"), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)),
    )
    op.create_index("ix_api_tokens_username", "api_tokens", ["username"])
    op.create_table(
        "areas",
        sa.Column("code", sa.String(13), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "areas",
        "api_tokens",
        "users",
        "offices",
        "candidacies",
        "idempotency_keys",
        "ledger_head",
    ):
        op.drop_table(table)
    op.drop_table("events")
    if op.get_context().dialect.name != "sqlite":
        op.execute("DROP FUNCTION events_append_only()")
