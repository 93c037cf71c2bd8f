"""Two versions of the code side by side over HTTP, for a change whose effect is smaller than this
machine's drift: run for run, the same machine's rate moves by a third within minutes, so figures
taken one after the other compare nothing. Here each checkout serves from its own gunicorn (2
workers, as `make bench`) on its own scratch database, both up at once, and the same load (16
connections, whole lifecycles) goes to one and then the other, round after round, the first of each
pair alternating. It prints each round, then the medians of each side and the median of the per-pair
ratios (this checkout's figure over the other's).

    git worktree add ../baseline <commit>
    python -m bench.compare sqlite|postgres ../baseline [ROUNDS]    # ROUNDS: 10 by default

The other checkout is served with this checkout's Python environment: its dependencies must be the
same.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

from bench.common import ROOT
from bench.http_load import Side, load_in_turn

FIGURES = ("per_s", "p50_ms", "p99_ms", "server_cpu_ms", "database_cpu_ms")


def compare(engine: str, baseline: Path, rounds: int) -> dict[str, dict[str, float]]:
    """{figure: {"this", "baseline", "ratio"}}: each side's median and the median of this/baseline
    over the rounds."""
    sides = [Side("this", engine, ROOT), Side("baseline", engine, baseline.resolve())]
    measured = load_in_turn(sides, rounds, _print_round)
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


def _print_round(measured: dict[str, list[dict[str, Any]]]) -> None:
    this, other = measured["this"][-1], measured["baseline"][-1]
    print(
        f"round {len(measured['this'])}: {this['per_s']:.0f} cmd/s against {other['per_s']:.0f}", flush=True
    )


def main() -> None:
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("sqlite", "postgres"):
        raise SystemExit("usage: python -m bench.compare sqlite|postgres BASELINE_CHECKOUT [ROUNDS]")
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
