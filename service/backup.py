"""Backups of the whole database, and restores from them: what `backup` and `restore` run.

SQLite is copied by its online backup API (`sqlite3.Connection.backup`), in one step: a read
transaction of its own, so the copy is the database as last committed, however busy the service
is (in WAL mode, writers go on meanwhile). PostgreSQL is dumped by `pg_dump --format=custom` in the
snapshot of a transaction of ours, which reads the ledger head in that same snapshot, and restored by
`pg_restore` in one transaction. Both tools must be of the server's major version: Debian keeps each
version's in `/usr/lib/postgresql/<major>/bin`, and those are preferred over whatever `PATH` holds.

A backup is written beside its path and renamed into place once complete: a failed backup leaves
nothing behind, and never half of one over an older file.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from events.database import Database
from events.store import EventStore, LedgerHead

_SQLITE_HEAD = "SELECT position, hash, recorded_at FROM ledger_head WHERE id = 1"
# Where Debian installs each PostgreSQL major version's programs.
POSTGRES_PROGRAMS = "/usr/lib/postgresql/{major}/bin/{program}"
_SEARCH_PATH = re.compile(r"search_path\s*=\s*([^\s,]+)")


class BackupError(Exception):
    """The backup or restore was refused, or a tool failed: nothing was changed."""


@dataclass(frozen=True, slots=True)
class Copy:
    """A backup file and the ledger head it holds."""

    path: Path
    size: int
    position: int
    digest: str


def backup(database: Database, path: Path, *, force: bool = False) -> Copy:
    """Write a consistent copy of the database to `path`; an existing file only with `force`."""
    if path.is_dir() or not path.parent.is_dir():
        raise BackupError(f"{path} is not a file in an existing directory")
    if path.exists() and not force:
        raise BackupError(f"{path} exists: give --force to overwrite it")
    with _written_in_place(path) as partial:
        head = _sqlite_backup(database, partial) if database.is_sqlite else _pg_dump(database, partial)
    return Copy(path, path.stat().st_size, head.position, head.hash)


def restore(database: Database, path: Path, *, force: bool = False) -> LedgerHead:
    """Replace the database's contents with the backup at `path`, a database holding events only
    with `force`; the ledger head restored. The service should be stopped meanwhile: on SQLite its
    writers wait in their queue, but readers would see the database change under them."""
    if not path.is_file():
        raise BackupError(f"{path} is not a backup file")
    _check_backup(database, path)
    head = _head_if_any(database)
    if head is not None and head.position > 0 and not force:
        raise BackupError(
            f"the database holds {head.position} events (ledger digest {head.hash}): "
            "give --force to replace them with the backup"
        )
    if database.is_sqlite:
        _sqlite_restore(database, path)
    else:
        _pg_restore(database, path)
    # Pooled connections knew the tables that were replaced (PostgreSQL prepares statements on them).
    database.dispose()
    restored = _head_if_any(database)
    if restored is None:
        raise BackupError(f"{path} held no ledger: is it a backup of this service?")
    return restored


@contextmanager
def _written_in_place(path: Path) -> Iterator[Path]:
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _head_if_any(database: Database) -> LedgerHead | None:
    """The ledger head, or None where there is no schema yet (a new, empty database)."""
    with database.read() as conn:
        if not inspect(conn).has_table("ledger_head"):
            return None
        return EventStore().head(conn)


# ---- SQLite --------------------------------------------------------------------------------------


def _sqlite_file(database: Database) -> str:
    name = database.url.database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore into")
    return name


def _sqlite_backup(database: Database, target: Path) -> LedgerHead:
    source_file = _sqlite_file(database)
    try:
        with closing(sqlite3.connect(source_file)) as source, closing(sqlite3.connect(target)) as copy:
            source.backup(copy)  # every page in one step: one read transaction, one committed state
            # One self-contained file, as a backup should be: no -wal beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
            position, digest, recorded_at = copy.execute(_SQLITE_HEAD).fetchone()
    except sqlite3.Error as error:
        raise BackupError(f"the backup failed: {error}") from error
    return LedgerHead(position, digest, recorded_at)


def _check_backup(database: Database, path: Path) -> None:
    """Refuse, before anything is replaced, a file that is not a backup of this service's database."""
    if database.is_sqlite:
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as backup_file:
                found = backup_file.execute(_SQLITE_HEAD).fetchone()
        except sqlite3.Error:
            found = None
    else:
        listing = subprocess.run(
            [postgres_program(database, "pg_restore"), "--list", str(path)], capture_output=True, text=True
        )
        found = (
            re.search(r" TABLE DATA \S+ ledger_head ", listing.stdout) if listing.returncode == 0 else None
        )
    if found is None:
        raise BackupError(f"{path} is not a backup of this service's database")


def _sqlite_restore(database: Database, backup_file: Path) -> None:
    target_file = _sqlite_file(database)
    with (
        closing(sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)) as source,
        database.writers_held(),  # no writer of the application slips in between the pages
        closing(sqlite3.connect(target_file, timeout=30)) as target,
    ):
        try:
            source.backup(target)
        except sqlite3.DatabaseError as error:  # not a SQLite file: nothing was written
            raise BackupError(f"{backup_file} is not a SQLite backup: {error}") from error


# ---- PostgreSQL ----------------------------------------------------------------------------------


def _pg_dump(database: Database, target: Path) -> LedgerHead:
    program = postgres_program(database, "pg_dump")
    conninfo, env = _libpq(database.url)
    schema = _schema_of(database.url)
    only_schema = ["--schema", schema] if schema else []
    with database.read() as conn:  # REPEATABLE READ: its snapshot is exported to pg_dump
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        head = EventStore().head(conn)
        dump = ["--format=custom", "--file", str(target), "--snapshot", snapshot, *only_schema]
        _run([program, *dump, "--dbname", conninfo], env)
    return head


def _pg_restore(database: Database, backup_file: Path) -> None:
    program = postgres_program(database, "pg_restore")
    conninfo, env = _libpq(database.url)
    options = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _run([program, *options, "--dbname", conninfo, str(backup_file)], env)


def postgres_program(database: Database, program: str) -> str:
    """`pg_dump` or `pg_restore` of the server's major version: Debian's for that version first,
    then the one on `PATH`, if it is of that version."""
    with database.read() as conn:
        major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10_000
    candidates = [POSTGRES_PROGRAMS.format(major=major, program=program), shutil.which(program)]
    found = []
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True).stdout
            if re.search(rf"\s{major}(\.|\s|$)", version):
                return candidate
            found.append(f"{candidate}: {version.strip()}")
    raise BackupError(
        f"no {program} of PostgreSQL {major} (the server's version): install it, e.g. in "
        f"{POSTGRES_PROGRAMS.format(major=major, program=program)}"
        + (f"; found only {'; '.join(found)}" if found else "")
    )


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The connection as libpq takes it (the driver's name dropped, `options` kept), and the
    environment that carries the password: on a command line every process list would show it."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    without_password = URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    )
    return without_password.render_as_string(hide_password=False), env


def _schema_of(url: URL) -> str | None:
    """The schema the URL's `options=-csearch_path=...` puts first, if any: only it is dumped."""
    options = url.query.get("options")
    text_options = " ".join(options) if isinstance(options, tuple) else options or ""
    match = _SEARCH_PATH.search(text_options)
    return match.group(1) if match else None


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()}")
