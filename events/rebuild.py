"""Rebuild the read models from the log: the whole log replayed, stream by stream.

Live, every event of a case reads its row back and writes it again; a replay folds each case in
memory, from its first event to its last, with the same functions (`events.folds`), and writes it
once. Counters add up the same in any order, so they are written in long runs. A day's level is the
running sum of the daily changes up to that day, as recorded days never go back along the log: what
the live path's closing counts come to.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Insert, Table, delete, func, insert, select

from domain.events import CANDIDACY_STREAM
from events.folds import Tally
from events.projections import (
    LIVE,
    ReadModels,
    add_to_pipeline_counts,
    insert_rows,
    project_case_documents,
    project_fostering,
    project_organisation,
    project_targets,
    project_users,
    write_daily_changes,
    write_designation_days,
)
from events.store import EventStore, RecordedEvent


def rebuild(conn: Connection, store: EventStore, *, progress: Callable[[int], None] | None = None) -> int:
    """Empty every read model and replay the whole log into it; returns the number of events."""
    for table in LIVE.tables():
        conn.execute(delete(table))
    return replay(conn, store, LIVE, progress=progress)


def replay(
    conn: Connection,
    store: EventStore,
    models: ReadModels,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Project the whole log, stream by stream, into `models` (expected empty); returns the number of
    events. The one replay behind a rebuild and a verification."""
    cases = _CaseReplay(models)
    replayed = 0
    for batch in store.iterate_by_stream(conn):
        cases.project(conn, batch)
        # A target stream comes whole and in order, so each key's last event in a batch is its newest.
        project_targets(conn, batch, models)
        # So does a user's: its events fold in order, whatever batch they fall in.
        project_users(conn, batch, models)
        project_organisation(conn, batch, models)
        # A case's fostering rows in log order: a report's steps follow its receipt.
        project_fostering(conn, batch, models)
        project_case_documents(conn, batch, models)
        replayed += len(batch)
        if progress:
            progress(len(batch))
    cases.finish(conn)
    return replayed


class _CaseReplay:
    """The candidacy read models from the log read stream by stream, each case in version order."""

    # Daily change rows per statement when they are written at the end.
    CHANGES_PER_STATEMENT = 20_000

    def __init__(self, models: ReadModels) -> None:
        self.models = models
        self.tally = Tally()
        self.case: dict[str, Any] | None = None  # its stream may run on into the next batch
        # Every daily change, held to the end: {office: {stage: {day: delta}}}. Streams come in id
        # order, so each (office, day, stage) recurs all along the log; held, each is written once
        # and in key order. Nested, with one string per day, a national log's 600,000 keys take
        # tens of megabytes.
        self.daily: defaultdict[str, defaultdict[str, Counter[str]]] = defaultdict(
            lambda: defaultdict(Counter)
        )

    def project(self, conn: Connection, batch: Sequence[RecordedEvent]) -> None:
        finished: list[dict[str, Any]] = []
        for recorded in batch:
            if recorded.stream_type != CANDIDACY_STREAM:
                continue
            if self.case is not None and self.case["id"] != recorded.stream_id:
                finished.append(self.case)
                self.case = None
            self.case = self.tally.apply(self.case, recorded)
        insert_rows(conn, self.models.candidacies, finished)
        insert_rows(conn, self.models.designations, self.tally.register)
        self.tally.register.clear()
        self._hold_changes()

    def _hold_changes(self) -> None:
        for (office, day, stage), delta in self.tally.changes.items():
            self.daily[office][stage][day] += delta  # a change that nets to zero is kept, as live
        self.tally.changes.clear()

    def _held_changes_in_key_order(self) -> Iterator[tuple[tuple[str, str, str], int]]:
        for office in sorted(self.daily):
            stages = self.daily.pop(office)
            keyed = [((day, stage), delta) for stage, days in stages.items() for day, delta in days.items()]
            for (day, stage), delta in sorted(keyed):
                yield (office, day, stage), delta

    def finish(self, conn: Connection) -> None:
        if self.case is not None:
            insert_rows(conn, self.models.candidacies, [self.case])
            self.case = None
        add_to_pipeline_counts(conn, self.models, self.tally.counts)
        self._hold_changes()
        write_daily_changes(
            conn, self.models, self._held_changes_in_key_order(), per_statement=self.CHANGES_PER_STATEMENT
        )
        write_designation_days(conn, self.models, self.tally.designated_days)
        conn.execute(_levels_from_changes(self.models.stage_levels, self.models.stage_changes))


@functools.lru_cache(maxsize=64)
def _levels_from_changes(levels: Table, changes: Table) -> Insert:
    running = func.sum(changes.c.delta).over(
        partition_by=(changes.c.office_code, changes.c.stage), order_by=changes.c.day
    )
    return insert(levels).from_select(
        ["office_code", "stage", "day", "cases"],
        select(changes.c.office_code, changes.c.stage, changes.c.day, running),
    )
