"""Tables the service keeps beside the log: offices, users and their tokens, the village registry (who
may act and where, not what happened, so plain tables), and the replies kept for idempotency keys."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from events.schema import metadata

offices = Table(
    "offices",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("region_code", String(32), nullable=False),
    Column("region_name", String(200), nullable=False),
    Column("regencies", JSON, nullable=False),
    Index("ix_offices_region", "region_code"),
)

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("office_code", String(32), ForeignKey("offices.code")),
    Column("region_code", String(32)),
    Column("active", Boolean, nullable=False),
    Column("created_at", String(32), nullable=False),
    # The person, whatever their username: a UUID, given by `accounts.add_user` (the empty default
    # only let migration 0011 add the column to existing rows; the unique index keeps it from use).
    Column("id", String(36), nullable=False, server_default=text("''")),
    Index("ux_users_id", "id", unique=True),
)

# Only a SHA-256 of each token is kept: a copy of the database does not let anyone sign in.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), ForeignKey("users.username"), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    Column("expires_at", String(32), nullable=False),
    Index("ix_api_tokens_username", "username"),
)

# The village registry: every administrative area by official code (province, regency, district,
# village); `level` is the number of code segments, 1 to 4.
areas = Table(
    "areas",
    metadata,
    Column("code", String(13), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", Integer, nullable=False),
)

# A request's reply kept with its Idempotency-Key, in the transaction that recorded its work: a retry
# gets it back, byte for byte, and records nothing new.
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
