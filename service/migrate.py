"""Schema migrations, run through Alembic from code (`flask --app wsgi db upgrade`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, select

from events import rebuild
from events.database import Database
from events.schema import ledger_head
from events.store import EventStore

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(
    database: Database, revision: str = "head", *, before_replay: Callable[[int], None] | None = None
) -> bool:
    """Bring the schema to `revision`; running it again changes nothing. Returns whether it changed.

    A migration may add or reshape read models; they are then rebuilt from the log, which is the
    truth, in the migration's own transaction: either the new schema comes with complete read models
    or nothing changes at all.
    """
    config = alembic_config()
    # The write lock for the whole upgrade: writers meanwhile give up after their bounded wait.
    with database.maintenance() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        after = MigrationContext.configure(conn).get_current_revision()
        # The code's read models are those of the newest schema: only there can they be rebuilt.
        at_head = after == head_revision()
        if (
            after != before
            and before is not None
            and at_head
            and _reshapes_read_models(config, before, after)
        ):
            _rebuild_read_models(conn, before_replay)
    return after != before


@functools.cache
def head_revision() -> str | None:
    """The newest revision this code knows (read from the migration scripts once: `/readyz` asks on
    every probe)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _reshapes_read_models(config: Config, before: str, after: str | None) -> bool:
    """Whether a migration applied (or undone) between the two revisions changes what the read models
    hold. A migration says it does not with `REBUILDS_READ_MODELS = False` (an index, say): replaying
    a national log takes minutes, and the upgrade holds the write lock meanwhile."""
    # The history is one line: base first, head last.
    scripts = list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))
    order = [script.revision for script in scripts]
    lower, upper = sorted(order.index(r) if r else -1 for r in (before, after))
    return any(
        getattr(script.module, "REBUILDS_READ_MODELS", True) for script in scripts[lower + 1 : upper + 1]
    )


def _rebuild_read_models(conn: Connection, before_replay: Callable[[int], None] | None) -> None:
    store = EventStore()
    # The ledger lock keeps writers of other instances out while the read models are replaced.
    conn.execute(select(ledger_head.c.position).where(ledger_head.c.id == 1).with_for_update())
    events = store.head(conn).position
    if events > 0:
        if before_replay is not None:
            before_replay(events)
        rebuild.rebuild(conn, store)
