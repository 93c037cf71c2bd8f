"""Two versions of the code side by side over HTTP, for a change whose effect is smaller than this
machine's drift: run for run, the same machine's rate moves by a third within minutes, so figures
taken one after the other compare nothing. Here each checkout serves from its own gunicorn (2
workers, as `make bench`) on its own scratch database, both up at once, and the same load (16
connections, whole lifecycles) goes to one and then the other, round after round, the first of each
pair alternating. It prints each round, then the medians of each side and the median of the per-pair
ratios (this checkout's figure over the other's).

    git worktree add ../baseline <commit>
    python -m tests.bench.compare sqlite|postgres ../baseline [ROUNDS]    # ROUNDS: 10 by default

The other checkout is served with this checkout's Python environment: its dependencies must be the
same.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.bench.common import ROOT, scratch_database
from tests.bench.http_load import CASES_PER_CONNECTION, CONNECTIONS, Gunicorn, _figures, _load, _prepare

FIGURES = ("per_s", "p50_ms", "p99_ms", "server_cpu_ms", "database_cpu_ms", "turn_held_ms")


def compare(engine: str, baseline: Path, rounds: int) -> dict[str, dict[str, float]]:
    """{figure: {"this", "baseline", "ratio"}}: each side's median and the median of this/baseline
    over the rounds."""
    sides = {"this": ROOT, "baseline": baseline.resolve()}
    measured: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="desa-binaan-compare-") as scratch:
        directory = Path(scratch)
        with (
            scratch_database(engine, directory) as this_url,
            scratch_database(engine, directory) as baseline_url,
        ):
            urls = {"this": this_url, "baseline": baseline_url}
            tokens = {side: _prepare(url) for side, url in urls.items()}
            servers: dict[str, Gunicorn] = {}
            try:
                for side, root in sides.items():
                    turn = directory / f"write-turn-{side}" if engine == "sqlite" else None
                    if turn is not None:
                        turn.mkdir()
                    servers[side] = Gunicorn(
                        "wsgi:app", urls[side], directory / f"{side}.log", turn, checkout=root
                    )
                for side, server in servers.items():  # warm-up: imports, connections, caches
                    _load(server, engine, tokens[side], 0, 1, bare=False)
                for round_number in range(rounds):
                    order = list(sides) if round_number % 2 == 0 else list(reversed(sides))
                    first = (round_number + 1) * CONNECTIONS * CASES_PER_CONNECTION
                    for side in order:
                        outcome = _load(
                            servers[side], engine, tokens[side], first, CASES_PER_CONNECTION, False
                        )
                        measured[side].append(_figures(outcome))
                    print(f"round {round_number + 1}: " + _round_line(measured), flush=True)
            finally:
                for server in servers.values():
                    server.stop()
    summary: dict[str, dict[str, float]] = {}
    for name in FIGURES:
        if name not in measured["this"][0]:
            continue
        this = [figures[name] for figures in measured["this"]]
        other = [figures[name] for figures in measured["baseline"]]
        summary[name] = {
            "this": statistics.median(this),
            "baseline": statistics.median(other),
            "ratio": statistics.median(a / b for a, b in zip(this, other, strict=True) if b),
        }
    return summary


def _round_line(measured: dict[str, list[dict[str, Any]]]) -> str:
    this, other = measured["this"][-1], measured["baseline"][-1]
    return f"{this['per_s']:.0f} cmd/s against {other['per_s']:.0f}"


def main() -> None:
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("sqlite", "postgres"):
        raise SystemExit("usage: python -m tests.bench.compare sqlite|postgres BASELINE_CHECKOUT [ROUNDS]")
    engine, baseline = sys.argv[1], Path(sys.argv[2])
    if not (baseline / "wsgi.py").is_file():
        raise SystemExit(f"{baseline} is not a checkout of the project (no wsgi.py)")
    rounds = int(sys.argv[3]) if len(sys.argv) == 4 else 10
    summary = compare(engine, baseline, rounds)
    print(f"\n{engine}, {rounds} rounds: median of each side, median of the per-round ratios")
    print(f"{'figure':<16}{'this':>10}{'baseline':>10}{'this/baseline':>15}")
    for name, figures in summary.items():
        print(f"{name:<16}{figures['this']:>10.2f}{figures['baseline']:>10.2f}{figures['ratio']:>15.3f}")


if __name__ == "__main__":
    main()
