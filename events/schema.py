"""Tables of the log and of the read models projected from it (SQLAlchemy Core).

The schema itself is created by the Alembic migrations in `service/migrations`; these definitions are
what the code queries, and a test checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

GENESIS_HASH = "0" * 64

events = Table(
    "events",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_type", String(32), nullable=False),
    Column("stream_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("actor_username", String(64), nullable=False),
    Column("actor_name", String(200), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("actor_office", String(32)),
    Column("request_id", String(64), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)

# One row: the newest position and hash. Every writer takes it first, so positions are contiguous
# and in commit order.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", String(32), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("username", String(64), nullable=False),
    Column("key", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("created_at", String(32), nullable=False),
    PrimaryKeyConstraint("username", "key", name="pk_idempotency_keys"),
)

candidacies = Table(
    "candidacies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("stage", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("village_code", String(13), nullable=False),
    Column("village_name", String(200), nullable=False),
    Column("district_name", String(200)),
    Column("regency_name", String(200)),
    Column("province_name", String(200)),
    Column("office_code", String(32), nullable=False),
    Column("region_code", String(32), nullable=False),
    Column("proposed_year", Integer, nullable=False),
    Column("proposed_position", BigInteger, nullable=False, unique=True),
    Column("rationale", Text, nullable=False),
    Column("indicators", JSON, nullable=False),
    Column("proposed", JSON, nullable=False),
    Column("coordinated", JSON),
    Column("socialized", JSON),
    Column("assessed", JSON),
    Column("designated", JSON),
    Column("closed", JSON),
    Column("returned", JSON),
    Column("updated_at", String(32), nullable=False),
    Column("last_position", BigInteger, nullable=False),
    Index("ix_candidacies_office", "office_code", "proposed_position"),
    Index("ix_candidacies_region", "region_code", "proposed_position"),
    # One live or designated candidacy per village, enforced by the database as well as by the rule.
    Index(
        "uq_candidacies_village_held",
        "village_code",
        unique=True,
        sqlite_where=text("stage NOT IN ('rejected', 'withdrawn')"),
        postgresql_where=text("stage NOT IN ('rejected', 'withdrawn')"),
    ),
)

READ_MODEL_TABLES = [candidacies]
