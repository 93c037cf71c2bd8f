"""Floors under the goals `make bench` misses: what the database work alone, and the Python work the
design cannot do without, cost on this machine, measured side by side with our own path.

`commands`: every statement our application sends for CASES five-step cases is recorded, then the
same statements are replayed on an equal scratch database (same set-up, same warm-up cases), once
through the bare driver (sqlite3, psycopg) and once through SQLAlchemy's thinnest path
(`exec_driver_sql`: no compiling, no type processing). On PostgreSQL the bare driver's replay waits
where the application does: each transaction's statements go in one pipeline, a statement's rows are
waited for when it returns some, the rest when the pipeline ends, and then the COMMIT. Each round
runs, one after the other: ours, the two replays, the `eventsourcing` library and the INSERT+COMMIT
ceiling, each on a fresh scratch database. Medians of the rounds. Then, in pure Python on the
recorded commands, what no implementation of this design avoids: the domain's fold and decision, and
the JSON and hashing the log, the hash chain, the read model and the reply need (each command's new
event encoded once and hashed once, its stream decoded once, its changed read-model columns and its
reply encoded once).

`rebuild`: a log of BENCH_SCALE x 1,000,000 events, then `projections.rebuild` timed beside three
floors of the same work: reading and decoding the log through the bare driver (in stream order, as a
rebuild with flat memory must, and in log order); encoding the JSON values the rebuilt read models
hold; and writing the rebuilt rows into empty tables by the fastest bulk path we know (secondary
indexes dropped and built again after the load; `executemany` on SQLite, `COPY` on PostgreSQL).

    python -m tests.bench.floors [commands|rebuild|both]     (BENCH_DB, BENCH_SCALE, BENCH_RUNS)
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, event
from sqlalchemy.engine.interfaces import ExecuteStyle

from domain import candidacy as candidacy_rules
from domain.candidacy import Candidacy
from domain.commands import CaseCommand, ProposeCandidacy
from events import projections
from events.database import Database
from events.store import EventStore, canonical_json, chain_hash
from events.types import REGISTRY
from service import accounts
from service.application import Application
from service.migrate import upgrade
from tests.bench import commands as bench_commands
from tests.bench.common import (
    ROOT,
    engines,
    machine,
    median,
    runs,
    scale,
    scratch_database,
    write_fenced_report,
)
from tests.bench.dataset import read_wilayah
from tests.bench.national import EVENTS_PER_VILLAGE, REBUILD_EVENTS, WILAYAH, build_national

CASES = 100
STEPS: tuple[tuple[Any, CaseCommand], ...] = (
    (bench_commands.SECTION_HEAD, bench_commands.COORDINATE),
    (bench_commands.SECTION_HEAD, bench_commands.SOCIALIZE),
    (bench_commands.SECTION_HEAD, bench_commands.ASSESS),
    (bench_commands.HEAD, bench_commands.DESIGNATE),
)
COMMIT = "COMMIT"


# ---- commands ------------------------------------------------------------------------------------


@dataclass
class Recording:
    # (SQL, parameters, executemany, returned rows); COMMIT marks each commit
    statements: list[tuple[str, Any, bool, bool]]
    replies: list[str]  # each command's reply body, as stored

    @property
    def commands(self) -> int:
        return sum(1 for statement, *_ in self.statements if statement == COMMIT)


def _prepared(url: str) -> tuple[Database, Application]:
    """The bench's office and users, and its warm-up cases: the state every recording starts from."""
    db = Database(url)
    upgrade(db)
    application = Application(db, bench_commands._clock)
    with db.write() as conn:
        accounts.add_office(conn, bench_commands.OFFICE)
        for actor in (bench_commands.OFFICER, bench_commands.SECTION_HEAD, bench_commands.HEAD):
            user = accounts.NewUser(actor.username, actor.name, actor.role, actor.office_code, None)
            accounts.add_user(conn, user, bench_commands._clock)
    for case in range(bench_commands.WARMUP_CASES):
        _run_case(application, case)
    return db, application


def _run_case(application: Application, case: int) -> list[str]:
    command = ProposeCandidacy(
        village_code=bench_commands.village_code(case),
        office_code=bench_commands.OFFICE.code,
        rationale=bench_commands.RATIONALE,
        indicators=bench_commands.INDICATORS,
        village_name=f"Desa {case}",
    )
    reply = application.propose(bench_commands.OFFICER, command, request_id=f"bench-{case}-1")
    assert reply.status == 201, reply.body
    candidacy_id = reply.headers["Location"].rsplit("/", 1)[1]
    bodies = [reply.body]
    for step, (actor, action) in enumerate(STEPS, start=2):
        reply = application.act(actor, candidacy_id, action, request_id=f"bench-{case}-{step}")
        assert reply.status == 200, reply.body
        bodies.append(reply.body)
    return bodies


def record(url: str) -> Recording:
    db, application = _prepared(url)
    statements: list[tuple[str, Any, bool, bool]] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, ctx: Any, many: bool) -> None:
        # An "insertmanyvalues" batch is one statement of many VALUES rows, sent with execute().
        single = ctx is not None and ctx.execute_style is ExecuteStyle.INSERTMANYVALUES
        statements.append((statement, parameters, many and not single, False))

    def on_executed(_conn: Any, cursor: Any, *_args: Any) -> None:
        statement, parameters, many, _rows = statements[-1]
        statements[-1] = (statement, parameters, many, cursor.description is not None)

    def on_commit(_conn: Any) -> None:
        statements.append((COMMIT, None, False, False))

    event.listen(db.engine, "before_cursor_execute", on_execute)
    event.listen(db.engine, "after_cursor_execute", on_executed)
    event.listen(db.engine, "commit", on_commit)
    replies: list[str] = []
    first = bench_commands.WARMUP_CASES
    for case in range(first, first + CASES):
        replies += _run_case(application, case)
    db.dispose()
    return Recording(statements, replies)


def _replay_with_driver(url: str, recording: Recording) -> float:
    """Seconds for the recorded statements through the DBAPI connection alone (as configured by our
    engine: WAL, each commit's WAL fsynced by the connection; the recorded BEGIN IMMEDIATE included)."""
    db, _ = _prepared(url)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        pipelines = not db.is_sqlite
        pipeline: Any = None
        started = time.perf_counter()
        for statement, parameters, many, rows in recording.statements:
            if statement == COMMIT:
                if pipeline is not None:
                    pipeline.__exit__(None, None, None)  # waits for every reply still due
                    pipeline = None
                raw.commit()
                continue
            if pipelines and pipeline is None:
                pipeline = raw.driver_connection.pipeline()
                pipeline.__enter__()
            if many:
                cursor.executemany(statement, parameters)
            else:
                cursor.execute(statement, parameters)
                if rows:
                    cursor.fetchall()
        seconds = time.perf_counter() - started
        _check_replayed(raw.cursor(), recording)
    finally:
        raw.close()
        db.dispose()
    return seconds


def _replay_with_sqlalchemy(url: str, recording: Recording) -> float:
    """Seconds for the recorded statements through `Connection.exec_driver_sql`, the transaction begun
    by SQLAlchemy as in the application (so the recorded BEGINs are left out)."""
    db, _ = _prepared(url)
    try:
        with db.engine.connect() as conn:
            if db.is_sqlite:
                conn.execution_options(sqlite_begin="IMMEDIATE")
            started = time.perf_counter()
            for statement, parameters, many, _rows in recording.statements:
                if statement == COMMIT:
                    conn.commit()
                elif statement.startswith("BEGIN"):
                    continue
                else:
                    result = conn.exec_driver_sql(statement, list(parameters) if many else parameters)
                    if result.returns_rows:
                        result.fetchall()
            seconds = time.perf_counter() - started
        with db.engine.connect() as conn:
            _check_replayed(conn.connection.cursor(), recording)
    finally:
        db.dispose()
    return seconds


def _check_replayed(cursor: Any, recording: Recording) -> None:
    cursor.execute("SELECT count(*) FROM events")
    expected = (bench_commands.WARMUP_CASES + CASES) * bench_commands.COMMANDS_PER_CASE
    if cursor.fetchone()[0] != expected:
        raise RuntimeError("the replay did not write the recorded events")


def _seconds_of_contender(name: str, url: str) -> float:
    with bench_commands.CONTENDERS[name](url) as run_case:
        for case in range(bench_commands.WARMUP_CASES):
            run_case(case)
        started = time.perf_counter()
        for case in range(bench_commands.WARMUP_CASES, bench_commands.WARMUP_CASES + CASES):
            run_case(case)
        return time.perf_counter() - started


def command_floors(engine: str, directory: Path, rounds: int) -> dict[str, float]:
    with scratch_database(engine, directory) as url:
        recording = record(url)
    commands = recording.commands
    timed: dict[str, list[float]] = {
        name: [] for name in ("ours", "driver", "sqlalchemy", "eventsourcing", "ceiling")
    }
    for _ in range(rounds):
        for name in timed:
            with scratch_database(engine, directory) as url:
                if name == "driver":
                    seconds = _replay_with_driver(url, recording)
                elif name == "sqlalchemy":
                    seconds = _replay_with_sqlalchemy(url, recording)
                else:
                    seconds = _seconds_of_contender(name, url)
            timed[name].append(commands / seconds)
    figures = {f"{name}_cmds_per_s": median(rates) for name, rates in timed.items()}
    for name in ("ours", "driver", "sqlalchemy", "eventsourcing"):
        per_round = [a / c for a, c in zip(timed[name], timed["ceiling"], strict=True)]
        figures[f"{name}_of_ceiling"] = median(per_round)
    figures["driver_vs_eventsourcing"] = median(
        [a / b for a, b in zip(timed["driver"], timed["eventsourcing"], strict=True)]
    )
    statements = sum(1 for s, *_ in recording.statements if s != COMMIT) / commands
    figures["statements_per_cmd"] = statements
    budget_us = 1e6 / (0.6 * figures["ceiling_cmds_per_s"])
    figures["budget_us_at_60pct"] = budget_us
    figures["driver_us_per_cmd"] = 1e6 / figures["driver_cmds_per_s"]
    figures["python_left_us"] = budget_us - figures["driver_us_per_cmd"]
    return figures


def python_floors(recording: Recording, db_url: str) -> dict[str, float]:
    """Microseconds per command of the domain's fold and decision, and of the minimal serialization,
    on the recorded run's own events and replies (best of 5 passes)."""
    db = Database(db_url)
    try:
        with db.read() as conn:
            streams = _case_streams(conn)
    finally:
        db.dispose()
    bodies = [json.loads(body) for body in recording.replies]
    commands = len(streams) * bench_commands.COMMANDS_PER_CASE

    def fold_and_decide() -> None:
        for history in streams:
            for step, (actor, command) in enumerate(STEPS, start=1):
                case = Candidacy.from_history(
                    (REGISTRY.decode(e.type, e.schema_version, e.data), e.actor_username)
                    for e in history[:step]
                )
                candidacy_rules.decide(case, command, actor, now=bench_commands.NOW)

    stored = [[canonical_json(e.data) for e in history] for history in streams]

    def decode_streams() -> None:
        for texts in stored:
            for step in range(1, len(texts)):
                for data in texts[:step]:
                    json.loads(data)

    recorded = [e for history in streams for e in history]

    def encode_and_hash_events() -> None:
        for e in recorded:
            canonical_json(e.data)
            chain_hash(e.hashed_content())
            uuid.uuid4()

    changed_columns = [_changed_columns(e) for e in recorded]

    def encode_changed_columns() -> None:
        for values in changed_columns:
            for value in values:
                json.dumps(value)

    def encode_replies() -> None:
        for body in bodies:
            json.dumps(body, ensure_ascii=False)

    def per_command(work: Callable[[], None], count: int = commands) -> float:
        return min(_seconds(work) for _ in range(5)) / count * 1e6

    acts = len(streams) * len(STEPS)
    return {
        "fold_and_decide_us_per_act": per_command(fold_and_decide, acts),
        "decode_streams_us": per_command(decode_streams),
        "encode_and_hash_event_us": per_command(encode_and_hash_events),
        "encode_changed_columns_us": per_command(encode_changed_columns),
        "encode_reply_us": per_command(encode_replies),
    }


def _case_streams(conn: Connection) -> list[list[Any]]:
    store = EventStore()
    streams: list[list[Any]] = []
    for batch in store.iterate_by_stream(conn):
        for e in batch:
            if e.stream_type != projections.CANDIDACY_STREAM:
                continue
            if not streams or streams[-1][0].stream_id != e.stream_id:
                streams.append([])
            streams[-1].append(e)
    return [s for s in streams if len(s) == bench_commands.COMMANDS_PER_CASE]


def _changed_columns(e: Any) -> list[Any]:
    stamp = {
        "at": e.recorded_at,
        "by": {"username": e.actor_username, "name": e.actor_name, "role": e.actor_role},
    }
    if e.type == "CandidacyProposed":
        return [e.data["indicators"], stamp]
    return [{**stamp, **e.data}]


def _seconds(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def report_commands(engine: str, f: dict[str, float], rounds: int) -> str:
    return "\n".join(
        [
            f"Commands on {engine}: {CASES} five-step cases, {f['statements_per_cmd']:.1f} statements and "
            f"one commit per command, median of {rounds} rounds",
            f"  ours                          {f['ours_cmds_per_s']:7.0f} cmd/s  "
            f"{f['ours_of_ceiling']:5.2f} of the ceiling",
            f"  our SQL, bare driver          {f['driver_cmds_per_s']:7.0f} cmd/s  "
            f"{f['driver_of_ceiling']:5.2f} of the ceiling  "
            f"{f['driver_vs_eventsourcing']:.2f}x eventsourcing",
            f"  our SQL, SQLAlchemy's thinnest {f['sqlalchemy_cmds_per_s']:6.0f} cmd/s  "
            f"{f['sqlalchemy_of_ceiling']:5.2f} of the ceiling",
            f"  eventsourcing                 {f['eventsourcing_cmds_per_s']:7.0f} cmd/s  "
            f"{f['eventsourcing_of_ceiling']:5.2f} of the ceiling",
            f"  INSERT+COMMIT ceiling         {f['ceiling_cmds_per_s']:7.0f} cmd/s",
            f"  at 60 % of the ceiling a command may take {f['budget_us_at_60pct']:.0f} us; our SQL through "
            f"the bare driver takes {f['driver_us_per_cmd']:.0f} us, leaving {f['python_left_us']:.0f} us "
            "for all of the Python",
        ]
    )


def report_python(f: dict[str, float]) -> str:
    serialization = (
        f["decode_streams_us"]
        + f["encode_and_hash_event_us"]
        + f["encode_changed_columns_us"]
        + f["encode_reply_us"]
    )
    return "\n".join(
        [
            "Python no command of this design avoids, us per command (best of 5 passes)",
            f"  domain: fold the stream and decide (per act)   {f['fold_and_decide_us_per_act']:6.1f}",
            f"  decode the stream's events                     {f['decode_streams_us']:6.1f}",
            f"  encode and hash the new event, its uuid        {f['encode_and_hash_event_us']:6.1f}",
            f"  encode the read model's changed JSON columns   {f['encode_changed_columns_us']:6.1f}",
            f"  encode the reply                               {f['encode_reply_us']:6.1f}",
            f"  serialization together                         {serialization:6.1f}",
        ]
    )


# ---- rebuild -------------------------------------------------------------------------------------


def rebuild_floors(engine: str, directory: Path, rounds: int) -> dict[str, float]:
    events = max(1000, int(REBUILD_EVENTS * scale()))
    wilayah = read_wilayah(WILAYAH)
    villages = min(len(wilayah.villages), max(200, events // EVENTS_PER_VILLAGE))
    with scratch_database(engine, directory) as url:
        db = Database(url)
        try:
            _, plan, _ = build_national(db, wilayah, villages, events=events, bulk=True, project=False)
            rebuild_s: list[float] = []
            for _ in range(rounds):
                started = time.perf_counter()
                with db.write() as conn:
                    projections.rebuild(conn, EventStore())
                rebuild_s.append(time.perf_counter() - started)
            rows = _read_model_rows(db)
            figures = {
                "events": float(plan.events),
                "rebuild_s": median(rebuild_s),
                "read_stream_order_s": median([_read_floor(db, "stream_id, version") for _ in range(rounds)]),
                "read_log_order_s": median([_read_floor(db, "position") for _ in range(rounds)]),
                "encode_json_s": median([_encode_floor(rows) for _ in range(rounds)]),
                "write_s": median([_write_floor(db, rows, directory) for _ in range(rounds)]),
                "rows": float(sum(len(r) for r in rows.values())),
            }
        finally:
            db.dispose()
    return figures


def _read_model_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every rebuilt row, as the driver gives it back (JSON as text), except the levels, which the
    rebuild derives in SQL from the daily changes."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in projections.LIVE.tables():
            if table is projections.LIVE.stage_levels:
                continue
            cast = "" if db.is_sqlite else "::text"  # psycopg would decode JSON columns
            columns = ", ".join(f"{c.name}{cast}" if _is_json(c) else c.name for c in table.c)
            cursor.execute(f"SELECT {columns} FROM {table.name}")
            rows[table.name] = [tuple(r) for r in cursor.fetchall()]
        raw.rollback()
    finally:
        raw.close()
    return rows


def _is_json(column: Any) -> bool:
    return isinstance(column.type, JSON)


def _read_floor(db: Database, order: str) -> float:
    """Seconds to fetch what a replay needs of every event and decode its data."""
    raw = db.engine.raw_connection()
    try:
        # PostgreSQL: a server-side cursor, so that the log is not held in memory at once
        cursor = raw.cursor() if db.is_sqlite else raw.driver_connection.cursor(name="floor")
        started = time.perf_counter()
        cursor.execute(
            "SELECT position, stream_type, stream_id, version, type, schema_version, data, actor_username, "
            f"actor_name, actor_role, recorded_at FROM events ORDER BY {order}"
        )
        loads = json.loads
        while batch := cursor.fetchmany(5000):
            for row in batch:
                loads(row[6])
        seconds = time.perf_counter() - started
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return seconds


def _encode_floor(rows: dict[str, list[tuple[Any, ...]]]) -> float:
    """Seconds to encode every JSON value the read models hold (decoded first, untimed)."""
    values = []
    for table in projections.LIVE.tables():
        positions = [i for i, c in enumerate(table.c) if _is_json(c)]
        for row in rows.get(table.name, []):
            values += [json.loads(row[i]) for i in positions if row[i] is not None]
    return _seconds(lambda: [json.dumps(v) for v in values])


def _write_floor(db: Database, rows: dict[str, list[tuple[Any, ...]]], directory: Path) -> float:
    """Seconds to write the rebuilt rows into empty read-model tables, one transaction, commit included:
    secondary indexes dropped, the rows loaded in bulk, the indexes built again, the levels derived."""
    with _empty_read_models(db, directory) as (load, finish):
        started = time.perf_counter()
        for table in projections.LIVE.tables():
            if rows.get(table.name):
                load(table.name, [c.name for c in table.c], rows[table.name])
        finish()
        return time.perf_counter() - started


Load = Callable[[str, list[str], list[tuple[Any, ...]]], None]
_LEVELS_FROM_CHANGES = (
    "INSERT INTO {p}stage_levels (office_code, stage, day, cases) SELECT office_code, stage, day, "
    "SUM(delta) OVER (PARTITION BY office_code, stage ORDER BY day) FROM {p}stage_changes"
)


@contextmanager
def _empty_read_models(db: Database, directory: Path) -> Iterator[tuple[Load, Callable[[], None]]]:
    """Empty copies of the read-model tables, their secondary indexes held back until `finish`: a
    new SQLite file (a larger page cache than ours), or a new PostgreSQL schema."""
    names = [t.name for t in projections.LIVE.tables()]
    if db.is_sqlite:
        yield from _empty_sqlite_read_models(db, directory, names)
    else:
        yield from _empty_postgres_read_models(db, names)


def _empty_sqlite_read_models(
    db: Database, directory: Path, names: list[str]
) -> Iterator[tuple[Load, Callable[[], None]]]:
    source = db.engine.raw_connection()
    try:
        marks = ", ".join("?" * len(names))
        ddl = source.cursor().execute(
            f"SELECT type, sql FROM sqlite_master WHERE tbl_name IN ({marks}) AND sql IS NOT NULL", names
        )
        ddl = list(ddl)
    finally:
        source.close()
    path = directory / f"floor-{uuid.uuid4().hex[:8]}.sqlite3"
    target = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "cache_size=-65536"):
        target.execute(f"PRAGMA {pragma}")
    for kind, sql in ddl:
        if kind == "table":
            target.execute(sql)

    def load(table: str, columns: list[str], table_rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        target.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", table_rows)

    def finish() -> None:
        for kind, sql in ddl:
            if kind == "index":
                target.execute(sql)
        target.execute(_LEVELS_FROM_CHANGES.format(p=""))
        target.execute("COMMIT")

    target.execute("BEGIN IMMEDIATE")
    try:
        yield load, finish
    finally:
        target.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _empty_postgres_read_models(db: Database, names: list[str]) -> Iterator[tuple[Load, Callable[[], None]]]:
    schema = f"floor_{uuid.uuid4().hex[:8]}"
    pooled = db.engine.raw_connection()
    raw = pooled.driver_connection
    try:
        raw.execute(f"CREATE SCHEMA {schema}")
        for name in names:
            raw.execute(f"CREATE TABLE {schema}.{name} (LIKE {name} INCLUDING ALL)")
        # the indexes that back no constraint: built after the load
        secondary = raw.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)",
            (schema,),
        ).fetchall()
        for name, _ in secondary:
            raw.execute(f"DROP INDEX {schema}.{name}")
        raw.commit()

        def load(table: str, columns: list[str], table_rows: list[tuple[Any, ...]]) -> None:
            with raw.cursor().copy(f"COPY {schema}.{table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in table_rows:
                    copy.write_row(row)

        def finish() -> None:
            for _, definition in secondary:
                raw.execute(definition)
            raw.execute(_LEVELS_FROM_CHANGES.format(p=f"{schema}."))
            raw.commit()

        yield load, finish
    finally:
        raw.rollback()
        raw.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        raw.commit()
        pooled.close()


def report_rebuild(engine: str, f: dict[str, float], rounds: int) -> str:
    events = f["events"]

    def rate(seconds: float) -> str:
        return f"{seconds:7.2f} s  {events / seconds:9,.0f} events/s"

    floor = f["read_stream_order_s"] + f["encode_json_s"] + f["write_s"]
    return "\n".join(
        [
            f"Rebuild on {engine}: {events:,.0f} events, {f['rows']:,.0f} rows (levels derived in SQL), "
            f"median of {rounds}",
            f"  projections.rebuild                      {rate(f['rebuild_s'])}",
            f"  read + decode the log, stream order      {rate(f['read_stream_order_s'])}",
            f"  read + decode the log, log order         {rate(f['read_log_order_s'])}",
            f"  encode the read models' JSON values      {f['encode_json_s']:7.2f} s",
            f"  write the rows in bulk, indexes after    {f['write_s']:7.2f} s",
            f"  floors together (stream order), no fold  {rate(floor)}",
        ]
    )


REPORT = ROOT / "docs" / "benchmark-floors.md"


def write_report(sections: list[str], seconds: float) -> None:
    """The printed figures, with the machine and the command, for the record."""
    settings = f"BENCH_DB={','.join(engines())} BENCH_SCALE={scale():g} BENCH_RUNS={runs()}"
    about = [
        "Written by `make bench-floors` (`tests/bench/floors.py`): what lies under the goals `make bench`",
        "misses, each floor measured side by side with our own path in the same run. How each one is",
        "measured is in the script's docstring.",
    ]
    command = f"`make bench-floors` ({settings})"
    write_fenced_report(REPORT, "Benchmark floors", about, command, seconds, "\n\n".join(sections))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="both", choices=["commands", "rebuild", "both"])
    arguments = parser.parse_args()
    started = time.monotonic()
    rounds = runs()
    sections: list[str] = []

    def say(section: str) -> None:
        sections.append(section)
        print(section, flush=True)

    print(machine(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-floors-") as directory:
        for engine in engines():
            if arguments.what in ("commands", "both"):
                say(report_commands(engine, command_floors(engine, Path(directory), rounds), rounds))
                if engine == engines()[0]:
                    with scratch_database(engine, Path(directory)) as url:
                        recording = record(url)
                        say(report_python(python_floors(recording, url)))
            if arguments.what in ("rebuild", "both"):
                say(report_rebuild(engine, rebuild_floors(engine, Path(directory), rounds), rounds))
    write_report(sections, time.monotonic() - started)
    print(f"written to {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
