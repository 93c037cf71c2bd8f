"""`projections verify`: the log replayed into scratch tables by the projections' own code and compared
with the live read models, in one read snapshot, without changing anything; on both databases."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import JSON, Connection, Table, Text, cast, delete, insert, select, text, update

from domain.actors import Actor
from domain.commands import ActOnCase, CaseCommand, Indicators, ProposeCandidacy, SetTarget
from domain.events import CandidacyAssessed
from events import rebuild, verification
from events.projections import LIVE
from events.schema import (
    candidacies,
    designations,
    pipeline_counts,
    role_grants,
    stage_changes,
    target_history,
    targets,
    users,
)
from events.store import EventMetadata, EventStore
from events.verification import Difference, DifferenceKind
from service import handlers
from service.application import Application
from tests.conftest import FakeClock, World, load_areas
from tests.integration import test_report_projections
from tests.integration.support import ProposedV1, read_model_snapshot
from tests.integration.test_projections import BatchedStore
from tests.integration.test_report_projections import (
    BATULAYANG,
    CITEKO,
    TUGU_SELATAN,
    Story,
    assess,
    coordinate,
    designate,
    socialize,
)

# The report tests' story (eight cases of three offices through every action, targets set and changed),
# as this module's fixture of the same name.
story = test_report_projections.story

Damage = Callable[[Connection, Story], None]


def check(application: Application, store: EventStore | None = None) -> verification.ReadModelCheck:
    with application.db.read() as conn:
        return verification.verify(conn, store or EventStore())


def snapshot_and_count(application: Application) -> tuple[dict[str, list[dict[str, Any]]], int]:
    with application.db.read() as conn:
        return read_model_snapshot(conn), EventStore().count(conn)


def rows_of(conn: Connection, table: Table) -> list[dict[str, Any]]:
    """As `read_model_snapshot` reads a live table: primary-key order, JSON as the text stored."""
    columns = [cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in table.columns]
    query = select(*columns).order_by(*table.primary_key.columns)
    return [dict(row) for row in conn.execute(query).mappings()]


def temporary_tables(conn: Connection) -> list[str]:
    """What this connection holds in its temporary schema (tables and their key indexes)."""
    if conn.dialect.name == "sqlite":
        return list(conn.execute(text("SELECT name FROM sqlite_temp_master")).scalars())
    query = "SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema()"
    return list(conn.execute(text(query)).scalars())


def set_json_text(conn: Connection, table: Table, column: str, value: str, **key: Any) -> None:
    """Store `value` as the column's exact text (SQLAlchemy would re-encode a Python value)."""
    placeholder = ":value" if conn.dialect.name == "sqlite" else "CAST(:value AS JSON)"
    where = " AND ".join(f"{name} = :{name}" for name in key)
    conn.execute(
        text(f"UPDATE {table.name} SET {column} = {placeholder} WHERE {where}"), {"value": value, **key}
    )


# ---- a clean history --------------------------------------------------------------------------------


def test_verify_after_a_realistic_history_finds_nothing(application: Application, story: Story) -> None:
    live, total = snapshot_and_count(application)
    assert all(live.values()), "the story fills every read model"

    result = check(application)

    assert result.ok, [str(d) for d in result.differences]
    assert result.replayed == total
    assert result.compared == sum(len(rows) for rows in live.values())


def test_verify_of_an_empty_log(application: Application) -> None:
    result = check(application)
    assert (result.ok, result.replayed, result.compared) == (True, 0, 0)


@pytest.mark.parametrize("batch_size", [1, 7, 5000])
def test_replay_into_scratch_tables_gives_the_live_rows(
    application: Application, story: Story, batch_size: int
) -> None:
    """The scratch copies are filled by the same projection code as the live tables, whatever the
    batches; the live rows are left alone."""
    live, total = snapshot_and_count(application)
    with application.db.read() as conn:
        scratch = verification.scratch_read_models()
        for table in scratch.tables():
            table.create(conn)
        assert rebuild.replay(conn, BatchedStore(batch_size), scratch) == total
        replayed = {
            live_table.name: rows_of(conn, scratch_table)
            for live_table, scratch_table in zip(LIVE.tables(), scratch.tables(), strict=True)
        }
        assert read_model_snapshot(conn) == live
    assert replayed == live
    assert {t.name for t in scratch.tables()}.isdisjoint(t.name for t in LIVE.tables())


def test_verify_changes_nothing_and_leaves_no_scratch_table(application: Application, story: Story) -> None:
    before = snapshot_and_count(application)
    with application.db.engine.connect() as conn:
        with conn.begin():
            assert verification.verify(conn, EventStore()).ok
            assert temporary_tables(conn) == []
            conn.commit()  # even committed, the verification has written nothing live
        assert temporary_tables(conn) == []
    assert snapshot_and_count(application) == before


def test_a_failed_verify_leaves_no_scratch_table(application: Application, story: Story) -> None:
    class Failing(EventStore):
        def iterate_by_stream(self, conn: Connection, *, batch_size: int = 0) -> Any:
            yield from super().iterate_by_stream(conn, batch_size=4)
            raise RuntimeError("disk gone")

    before = snapshot_and_count(application)
    with application.db.engine.connect() as conn:
        with pytest.raises(RuntimeError), conn.begin():
            verification.verify(conn, Failing())
        # The scratch tables were created in the transaction, so its rollback took them away.
        assert temporary_tables(conn) == []
    assert snapshot_and_count(application) == before
    assert check(application).ok


# ---- damage, found and named ------------------------------------------------------------------------


def delete_case(conn: Connection, story: Story) -> None:
    conn.execute(delete(candidacies).where(candidacies.c.id == story.cases["A"]))


def change_case(conn: Connection, story: Story) -> None:
    conn.execute(
        update(candidacies)
        .where(candidacies.c.id == story.cases["S"])
        .values(stage="socialized", version=9, coordinated=None)
    )


def change_json_value(conn: Connection, story: Story) -> None:
    conn.execute(
        update(candidacies)
        .where(candidacies.c.id == story.cases["E"])
        .values(indicators={"migrant_workers": 1, "prospective_migrant_workers": 1, "trafficking_cases": 0})
    )


def reorder_json_keys(conn: Connection, story: Story) -> None:
    """The same value, other bytes: a replay must give the stored text, not merely an equal value."""
    [row] = conn.execute(select(candidacies.c.proposed).where(candidacies.c.id == story.cases["E"])).all()
    reordered = (
        "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in reversed(row.proposed.items())) + "}"
    )
    set_json_text(conn, candidacies, "proposed", reordered, id=story.cases["E"])


def insert_extra_case(conn: Connection, story: Story) -> None:
    row = dict(conn.execute(select(candidacies).where(candidacies.c.id == story.cases["B"])).mappings().one())
    # Withdrawn, so the village index lets it in beside the real one.
    conn.execute(
        insert(candidacies).values(
            {**row, "id": "00000000-0000-4000-8000-000000000000", "proposed_position": 10_000}
        )
    )


def count_one_more(conn: Connection, story: Story) -> None:
    conn.execute(
        update(pipeline_counts)
        .where(pipeline_counts.c.office_code == "BOGOR", pipeline_counts.c.stage == "designated")
        .values(cases=pipeline_counts.c.cases + 1)
    )


def change_a_daily_delta(conn: Connection, story: Story) -> None:
    conn.execute(
        update(stage_changes)
        .where(
            stage_changes.c.office_code == "BOGOR",
            stage_changes.c.day == "2024-01-15",
            stage_changes.c.stage == "proposed",
        )
        .values(delta=stage_changes.c.delta - 1)
    )


def delete_designation(conn: Connection, story: Story) -> None:
    conn.execute(delete(designations).where(designations.c.candidacy_id == story.cases["C"]))


def change_target(conn: Connection, story: Story) -> None:
    conn.execute(
        update(targets)
        .where(targets.c.office_code == "BOGOR", targets.c.year == 2024)
        .values(target=99, set_by={"username": "intruder"})
    )


def delete_target_change(conn: Connection, story: Story) -> None:
    conn.execute(
        delete(target_history).where(
            target_history.c.office_code == "BOGOR",
            target_history.c.year == 2024,
            target_history.c.version == 2,
        )
    )


def promote_a_user(conn: Connection, story: Story) -> None:
    """An account's role changed behind the log's back: the officer made a national admin."""
    conn.execute(update(users).where(users.c.username == "officer").values(role="admin", office_code=None))


def delete_a_grant(conn: Connection, story: Story) -> None:
    conn.execute(delete(role_grants).where(role_grants.c.username == "supervisor"))


def account_key(application: Application, table: Table, column: str, username: str) -> dict[str, Any]:
    """The key of a user's row in `users` (its id) or in `role_grants` (its only grant's position)."""
    query = select(table.c[column]).where(table.c.username == username)
    with application.db.read() as conn:
        return {column: conn.execute(query).scalar_one()}


def second_bogor_2024_target_position(application: Application) -> int:
    with application.db.read() as conn:
        return conn.execute(
            select(target_history.c.position).where(
                target_history.c.office_code == "BOGOR",
                target_history.c.year == 2024,
                target_history.c.version == 2,
            )
        ).scalar_one()


DAMAGES: dict[str, tuple[Damage, str, DifferenceKind, tuple[str, ...]]] = {
    "live case deleted": (delete_case, "candidacies", DifferenceKind.MISSING, ()),
    "case changed": (
        change_case,
        "candidacies",
        DifferenceKind.DIFFERS,
        ("stage", "version", "coordinated"),
    ),
    "JSON value changed": (change_json_value, "candidacies", DifferenceKind.DIFFERS, ("indicators",)),
    "JSON keys reordered": (reorder_json_keys, "candidacies", DifferenceKind.DIFFERS, ("proposed",)),
    "extra case inserted": (insert_extra_case, "candidacies", DifferenceKind.EXTRA, ()),
    "counter off by one": (count_one_more, "pipeline_counts", DifferenceKind.DIFFERS, ("cases",)),
    "daily delta off by one": (change_a_daily_delta, "stage_changes", DifferenceKind.DIFFERS, ("delta",)),
    "designation deleted": (delete_designation, "designations", DifferenceKind.MISSING, ()),
    "target changed": (change_target, "targets", DifferenceKind.DIFFERS, ("target", "set_by")),
    "target change deleted": (delete_target_change, "target_history", DifferenceKind.MISSING, ()),
    "user promoted": (promote_a_user, "users", DifferenceKind.DIFFERS, ("role", "office_code")),
    "grant deleted": (delete_a_grant, "role_grants", DifferenceKind.MISSING, ()),
}


def expected_key(name: str, application: Application, story: Story) -> dict[str, Any]:
    return {
        "live case deleted": {"id": story.cases["A"]},
        "case changed": {"id": story.cases["S"]},
        "JSON value changed": {"id": story.cases["E"]},
        "JSON keys reordered": {"id": story.cases["E"]},
        "extra case inserted": {"id": "00000000-0000-4000-8000-000000000000"},
        "counter off by one": {"office_code": "BOGOR", "stage": "designated"},
        "daily delta off by one": {"office_code": "BOGOR", "day": "2024-01-15", "stage": "proposed"},
        "designation deleted": {"candidacy_id": story.cases["C"]},
        "target changed": {"office_code": "BOGOR", "year": 2024},
        "target change deleted": {"position": second_bogor_2024_target_position(application)},
        "user promoted": account_key(application, users, "id", "officer"),
        "grant deleted": account_key(application, role_grants, "position", "supervisor"),
    }[name]


@pytest.mark.parametrize("name", list(DAMAGES))
def test_each_damage_is_found_and_named(application: Application, story: Story, name: str) -> None:
    damage, table, kind, columns = DAMAGES[name]
    key = expected_key(name, application, story)
    with application.db.write() as conn:
        damage(conn, story)
    before = snapshot_and_count(application)

    result = check(application)

    assert result.differences == [Difference(table, key, kind, columns)]
    assert not result.ok
    assert snapshot_and_count(application) == before, "verify repairs nothing: that is rebuild's job"


def test_every_damage_at_once_is_listed_table_by_table(application: Application, story: Story) -> None:
    keys = {name: expected_key(name, application, story) for name in DAMAGES}
    with application.db.write() as conn:
        for name, (damage, *_) in DAMAGES.items():
            if name != "JSON keys reordered":  # the same row as "JSON value changed"
                damage(conn, story)
    found = check(application).differences
    assert {(d.table, d.kind) for d in found} == {
        (table, kind) for name, (_, table, kind, _) in DAMAGES.items()
    }
    assert [d.table for d in found] == sorted(
        (d.table for d in found), key=[t.name for t in LIVE.tables()].index
    )
    by_key = {(d.table, tuple(d.key.items())): d for d in found}
    assert by_key[("candidacies", tuple(keys["JSON value changed"].items()))].columns == ("indicators",)
    # Within a table in key order, as the merge walks it.
    case_differences = [d for d in found if d.table == "candidacies"]
    assert [d.key["id"] for d in case_differences] == sorted(d.key["id"] for d in case_differences)


def test_a_difference_reads_as_a_line(application: Application, story: Story) -> None:
    position = second_bogor_2024_target_position(application)
    with application.db.write() as conn:
        count_one_more(conn, story)
        delete_target_change(conn, story)
    assert [str(d) for d in check(application).differences] == [
        "pipeline_counts (office_code=BOGOR, stage=designated): differs in cases",
        f"target_history (position={position}): missing in live",
    ]


def test_a_rebuild_answers_what_verify_found(application: Application, story: Story) -> None:
    with application.db.write() as conn:
        for damage, *_ in DAMAGES.values():
            damage(conn, story)
    assert not check(application).ok
    with application.db.write() as conn:
        rebuild.rebuild(conn, EventStore())
    assert check(application).ok


# ---- one snapshot, writers not blocked --------------------------------------------------------------


def test_a_write_during_verify_is_not_blocked_and_not_seen(application: Application, story: Story) -> None:
    """Mid-replay (the scratch tables already written), a command commits on another connection. On
    SQLite it would wait out the busy timeout and fail had the verification taken the write lock; and
    as live rows and the log are read in one snapshot, the new event is in neither."""
    _, total = snapshot_and_count(application)
    supervisor = story.world.actors["supervisor"]
    written: list[int] = []

    class WriteMidway(EventStore):
        def iterate_by_stream(self, conn: Connection, *, batch_size: int = 0) -> Iterator[Any]:
            for number, batch in enumerate(super().iterate_by_stream(conn, batch_size=5)):
                yield batch
                if number == 1:
                    done = application.execute(
                        handlers.set_target,
                        supervisor,
                        SetTarget("SUKABUMI", 2026, 7, "Surat Kakanwil"),
                        request_id="req-midway",
                    )
                    written.append(done["target"])

    result = check(application, WriteMidway())

    assert written == [7]
    assert result.ok, [str(d) for d in result.differences]
    assert result.replayed == total
    after = check(application)
    assert (after.ok, after.replayed) == (True, total + 1)


def test_two_verifications_at_once_keep_their_own_scratch_tables(
    application: Application, story: Story
) -> None:
    inner: list[verification.ReadModelCheck] = []

    class VerifyMidway(EventStore):
        def iterate_by_stream(self, conn: Connection, *, batch_size: int = 0) -> Iterator[Any]:
            for number, batch in enumerate(super().iterate_by_stream(conn, batch_size=5)):
                yield batch
                if number == 1:
                    inner.append(check(application))

    outer = check(application, VerifyMidway())
    assert outer.ok and inner[0].ok
    assert outer.compared == inner[0].compared


# ---- cases that began before they were recorded -----------------------------------------------------


def test_verify_and_rebuild_after_cases_that_began_before_they_were_recorded(
    application: Application, world: World, clock: FakeClock
) -> None:
    """Three cases recorded on 1 June, each designated on 16 April after meetings in February: one
    without `proposed_on`, one with it, and one from an older release's log (a version 1 proposal, an
    assessment with criteria of other names). The live rows, a verification and a rebuild agree, and no
    case's days to designation are negative."""
    load_areas(application)
    clock.set("2024-06-01T03:00:00Z")
    officer, section_head, head = (world.actors[u] for u in ("officer", "section_head", "head"))

    def run(handler: Any, actor: Actor, command: Any) -> dict[str, Any]:
        return application.execute(handler, actor, command, request_id=f"req-{uuid.uuid4()}")

    def propose(village_code: str, proposed_on: dt.date | None = None) -> str:
        command = ProposeCandidacy(
            village_code=village_code,
            office_code="BOGOR",
            rationale="Dicatat belakangan.",
            indicators=Indicators(412, 160, 3, border_area=False),
            proposed_on=proposed_on,
        )
        return run(handlers.propose, officer, command)["id"]

    def act(case_id: str, actor: Actor, command: CaseCommand) -> dict[str, Any]:
        return run(handlers.act, actor, ActOnCase(case_id, command))

    late = propose(TUGU_SELATAN)
    given = propose(CITEKO, proposed_on=dt.date(2024, 1, 8))
    old = str(uuid.uuid4())
    with application.uow.write(EventMetadata.of(officer, "req-old")) as tx:
        village = {"code": BATULAYANG, "name": "Batulayang", "district": None, "regency": None}
        tx.append("candidacy", old, 0, [ProposedV1(old, village, "BOGOR", "JABAR", "Lama.", {})])
    for case_id in (late, given, old):
        act(case_id, section_head, coordinate("2024-02-19"))
        act(case_id, section_head, socialize("2024-02-21"))
        if case_id == old:
            with application.uow.write(EventMetadata.of(section_head, "req-old-assess")) as tx:
                criteria = {"banyak_pmi": True, "rawan_tppo": False}
                assessed = CandidacyAssessed(dt.date(2024, 3, 20), 86, True, criteria)
                tx.append("candidacy", old, 3, [assessed])
        else:
            act(case_id, section_head, assess("2024-03-20"))
        designated = act(case_id, head, designate(f"SK-{case_id}", "2024-04-16"))
        assert designated["stage"] == "designated"

    with application.db.read() as conn:
        rows = {r.id: r for r in conn.execute(select(candidacies)).all()}
        days = dict(
            conn.execute(select(designations.c.candidacy_id, designations.c.days_to_designation)).all()
        )
    assert {i: (rows[i].proposed_on, rows[i].started_on) for i in rows} == {
        late: (None, "2024-02-19"),
        given: ("2024-01-08", "2024-01-08"),
        old: (None, "2024-02-19"),
    }
    assert days == {late: 57, given: 99, old: 57}

    live, total = snapshot_and_count(application)
    result = check(application)
    assert result.ok, [str(d) for d in result.differences]
    assert result.replayed == total
    with application.db.write() as conn:
        rebuild.rebuild(conn, EventStore())
    assert snapshot_and_count(application) == (live, total)


# ---- the command ------------------------------------------------------------------------------------


def run_verify(app: Flask) -> Result:
    return app.test_cli_runner().invoke(args=["projections", "verify"])


def test_cli_verify_of_a_clean_history_exits_0(app: Flask, application: Application, story: Story) -> None:
    live, total = snapshot_and_count(application)
    rows = sum(len(r) for r in live.values())

    result = run_verify(app)

    assert result.exit_code == 0, result.output
    assert f"read models match the log: {total} events replayed, {rows} rows compared" in result.stdout
    assert "DIFFER" not in result.output
    assert snapshot_and_count(application) == (live, total)


def test_cli_verify_names_each_difference_and_exits_1(
    app: Flask, application: Application, story: Story
) -> None:
    with application.db.write() as conn:
        delete_case(conn, story)
        count_one_more(conn, story)
    before = snapshot_and_count(application)

    result = run_verify(app)

    assert result.exit_code == 1
    assert "read models DIFFER from the log: 2 differences" in result.stderr
    assert f"candidacies (id={story.cases['A']}): missing in live" in result.stderr
    assert "pipeline_counts (office_code=BOGOR, stage=designated): differs in cases" in result.stderr
    assert "match" not in result.stdout
    assert snapshot_and_count(application) == before


def test_cli_verify_lists_50_differences_then_counts_the_rest(
    app: Flask, application: Application, story: Story
) -> None:
    live, _ = snapshot_and_count(application)
    rows = sum(len(r) for r in live.values())
    assert rows > 50
    with application.db.write() as conn:
        for table in LIVE.tables():
            conn.execute(delete(table))

    result = run_verify(app)

    assert result.exit_code == 1
    listed = [line for line in result.stderr.splitlines() if line.endswith(": missing in live")]
    assert len(listed) == 50
    assert f"... and {rows - 50} more" in result.stderr
