"""Tables the service keeps beside the log: the secrets behind accounts (token hashes, password
hashes), the village registry, and the replies kept for idempotency keys."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from events.schema import metadata

# The accounts themselves are a read model of their events (`events.schema.users`). What no event may
# hold stays here, written in the same transaction as the event that names it: only a SHA-256 of each
# token (a copy of the database does not let anyone sign in), and a password's salted hash.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(36), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    Column("expires_at", String(32), nullable=False),
    Index("ix_api_tokens_user", "user_id"),
)

passwords = Table(
    "passwords",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("set_at", String(32), nullable=False),
)

# One-time links to set a password: only a SHA-256 of each link's secret, like the tokens'. A link
# serves once (`used_at`), until it expires.
password_links = Table(
    "password_links",
    metadata,
    Column("link_id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(36), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("used_at", String(32)),
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
