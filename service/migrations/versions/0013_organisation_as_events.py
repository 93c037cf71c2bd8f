"""The organisation becomes events: every region and office that exists is appended to the log as an
imported event (`RegionAdded`, `OfficeOpened` since before records); `regions`, `offices` and
`office_history` become read models of them, rebuilt from the log by `service.migrate.upgrade`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

As in 0012, the events are written as plain rows with the chain's one hash, their payloads spelled out
here at schema version 1.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

from events.store import canonical_json, event_hash

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ACTOR = {"username": "cli", "name": "migration 0013", "role": "admin", "office": None}
REQUEST_ID = "migration-0013"


def upgrade() -> None:
    bind = op.get_bind()
    old = bind.execute(
        sa.text("SELECT code, name, region_code, region_name, regencies FROM offices ORDER BY code")
    ).all()
    op.drop_table("offices")
    _create_tables()
    log = _Log(bind)
    regions: dict[str, str] = {}
    for office in old:
        regions.setdefault(office.region_code, office.region_name)
    # A region a supervisor watches whose offices all moved to another region: known by its code only.
    watched = bind.execute(sa.text("SELECT DISTINCT region_code FROM users WHERE region_code IS NOT NULL"))
    for (code,) in watched:
        regions.setdefault(code, code)
    for code, name in sorted(regions.items()):
        log.append("region", f"region:{code}", "RegionAdded", {"code": code, "name": name, "imported": True})
    for office in old:
        regencies = office.regencies if isinstance(office.regencies, list) else json.loads(office.regencies)
        opened = {
            "code": office.code,
            "name": office.name,
            "unit_type": "kanim",
            "region_code": office.region_code,
            "regencies": sorted(regencies),
            "effective_on": None,
            "imported": True,
        }
        log.append("office", f"office:{office.code}", "OfficeOpened", opened)
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

    def append(self, stream_type: str, stream_id: str, type_name: str, payload: dict[str, Any]) -> None:
        self.position += 1
        version = self.versions[stream_id] = self.versions.get(stream_id, 0) + 1
        row = {
            "position": self.position,
            "event_id": str(uuid.uuid4()),
            "stream_type": stream_type,
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
        "regions",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "offices",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_type", sa.String(16), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=False),
        sa.Column("regencies", sa.JSON, nullable=False),
        sa.Column("effective_on", sa.String(10)),
    )
    op.create_index("ix_offices_region", "offices", ["region_code"])
    op.create_table(
        "office_history",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("effective_on", sa.String(10)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_type", sa.String(16), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=False),
        sa.Column("regencies", sa.JSON, nullable=False),
        sa.Column("changed", sa.JSON, nullable=False),
        sa.Column("taken_by", sa.String(32)),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_office_history_code", "office_history", ["code", "position"])


def downgrade() -> None:
    """Only while the log holds no organisation events (the log is append-only): otherwise restore the
    backup taken before the upgrade."""
    bind = op.get_bind()
    if bind.execute(
        sa.text("SELECT 1 FROM events WHERE stream_type IN ('office', 'region') LIMIT 1")
    ).first():
        raise RuntimeError(
            "the log records the organisation as events from revision 0013 on, and the log is append-only:"
            " restore the backup taken before the upgrade instead of downgrading"
        )
    for table in ("office_history", "offices", "regions"):
        op.drop_table(table)
    op.create_table(
        "offices",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region_code", sa.String(32), nullable=False),
        sa.Column("region_name", sa.String(200), nullable=False),
        sa.Column("regencies", sa.JSON, nullable=False),
    )
    op.create_index("ix_offices_region", "offices", ["region_code"])
