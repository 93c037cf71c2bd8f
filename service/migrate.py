"""Schema migrations, run through Alembic from code (`flask --app wsgi db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from events import projections
from events.database import Database
from events.store import EventStore

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> bool:
    """Bring the schema to `revision`; running it again changes nothing. Returns whether it changed.

    A migration may add or reshape read models; they are then rebuilt from the log, which is the
    truth, so that an existing installation's new tables are as complete as a fresh one's.
    """
    before = current_revision(database)
    config = alembic_config()
    with database.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    changed = current_revision(database) != before
    if changed and before is not None and inspect(database.engine).has_table("events"):
        store = EventStore()
        with database.write() as conn:
            if store.head(conn).position > 0:
                projections.rebuild(conn, store)
    return changed
