"""Upper bounds for commands over HTTP on PostgreSQL: how fast they would go were some of their work
not needed at all, measured side by side with the code as it is and with SQLite.

A way of doing a piece of work faster can at most save the whole of it. Here that work is taken away
(in the server's workers only, by this module as gunicorn's configuration), which no real change can
do: a bound says what the best possible change of that kind would give, before anyone builds it.

- `known-tokens`: each worker remembers the actor of a bearer token after its first lookup and never
  checks it again (so a revoked token would go on working): what authenticating costs. On
  PostgreSQL a write with a remembered token already skips the lookup and checks the token in its own
  transaction instead (`service.http.authenticate`): this bound is that check's cost.
- `no-daily-counts`: a case's pipeline counters, daily levels and daily changes are not written,
  which leaves the reports wrong: what those three writes of every command cost.
- `head-in-database`: an append takes the write lock and the ledger head inside the database, in
  the statements that write, instead of in a round trip of its own whose reply the event's hash
  waits for: nothing waits for the lock, and the lock is held only while the server runs the
  writes and the commit. The chain is broken (the hash is not the chain's; the case rows and the
  register get made-up positions): what a design that appends in the database could gain at most.

Several bounds joined by `+` are taken away together. Every server (SQLite as it is, PostgreSQL as it
is, PostgreSQL under each bound) is loaded in turn, round after round (`http_load.load_in_turn`, 16
connections, whole lifecycles, as `make bench`); the figures are each side's medians and the medians
of the per-round ratios.

    python -m tests.bench.bounds [ROUNDS] [BOUND ...]   # by default 8 rounds, every bound alone and together

It writes what it printed, with the machine and the command, to docs/benchmark-bounds.md.
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.bench import write_turn_probe
from tests.bench.common import ROOT, write_fenced_report
from tests.bench.http_load import BOUND_VARIABLE, Side, load_in_turn

REPORT = ROOT / "docs" / "benchmark-bounds.md"
DEFAULT_ROUNDS = 8


def _known_tokens() -> None:
    from flask import g, request

    from service import http

    authenticate = http.authenticate
    known: dict[str, Any] = {}

    def authenticate_once() -> Any:
        header = request.headers.get("Authorization", "")
        if header in known:
            g.actor = known[header]
            return None
        refused = authenticate()
        if refused is None and "actor" in g:
            known[header] = g.actor
        return refused

    http.authenticate = authenticate_once  # before the app is made, which registers it


def _no_daily_counts() -> None:
    from events import projections

    def no_counts(_self: Any, _conn: Any, tally: Any) -> None:
        tally.counts.clear()

    def no_changes(self: Any, _conn: Any, _models: Any) -> None:
        self.changes.clear()

    projections.CandidacyProjection._write_counts_and_levels = no_counts  # type: ignore[method-assign]
    projections._Tally.write_changes = no_changes  # type: ignore[method-assign]


def _head_in_database() -> None:
    from sqlalchemy import bindparam, func, insert, select, update

    from events import database, store
    from events.prepared import Prepared
    from events.schema import events, ledger_head

    # Positions of this worker's own for the case rows and the register, which keep them unique; ten
    # apart, as an append numbers its events after the head it is given.
    made_up_positions = itertools.count(10**12 + os.getpid() * 10**6, 10)

    def locked_head(conn: Any) -> Any:
        head = conn.info.get(database.LOCKED_HEAD)
        if head is not None:  # a transaction that locked first
            return head
        conn.info.pop(database._TAKE_LOCK_LATE, None)
        database._TAKE_WRITE_LOCK.send(conn)  # goes with the writes; its reply is never waited for
        return store.LedgerHead(next(made_up_positions), "0" * 64, "")

    text_of = func.convert_to(bindparam("data") + ledger_head.c.hash, "UTF8")
    given = [c.name for c in events.c if c.name not in ("position", "prev_hash", "hash")]
    store.locked_head = locked_head
    store._INSERT_EVENTS = Prepared(
        insert(events).from_select(
            ["position", *given, "prev_hash", "hash"],
            select(
                ledger_head.c.position + 1,
                *(bindparam(name, type_=events.c[name].type) for name in given),
                ledger_head.c.hash,
                # the server's hash of about as much text as the chain's, in place of the chain's
                func.encode(func.sha256(text_of), "hex"),
            ).where(ledger_head.c.id == 1),
        )
    )
    store._ADVANCE_HEAD = Prepared(
        update(ledger_head)
        .where(ledger_head.c.id == 1)
        .values(
            position=ledger_head.c.position + 1, hash=bindparam("new_hash"), recorded_at=bindparam("new_at")
        )
    )


BOUNDS: dict[str, Callable[[], None]] = {
    "known-tokens": _known_tokens,
    "no-daily-counts": _no_daily_counts,
    "head-in-database": _head_in_database,
}


def post_fork(server: Any, worker: Any) -> None:
    """gunicorn's hook, in each worker before it loads the app: take away the work $BENCH_BOUND names."""
    for name in filter(None, os.environ.get(BOUND_VARIABLE, "").split("+")):
        BOUNDS[name]()
    if write_turn_probe.DIRECTORY_VARIABLE in os.environ:
        write_turn_probe.post_fork(server, worker)


def measure(bounds: list[str], rounds: int) -> dict[str, list[dict[str, float]]]:
    """Each side's figures (`http_load._figures`), round by round: "sqlite", "postgres", then
    "postgres, <bound>" for each of `bounds`."""
    sides = [Side("sqlite", "sqlite"), Side("postgres", "postgres")]
    sides += [Side(f"postgres, {bound}", "postgres", bound=bound) for bound in bounds]
    return load_in_turn(sides, rounds, _print_round)


def _print_round(measured: dict[str, list[dict[str, float]]]) -> None:
    line = ", ".join(f"{name} {figures[-1]['per_s']:.0f}" for name, figures in measured.items())
    print(f"round {len(measured['sqlite'])}: {line} cmd/s", flush=True)


def report(measured: dict[str, list[dict[str, float]]], rounds: int) -> str:
    def ratio(side: str, other: str) -> float:
        pairs = zip(measured[side], measured[other], strict=True)
        return statistics.median(a["per_s"] / b["per_s"] for a, b in pairs)

    width = max(len(side) for side in measured) + 2
    lines = [
        f"Commands over HTTP, 2 workers, 16 connections: medians of {rounds} rounds",
        f"{'side':<{width}}{'cmd/s':>7}{'server CPU':>12}{'PG CPU':>9}{'CPU bound':>11}{'x PG as is':>12}"
        f"{'/ SQLite':>10}",
    ]
    for side, figures in measured.items():
        rate = statistics.median(f["per_s"] for f in figures)
        server = statistics.median(f["server_cpu_ms"] for f in figures)
        cpu_bound = statistics.median(f["cpu_bound_per_s"] for f in figures)
        database = [f["database_cpu_ms"] for f in figures if "database_cpu_ms" in f]
        pg = f"{statistics.median(database):.2f} ms" if database else "-"
        gain = f"{ratio(side, 'postgres'):.3f}" if side.startswith("postgres") else "-"
        of_sqlite = f"{ratio(side, 'sqlite'):.3f}" if side != "sqlite" else "-"
        lines.append(
            f"{side:<{width}}{rate:>7.0f}{server:>9.2f} ms{pg:>9}{cpu_bound:>11.0f}{gain:>12}{of_sqlite:>10}"
        )
    lines += [
        "CPU bound: the rate were the CPU the only limit, the machine's cores over the CPU that the load,",
        "the server and PostgreSQL spend per command.",
    ]
    return "\n".join(lines)


def main() -> None:
    arguments = sys.argv[1:]
    rounds = int(arguments.pop(0)) if arguments and arguments[0].isdigit() else DEFAULT_ROUNDS
    bounds = arguments or [*BOUNDS, "+".join(BOUNDS)]
    unknown = {name for bound in bounds for name in bound.split("+")} - set(BOUNDS)
    if unknown or rounds < 1:
        raise SystemExit(f"usage: python -m tests.bench.bounds [ROUNDS] [{'|'.join(BOUNDS)}[+...] ...]")
    started = time.monotonic()
    text = report(measure(bounds, rounds), rounds)
    print(text)
    write_fenced_report(
        REPORT,
        "Benchmark bounds",
        [
            "Written by `make bench-bounds` (`tests/bench/bounds.py`): how fast commands over HTTP on",
            "PostgreSQL would go were some of their work not needed at all, side by side with the code",
            "as it is and with SQLite. What each bound takes away is in the script's docstring.",
        ],
        f"`{' '.join(['python -m tests.bench.bounds', *sys.argv[1:]])}`",
        time.monotonic() - started,
        text,
    )
    print(f"written to {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
