"""The command line: `flask --app wsgi <group> <command>`."""

from __future__ import annotations

import re
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from marshmallow import ValidationError

from domain.accounts import AccountDraft
from domain.actors import Role
from domain.errors import DomainError, InvalidInput
from events import ledger, rebuild, verification
from events.schema import GENESIS_HASH
from events.store import parse_timestamp
from events.unit_of_work import WriteTransaction
from service import accounts, backup, documents, organisation, registry
from service.application import Application
from service.auth import MAX_TOKEN_DAYS, MIN_TOKEN_DAYS
from service.migrate import current_revision, upgrade
from service.problems import flatten_errors
from service.schemas import DIGEST_PATTERN, OfficeCreateSchema

db_group = AppGroup("db", help="The database schema.")
offices_group = AppGroup("offices", help="Immigration offices.")
users_group = AppGroup("users", help="User accounts and their tokens.")
villages_group = AppGroup("villages", help="The village registry.")
projections_group = AppGroup("projections", help="Read models built from the log.")
ledger_group = AppGroup("ledger", help="The hash-chained event log.")
demo_group = AppGroup("demo", help="The Bogor example.")


def _application() -> Application:
    return current_app.extensions["desa_binaan"]


def _fail(error: DomainError | ValidationError) -> None:
    if isinstance(error, ValidationError):
        error = InvalidInput(flatten_errors(error.messages))
    messages = error.errors.items() if isinstance(error, InvalidInput) else [("", [error.detail])]
    for field, problems in messages:
        click.echo(f"error: {field + ': ' if field else ''}{' '.join(problems)}", err=True)
    sys.exit(2)


# A rebuild replays about 10,000 to 15,000 events a second on a small server (docs/benchmarks.md):
# the lower figure, for the time announced before the write lock is taken.
REPLAY_EVENTS_PER_SECOND = 10_000


def _announce_lock(events: int) -> None:
    """Say, before the read models are replayed, how long writers will be held off."""
    seconds = max(1, round(events / REPLAY_EVENTS_PER_SECOND))
    click.echo(
        f"replaying {events} events into the read models: the write lock is held for about {seconds} s;"
        f" writers meanwhile get 503 with Retry-After after a {_application().db.lock_wait_seconds:g} s wait",
        err=True,
    )


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema, and load the national village list into an empty registry
    (running it again changes nothing)."""
    database = _application().db
    before = current_revision(database)
    started = time.monotonic()
    upgrade(database, before_replay=_announce_lock)
    after = current_revision(database)
    took = f"write lock held {time.monotonic() - started:.1f} s"
    if before is None:
        click.echo(f"schema created at revision {after} ({database.dialect})")
    elif before != after:
        click.echo(f"schema upgraded from revision {before} to {after} ({database.dialect}; {took})")
    else:
        click.echo(f"schema is current at revision {after} ({database.dialect})")
    with database.write() as conn:
        loaded = registry.load_bundled_if_empty(conn)
    if loaded:
        click.echo(f"village registry: {loaded} areas of the national list (Kepmendagri 300.2.2-2138/2025)")


@offices_group.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--region", "region_code", required=True, help="Region (Kanwil) code, e.g. JABAR.")
@click.option("--region-name", default=None, help="Required for a new region; an existing one keeps its own.")
@click.option("--regencies", required=True, help="Regency/city codes served, e.g. 32.01,32.71.")
@click.option("--take-over", is_flag=True, help="Move regencies another office serves to this one.")
@click.option("--unit-type", default=None, help="kanim (default) or rudenim.")
@click.option("--effective-on", default=None, help="The day it exists from, YYYY-MM-DD (default today).")
def offices_add(
    code: str,
    name: str,
    region_code: str,
    region_name: str | None,
    regencies: str,
    take_over: bool,
    unit_type: str | None,
    effective_on: str | None,
) -> None:
    """Add an office (the rules of POST /api/v1/offices)."""
    raw = {
        "code": code,
        "name": name,
        "region_code": region_code,
        "regencies": [r.strip() for r in regencies.split(",") if r.strip()],
        "take_over": take_over,
        "region_name": region_name,
        "unit_type": unit_type,
        "effective_on": effective_on,
    }
    try:
        data = OfficeCreateSchema().load({k: v for k, v in raw.items() if v is not None})
        with _as_command_line("offices-add") as tx:
            request = organisation.office_request(data["code"], data)
            office = organisation.open_office(tx, accounts.command_line_actor(), request)
    except (DomainError, ValidationError) as error:
        _fail(error)
    click.echo(f"office {office.code} added: {office.name} ({office.region_code})")


_DAYS_OPTION = click.option(
    "--days",
    type=click.IntRange(MIN_TOKEN_DAYS, MAX_TOKEN_DAYS),
    default=None,
    help="How long the token lives (default: TOKEN_DAYS, 90).",
)


def _token_days(days: int | None) -> int:
    return days if days is not None else current_app.config["TOKEN_DAYS"]


def _print_token(username: str, issued: accounts.IssuedToken) -> None:
    """The expiry as the log records it, then the token on the last line."""
    expires = parse_timestamp(issued.expires_at)
    click.echo(f"token for {username}, valid until {expires:%Y-%m-%d %H:%M} UTC (shown once):")
    click.echo(issued.token)


def _as_command_line(label: str) -> AbstractContextManager[WriteTransaction]:
    """A unit of work recorded with the actor `cli` and the operating-system user."""
    return accounts.as_command_line(_application().uow, f"cli-{label}")


@users_group.command("add")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--office", "office_code", default=None)
@click.option("--region", "region_code", default=None)
@_DAYS_OPTION
def users_add(
    username: str, name: str, role: str, office_code: str | None, region_code: str | None, days: int | None
) -> None:
    """Add a user; the last line printed is the user's token (shown once, stored only as a hash)."""
    draft = AccountDraft(username, name, Role(role), office_code, region_code)
    try:
        with _as_command_line("users-add") as tx:
            issued = accounts.add_user(tx, accounts.command_line_actor(), draft, _token_days(days))
    except DomainError as error:
        _fail(error)
    click.echo(f"user {username} added as {role}")
    _print_token(username, issued)


@users_group.command("token")
@click.argument("username")
@_DAYS_OPTION
def users_token(username: str, days: int | None) -> None:
    """Issue another token to an active user (earlier ones keep working until they expire or the user
    is revoked); the last line printed is the token."""
    try:
        with _as_command_line("users-token") as tx:
            issued = accounts.issue_token(tx, accounts.command_line_actor(), username, _token_days(days))
    except DomainError as error:
        _fail(error)
    _print_token(username, issued)


@users_group.command("revoke")
@click.argument("username")
@click.option("--reason", default="revoked from the command line", show_default=True)
def users_revoke(username: str, reason: str) -> None:
    """End every token of a user at once and deactivate the account; revoking again changes nothing."""
    try:
        with _as_command_line("users-revoke") as tx:
            ended = accounts.deactivate_user(tx, accounts.command_line_actor(), username, reason)
    except DomainError as error:
        _fail(error)
    click.echo(f"user {username} revoked: {ended} token{'' if ended == 1 else 's'} ended")


@users_group.command("reactivate")
@click.argument("username")
@click.option("--reason", default="reactivated from the command line", show_default=True)
def users_reactivate(username: str, reason: str) -> None:
    """Undo a revocation: the account is active again. The tokens the revocation ended stay ended."""
    try:
        with _as_command_line("users-reactivate") as tx:
            reopened = accounts.reactivate_user(tx, accounts.command_line_actor(), username, reason)
    except DomainError as error:
        _fail(error)
    if reopened:
        click.echo(f"user {username} reactivated; issue a token with: users token {username}")
    else:
        click.echo(f"user {username} is active already")


@users_group.command("set-password")
@click.argument("username")
def users_set_password(username: str) -> None:
    """Set a user's password, read from standard input (one line; at least 12 characters). Only a
    salted hash is kept; the log records that it was set."""
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        with _as_command_line("users-set-password") as tx:
            accounts.set_password(tx, accounts.command_line_actor(), username, password)
    except DomainError as error:
        _fail(error)
    click.echo(f"password of {username} set")


@users_group.command("list")
def users_list() -> None:
    """Every user: role, scope, whether active, and when its newest token expires."""
    with _application().db.read() as conn:
        listing = accounts.list_users(conn)
    rows = [("USERNAME", "ROLE", "SCOPE", "ACTIVE", "TOKEN EXPIRES", "NAME")]
    for user in listing:
        expires = user.token_expires_at[:16].replace("T", " ") if user.token_expires_at else "-"
        scope = user.office_code or user.region_code or "national"
        rows.append((user.username, user.role, scope, "yes" if user.active else "no", expires, user.name))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


@villages_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def villages_import(path: Path) -> None:
    """Load a code,name CSV of areas into the village registry (again: updates, never duplicates)."""
    try:
        with _application().db.write() as conn:
            count = registry.import_areas(conn, path)
    except DomainError as error:
        _fail(error)
    click.echo(f"{count} areas imported from {path.name}")


@projections_group.command("rebuild")
def projections_rebuild() -> None:
    """Drop every read model and replay the whole log into it, holding the write lock meanwhile."""
    app = _application()
    started = time.monotonic()
    with app.db.maintenance() as conn:
        app.store.lock_head(conn)  # the log's write lock: no event is appended meanwhile
        total = app.store.count(conn)
        _announce_lock(total)
        with click.progressbar(length=total, label="replaying events", file=sys.stderr) as bar:
            replayed = rebuild.rebuild(conn, app.store, progress=bar.update)
    click.echo(
        f"read models rebuilt from {replayed} events (write lock held {time.monotonic() - started:.1f} s)"
    )


# Differences listed one per line before the rest are only counted: the first ones say what broke.
DIFFERENCES_SHOWN = 50


@projections_group.command("verify")
def projections_verify() -> None:
    """Replay the log into scratch tables and compare them with the read models; exit 1 on a difference.

    Runs in one read snapshot: writers carry on meanwhile, and no live row is changed."""
    if not _projections_verified(_application()):
        sys.exit(1)


def _projections_verified(app: Application) -> bool:
    """`projections verify`, said on the terminal; whether the read models match the log."""
    with app.db.read() as conn:
        total = app.store.count(conn)
        with click.progressbar(length=total, label="replaying events", file=sys.stderr) as bar:
            check = verification.verify(conn, app.store, progress=bar.update)
    counts = f"{check.replayed} events replayed, {check.compared} rows compared"
    if check.ok:
        click.echo(f"read models match the log: {counts}")
        return True
    click.echo(f"read models DIFFER from the log: {len(check.differences)} differences ({counts})", err=True)
    for difference in check.differences[:DIFFERENCES_SHOWN]:
        click.echo(f"  {difference}", err=True)
    if len(check.differences) > DIFFERENCES_SHOWN:
        click.echo(f"  ... and {len(check.differences) - DIFFERENCES_SHOWN} more", err=True)
    return False


@ledger_group.command("verify")
@click.option("--position", type=click.IntRange(min=1), help="A position whose digest was kept elsewhere.")
@click.option("--digest", help="The digest kept for --position (GET /api/v1/ledger gives both).")
def ledger_verify(position: int | None, digest: str | None) -> None:
    """Walk the hash chain from the start, or from --position whose --digest was kept elsewhere, then
    hash every stored document; exit 1 naming the first bad position, or each missing or changed
    document."""
    if (position is None) != (digest is None):
        raise click.UsageError("give --position and --digest together")
    if digest is not None and not re.fullmatch(DIGEST_PATTERN, digest):
        raise click.BadParameter("must be 64 lowercase hexadecimal digits", param_hint="--digest")
    if not _ledger_verified(_application(), position or 0, digest or GENESIS_HASH):
        sys.exit(1)


def _ledger_verified(app: Application, position: int = 0, digest: str = GENESIS_HASH) -> bool:
    """`ledger verify`, said on the terminal; whether the chain and the documents are intact."""
    result = ledger.verify_chain(app.db, app.store, position=position, digest=digest)
    if not result.ok:
        click.echo(
            f"ledger BROKEN at position {result.first_bad_position}: {result.reason}"
            f" ({result.checked} events verified before it)",
            err=True,
        )
        return False
    start = f" from position {position} (digest matches)" if position else ""
    click.echo(f"ledger intact: {result.checked} events verified{start}")
    click.echo(f"head: position {result.verified_to}, digest {result.digest}")
    with app.db.read() as conn:
        check = documents.verify_stored(conn)
    if check.ok:
        click.echo(
            f"documents intact: {check.checked} stored, {check.named} named by the log, each matches its hash"
        )
        return True
    click.echo(f"documents BROKEN: {len(check.faults)} of them", err=True)
    for fault in check.faults[:DIFFERENCES_SHOWN]:
        click.echo(f"  {fault}", err=True)
    if len(check.faults) > DIFFERENCES_SHOWN:
        click.echo(f"  ... and {len(check.faults) - DIFFERENCES_SHOWN} more", err=True)
    return False


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def backup_command(path: Path, force: bool) -> None:
    """Write a consistent copy of the whole database to PATH while the service runs: SQLite through
    its online backup API, PostgreSQL with pg_dump --format=custom."""
    try:
        copy = backup.backup(_application().db, path, force=force)
    except backup.BackupError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(f"backup written to {copy.path}: {_size(copy.size)}")
    click.echo(f"ledger at backup time: position {copy.position}, digest {copy.digest}")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds events.")
def restore_command(path: Path, force: bool) -> None:
    """Replace the database with the backup at PATH (stop the service first), then verify the ledger
    and the read models; exit 1 if either fails. A database holding events is refused unless --force."""
    app = _application()
    try:
        head = backup.restore(app.db, path, force=force)
    except backup.BackupError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    target = app.db.url.render_as_string(hide_password=True)
    click.echo(f"restored {path} into {target}: ledger at position {head.position}, digest {head.hash}")
    ledger_ok = _ledger_verified(app)
    read_models_ok = _projections_verified(app)
    if not (ledger_ok and read_models_ok):
        sys.exit(1)


def _size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"


@demo_group.command("seed")
@click.option("--base-url", default="http://127.0.0.1:8000", help="Where the API will be served.")
@click.option("--force", is_flag=True, help="Seed beside users who are not the demo's (left alone).")
def demo_seed(base_url: str, force: bool) -> None:
    """Load the Bogor example and print a working token for each demo user; a database with other
    users is refused unless --force."""
    from service.demo import DemoRefused, seed

    try:
        seed(_application(), base_url, click.echo, force=force, token_days=current_app.config["TOKEN_DAYS"])
    except DemoRefused as refused:
        click.echo(f"error: {refused}", err=True)
        sys.exit(2)


def register_commands(app: Flask) -> None:
    for group in (
        db_group,
        offices_group,
        users_group,
        villages_group,
        projections_group,
        ledger_group,
        demo_group,
    ):
        app.cli.add_command(group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def command_line() -> FlaskGroup:
    """The `desa-binaan` command: the commands above, on the app `wsgi` serves (`DATABASE_URL`)."""
    from service.app import create_app

    return FlaskGroup(create_app=create_app, add_version_option=False, help="Desa Binaan Imigrasi.")


def main() -> None:
    command_line()()
