"""The hash chain of a long log, checked on every core: what `ledger verify` runs.

One process hashes about a hundred thousand events a second, so a log of millions would keep an
operator waiting on one core while the others idle. The positions from the start (or from a digest
kept elsewhere) to the head are cut into one part per process; each part is walked by
`EventStore.verify` in a process of its own, in its own read transaction, from the hash its first
event holds; the parts join where each one ends on the hash the next one started from, and the last
part checks the head row. Events up to the head never change (the log is append-only), so parts read
in different snapshots still make one chain, and a change made meanwhile to break that is found
where the parts join.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import select

from events.database import Database
from events.schema import GENESIS_HASH, events
from events.store import EventStore, VerificationResult

# Fewer events per part than this are not worth a process: they are walked in this one.
MIN_PART = 100_000


@dataclasses.dataclass(frozen=True, slots=True)
class _Part:
    position: int  # the part starts after this event, whose hash is `digest`
    digest: str
    upto: int | None  # its last event (None: up to the head, which it checks)


def verify_chain(
    database: Database,
    store: EventStore,
    *,
    position: int = 0,
    digest: str = GENESIS_HASH,
    processes: int | None = None,
    min_part: int = MIN_PART,
) -> VerificationResult:
    """`store.verify` from `position` and `digest` to the head, in up to `processes` processes (by
    default one per core), each walking `min_part` events or more; the same result as one walk."""
    processes = processes or os.cpu_count() or 1
    with database.read() as conn:
        # The digest given is checked here first: a wrong one is the answer, at once.
        start = store.verify(conn, position=position, digest=digest, upto=position)
        if not start.ok:
            return start
        head = store.head(conn)
        parts_wanted = min(processes, (head.position - position) // min_part)
        if parts_wanted < 2:
            return store.verify(conn, position=position, digest=digest)
        step = (head.position - position) // parts_wanted
        cuts = [position + step * n for n in range(1, parts_wanted)]
        held = dict(
            conn.execute(select(events.c.position, events.c.hash).where(events.c.position.in_(cuts))).all()
        )
    # A cut at a missing event starts its part from no digest: the part before it finds it missing.
    parts = [_Part(position, digest, cuts[0])]
    parts += [_Part(cut, held.get(cut, ""), upto) for cut, upto in zip(cuts, [*cuts[1:], None], strict=True)]
    url = database.url.render_as_string(hide_password=False)
    # Forked (at once, where a spawned child would import everything again), with no connection to
    # inherit: each part opens its own.
    database.engine.dispose()
    with ProcessPoolExecutor(len(parts), mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_verify_part, [url] * len(parts), parts))
    return _joined(position, parts, results)


def _verify_part(url: str, part: _Part) -> VerificationResult:
    database = Database(url)
    try:
        with database.read() as conn:
            return EventStore().verify(conn, position=part.position, digest=part.digest, upto=part.upto)
    finally:
        database.dispose()


def _joined(position: int, parts: list[_Part], results: list[VerificationResult]) -> VerificationResult:
    """The parts' results as one walk's: good up to the first part that is not, and joined where
    each part ended on the hash the next one started from."""
    checked = 0
    for result, following in zip(results, [*parts[1:], None], strict=True):
        whole = dataclasses.replace(result, checked=checked + result.checked, verified_from=position)
        if not result.ok or following is None:
            return whole
        if result.digest != following.digest:
            reason = f"event {following.position} changed while the chain was verified"
            return dataclasses.replace(whole, ok=False, first_bad_position=following.position, reason=reason)
        checked += result.checked
    raise AssertionError("the last part ends the walk")
