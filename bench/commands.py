"""Command throughput in process: our full path against the `eventsourcing` library and against the
physical ceiling of one INSERT and COMMIT per command, on the same database and durability settings.

Each case is the five-step lifecycle (propose, coordinate, socialize, assess, designate), each step
its own transaction: for us `Application.execute` of the handler `propose` or `act` (load, decide,
append, project, commit), for the library a repository get, the aggregate's method and a save (see
`bench.es_baseline`), for the ceiling a bare INSERT of a comparable row and a COMMIT. The three are
measured side by side in each run, each on its own fresh scratch database: the run takes turns, a
few cases of one, then of the next (the order rotating), and adds up each one's time. The disk and
the CPU a shared machine leaves over change from second to second; taking turns this often exposes
the three to the same conditions, so that the ratios (taken within each run, then their median)
mean something even where the absolute figures do not.

    python -m bench.commands [--cases N] [--runs N]     # BENCH_DB=sqlite|postgres|both
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from importlib.metadata import version
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.common import engines, machine, median, runs, scratch_database
from domain.accounts import AccountDraft
from domain.actors import Actor, Role
from domain.commands import ActOnCase, Assess, Coordinate, Designate, Indicators, ProposeCandidacy, Socialize
from domain.places import Office
from events.database import LOCK_WAIT_SECONDS, Database
from service import accounts, handlers, organisation
from service.application import Application
from service.migrate import upgrade

try:
    from bench import es_baseline
except ModuleNotFoundError as missing:  # the baseline is a benchmark-only dependency
    raise SystemExit(f"{missing}: install the bench extra, pip install -e '.[test,bench]'") from missing

COMMANDS_PER_CASE = 5
WARMUP_CASES = 5  # untimed, before each measurement: connections made, statement caches filled
NOW = dt.datetime(2024, 6, 1, 3, 0, tzinfo=dt.UTC)

OFFICE = Office(
    "BOGOR",
    "Kantor Imigrasi Kelas I Non TPI Bogor",
    "JABAR",
    "Kanwil Jawa Barat",
    frozenset({"32.01", "32.71"}),
)
OFFICER = Actor("officer", "Dewi Lestari", Role.OFFICER, "BOGOR")
SECTION_HEAD = Actor("section_head", "Agus Setiawan", Role.SECTION_HEAD, "BOGOR")
HEAD = Actor("head", "Budi Santoso", Role.HEAD_OF_OFFICE, "BOGOR")

RATIONALE = "Kantong PMI; kasus TPPO tercatat."
INDICATORS = Indicators(
    migrant_workers=412, prospective_migrant_workers=160, trafficking_cases=3, border_area=False
)
COORDINATE = Coordinate(
    held_on=dt.date(2024, 2, 19),
    venue="Aula Kantor Imigrasi Bogor",
    agencies=("Pengadilan Negeri Cibinong", "Polres Bogor", "Kodim 0621"),
    minutes_ref="UND-0219",
)
SOCIALIZE = Socialize(held_on=dt.date(2024, 2, 21), speakers=("BP3MI",), attendees=85, topics=("TPPO",))
ASSESS = Assess(
    assessed_on=dt.date(2024, 3, 20), score=86, meets_criteria=True, criteria={"migrant_worker_base": True}
)
DESIGNATE = Designate(
    decree_number="W11.IMI.IMI.4-UM.01.01-0416",
    decree_date=dt.date(2024, 4, 16),
    fostering_officers=("Rina Marlina",),
)


MAX_CASES = 99 * 900 - 1  # village codes run out after that


def village_code(case: int) -> str:
    """A distinct village of Kabupaten Bogor (32.01) for each case: 900 per district."""
    return f"32.01.{1 + case // 900:02d}.{2001 + case % 900}"


def _clock() -> dt.datetime:
    return NOW


RunCase = Callable[[int], None]


# ---- ours ------------------------------------------------------------------------------------------


@contextmanager
def ours(url: str) -> Iterator[RunCase]:
    """The application's own path, in process: one `Application.execute`, one transaction, per command."""
    db = Database(url)
    try:
        upgrade(db)
        application = Application(db, _clock)
        operator = accounts.command_line_actor()
        with accounts.as_command_line(application.uow, "bench-world") as tx:
            organisation.import_office(tx, accounts.command_line_actor(), OFFICE)
            # Each actor with the id of its account, as the API would know them.
            officer, section_head, head = (
                dataclasses.replace(
                    actor,
                    id=accounts.create_user(
                        tx,
                        operator,
                        AccountDraft(actor.username, actor.name, actor.role, actor.office_code, None),
                    ).id,
                )
                for actor in (OFFICER, SECTION_HEAD, HEAD)
            )

        def run_case(case: int) -> None:
            command = ProposeCandidacy(
                village_code=village_code(case),
                office_code=OFFICE.code,
                rationale=RATIONALE,
                indicators=INDICATORS,
                village_name=f"Desa {case}",
            )
            row = application.execute(handlers.propose, officer, command, request_id=f"bench-{case}-1")
            candidacy_id = row["id"]
            for step, (actor, action) in enumerate(
                (
                    (section_head, COORDINATE),
                    (section_head, SOCIALIZE),
                    (section_head, ASSESS),
                    (head, DESIGNATE),
                ),
                start=2,
            ):
                row = application.execute(
                    handlers.act, actor, ActOnCase(candidacy_id, action), request_id=f"bench-{case}-{step}"
                )
            assert row["stage"] == "designated", row

        yield run_case
    finally:
        db.dispose()


# ---- the eventsourcing library -----------------------------------------------------------------------


def _actor_fields(actor: Actor) -> dict[str, str | None]:
    return {
        "username": actor.username,
        "name": actor.name,
        "role": actor.role.value,
        "office_code": actor.office_code,
    }


@contextmanager
def eventsourcing(url: str) -> Iterator[RunCase]:
    """The same lifecycle on the library: get, decide, save per command (settings: `es_baseline`)."""
    app = es_baseline.Candidacies(env=es_baseline.environment(url))
    officer, section_head, head = (_actor_fields(a) for a in (OFFICER, SECTION_HEAD, HEAD))
    steps = (
        (section_head, "coordinate", {**vars_of(COORDINATE), "agencies": list(COORDINATE.agencies)}),
        (
            section_head,
            "socialize",
            {**vars_of(SOCIALIZE), "speakers": list(SOCIALIZE.speakers), "topics": list(SOCIALIZE.topics)},
        ),
        (section_head, "assess", vars_of(ASSESS)),
        (head, "designate", {**vars_of(DESIGNATE), "fostering_officers": list(DESIGNATE.fostering_officers)}),
    )
    indicators = vars_of(INDICATORS)

    def run_case(case: int) -> None:
        candidacy_id = app.propose(
            village={"code": village_code(case), "name": f"Desa {case}"},
            office_code=OFFICE.code,
            region_code=OFFICE.region_code,
            rationale=RATIONALE,
            indicators=indicators,
            actor=officer,
            request_id=f"bench-{case}-1",
        )
        for step, (actor, action, payload) in enumerate(steps, start=2):
            app.act(candidacy_id, action, NOW, actor=actor, request_id=f"bench-{case}-{step}", **payload)

    try:
        yield run_case
    finally:
        app.close()


def vars_of(value: object) -> dict[str, object]:
    """A slotted dataclass's fields as a dict (shallow: the values stay as they are)."""
    return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}  # type: ignore[arg-type]


# ---- the ceiling ----------------------------------------------------------------------------------------

# About the size of one of our event rows' JSON: the payload, actor and request id of a proposal.
ROW = json.dumps(
    {
        "type": "CandidacyProposed",
        "data": {
            "village": {"code": "32.01.25.2006", "name": "Tugu Selatan", "district": "Cisarua"},
            "office_code": "BOGOR",
            "region_code": "JABAR",
            "rationale": RATIONALE,
            "indicators": vars_of(INDICATORS),
        },
        "actor": _actor_fields(OFFICER),
        "request_id": "bench-0000000000-1",
        "recorded_at": "2024-06-01T03:00:00.000000Z",
        "prev_hash": "0" * 64,
        "hash": "f" * 64,
    }
)
CEILING_TABLE = (
    "CREATE TABLE bench_rows (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, data TEXT NOT NULL)"
)
CEILING_INSERT = "INSERT INTO bench_rows (position, stream_id, data) VALUES ({0}, {0}, {0})"


@contextmanager
def ceiling(url: str) -> Iterator[RunCase]:
    """One INSERT and one COMMIT per command through the same driver and durability settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn: sqlite3.Connection | psycopg.Connection = sqlite3.connect(
            str(parsed.database), isolation_level=None, timeout=LOCK_WAIT_SECONDS
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(CEILING_TABLE)
        insert = CEILING_INSERT.format("?")

        def command(position: int) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(insert, (position, str(position), ROW))
            conn.execute("COMMIT")

    else:
        conn = psycopg.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database,
            options=str(parsed.query.get("options", "")),
        )
        conn.execute(CEILING_TABLE)
        conn.commit()
        insert = CEILING_INSERT.format("%s")

        def command(position: int) -> None:
            conn.execute(insert, (position, str(position), ROW))
            conn.commit()

    def run_case(case: int) -> None:
        for step in range(COMMANDS_PER_CASE):
            command(case * COMMANDS_PER_CASE + step)

    try:
        yield run_case
    finally:
        conn.close()


# ---- the figures ------------------------------------------------------------------------------------------

CONTENDERS: dict[str, Callable[[str], AbstractContextManager[RunCase]]] = {
    "ours": ours,
    "eventsourcing": eventsourcing,
    "ceiling": ceiling,
}
TURN_CASES = 10  # cases each contender runs in one turn before the next takes over


def one_run(engine: str, directory: Path, cases: int, first: int = 0) -> dict[str, tuple[float, float]]:
    """Each contender's commands per second and CPU seconds per command (this process's), taking
    turns on one set of scratch databases. `first` picks which contender starts each round."""
    if not 0 < cases <= MAX_CASES - WARMUP_CASES:
        raise ValueError(f"cases must lie in 1..{MAX_CASES - WARMUP_CASES}, not {cases}")
    names = list(CONTENDERS)
    names = names[first % len(names) :] + names[: first % len(names)]
    with ExitStack() as stack:
        run_case: dict[str, RunCase] = {}
        for name in names:
            url = stack.enter_context(scratch_database(engine, directory))
            run_case[name] = stack.enter_context(CONTENDERS[name](url))
        for name in names:  # untimed: connections made, statement caches filled
            for case in range(WARMUP_CASES):
                run_case[name](case)
        elapsed = dict.fromkeys(names, 0.0)
        cpu = dict.fromkeys(names, 0.0)
        gc.collect()
        for start in range(WARMUP_CASES, WARMUP_CASES + cases, TURN_CASES):
            turn = range(start, min(start + TURN_CASES, WARMUP_CASES + cases))
            for name in names:
                started, cpu_started = time.perf_counter(), time.process_time()
                for case in turn:
                    run_case[name](case)
                elapsed[name] += time.perf_counter() - started
                cpu[name] += time.process_time() - cpu_started
    commands = cases * COMMANDS_PER_CASE
    return {name: (commands / elapsed[name], cpu[name] / commands) for name in names}


def measure(engine: str, directory: Path, runs: int, cases: int = 400) -> dict[str, float]:
    """Returns {"ours_cmds_per_s", "eventsourcing_cmds_per_s", "insert_ceiling_per_s",
    "vs_eventsourcing" (ours / eventsourcing), "of_ceiling" (ours / ceiling)} as medians of `runs`
    runs, the three measured side by side in each run (the ratios are each run's, then their median).

    Also "<name>_cpu_ms_per_cmd" for ours, eventsourcing and ceiling: the Python process's CPU time
    per command (the database server's excluded), steadier than wall time on a shared machine."""
    figures = [one_run(engine, directory, cases, first=run) for run in range(runs)]
    rate = [{name: pair[0] for name, pair in run.items()} for run in figures]
    result = {
        "ours_cmds_per_s": median([f["ours"] for f in rate]),
        "eventsourcing_cmds_per_s": median([f["eventsourcing"] for f in rate]),
        "insert_ceiling_per_s": median([f["ceiling"] for f in rate]),
        "vs_eventsourcing": median([f["ours"] / f["eventsourcing"] for f in rate]),
        "of_ceiling": median([f["ours"] / f["ceiling"] for f in rate]),
    }
    for name in CONTENDERS:
        result[f"{name}_cpu_ms_per_cmd"] = median([run[name][1] * 1000 for run in figures])
    return result


GOAL_VS_EVENTSOURCING = 0.4


def report(engine: str, figures: dict[str, float], runs: int, cases: int) -> str:
    def verdict(met: bool) -> str:
        return "met" if met else "MISSED"

    vs, of = figures["vs_eventsourcing"], figures["of_ceiling"]
    return "\n".join(
        [
            f"Command throughput on {engine}: {cases} cases x {COMMANDS_PER_CASE} commands, "
            f"one transaction each, median of {runs} runs",
            f"  ours (load, decide, append, project)  {figures['ours_cmds_per_s']:8.0f} commands/s"
            f"   {figures['ours_cpu_ms_per_cmd']:6.2f} ms CPU/command",
            f"  eventsourcing {version('eventsourcing'):<22}  "
            f"{figures['eventsourcing_cmds_per_s']:8.0f} commands/s"
            f"   {figures['eventsourcing_cpu_ms_per_cmd']:6.2f} ms CPU/command",
            f"  bare INSERT+COMMIT (ceiling)          {figures['insert_ceiling_per_s']:8.0f} commands/s"
            f"   {figures['ceiling_cpu_ms_per_cmd']:6.2f} ms CPU/command",
            f"  ours / eventsourcing  {vs:5.2f}x   goal >= {GOAL_VS_EVENTSOURCING}x   "
            f"{verdict(vs >= GOAL_VS_EVENTSOURCING)}",
            f"  ours / ceiling        {of:5.0%}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400, help="lifecycles per measurement (5 commands each)")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default BENCH_RUNS, >= 3)")
    arguments = parser.parse_args()
    count = arguments.runs or runs()
    print(machine())
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as directory:
        for engine in engines():
            figures = measure(engine, Path(directory), count, arguments.cases)
            print(report(engine, figures, count, arguments.cases), flush=True)


if __name__ == "__main__":
    main()
