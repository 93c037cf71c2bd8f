"""The candidacy read model: what a realistic history projects live, that a rebuild from the log
gives exactly the same tables, and the database's own guard of one held candidacy per village."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from domain.commands import (
    ActOnCase,
    Assess,
    CaseCommand,
    Coordinate,
    Designate,
    Indicators,
    ProposeCandidacy,
    Reject,
    Return,
    Socialize,
    Withdraw,
)
from domain.errors import RuleBroken
from events import folds, projections, rebuild
from events.schema import candidacies
from events.store import EventStore
from service import cases, handlers
from service.application import Application
from tests.conftest import FakeClock, World
from tests.conftest import by as by_actor
from tests.integration.support import read_model_snapshot

COORDINATE = Coordinate(
    held_on=dt.date(2024, 2, 19),
    venue="Aula Kantor Imigrasi Bogor",
    agencies=("Pengadilan Negeri Cibinong", "Polres Bogor", "Kodim 0621"),
    minutes_ref="UND-0219",
)
SOCIALIZE = Socialize(held_on=dt.date(2024, 2, 21), speakers=("BP3MI",), attendees=85, topics=("TPPO",))
ASSESS_MET = Assess(
    assessed_on=dt.date(2024, 3, 20), score=86, meets_criteria=True, criteria={"migrant_worker_base": True}
)
ASSESS_NOT_MET = Assess(
    assessed_on=dt.date(2024, 3, 20),
    score=41,
    meets_criteria=False,
    criteria={"migrant_worker_base": False},
    notes="Kasus TPPO tidak terkonfirmasi.",
)
REASSESS_MET = Assess(
    assessed_on=dt.date(2024, 4, 2), score=78, meets_criteria=True, criteria={"migrant_worker_base": True}
)
DESIGNATE = Designate(
    decree_number="W11.IMI.IMI.4-UM.01.01-0416",
    decree_date=dt.date(2024, 4, 16),
    fostering_officers=("Rina Marlina",),
)

TUGU_SELATAN, CITEKO, BATULAYANG = "32.01.25.2006", "32.01.25.2005", "32.01.25.2001"
LEUWIMALANG, KOPO, BATU_TULIS, TONJONG = "32.01.25.2007", "32.01.25.2008", "32.71.01.1001", "32.02.01.2002"


class Story:
    """Drives the application as its users would, and remembers which case is which."""

    def __init__(self, application: Application, world: World, clock: FakeClock) -> None:
        self.application, self.world, self.clock = application, world, clock
        self.cases: dict[str, str] = {}

    def propose(self, name: str, username: str, village_code: str) -> str:
        actor = self.world.actors[username]
        assert actor.office_code is not None
        case = self.application.execute(
            handlers.propose,
            actor,
            ProposeCandidacy(
                village_code=village_code,
                office_code=actor.office_code,
                rationale=f"Kantong PMI ({name}).",
                indicators=Indicators(412, 160, 3, border_area=False),
            ),
            request_id=f"req-propose-{name}",
        )
        self.cases[name] = case["id"]
        return self.cases[name]

    def act(self, name: str, username: str, command: CaseCommand) -> dict[str, Any]:
        return self.application.execute(
            handlers.act,
            self.world.actors[username],
            ActOnCase(self.cases[name], command),
            request_id=f"req-{type(command).__name__.lower()}-{name}",
        )

    def at(self, instant: str) -> None:
        self.clock.set(instant)


@pytest.fixture
def story(application: Application, world: World, clock: FakeClock, registry: None) -> Story:
    """Nine cases of two offices in every stage, including a return, a rejection, a withdrawal and
    villages proposed again after their first candidacy was closed."""
    s = Story(application, world, clock)
    s.at("2024-01-15T02:00:00Z")
    s.propose("A", "officer", TUGU_SELATAN)
    s.propose("B", "officer", CITEKO)
    s.propose("C", "section_head", BATULAYANG)
    s.propose("D", "officer", LEUWIMALANG)
    s.propose("E", "officer", KOPO)
    s.propose("F", "head", BATU_TULIS)
    s.propose("G", "sukabumi_officer", TONJONG)

    s.at("2024-02-19T09:00:00Z")
    for name in "ABCE":
        s.act(name, "section_head", COORDINATE)
    s.act("G", "sukabumi_head", COORDINATE)

    s.at("2024-02-21T09:00:00Z")
    for name in "ABC":
        s.act(name, "section_head", SOCIALIZE)

    s.at("2024-03-20T09:00:00Z")
    s.act("A", "section_head", ASSESS_MET)
    s.act("B", "section_head", ASSESS_NOT_MET)
    s.act("C", "section_head", ASSESS_MET)
    s.act("D", "section_head", Withdraw(reason="Data tidak terkonfirmasi."))
    s.act("G", "sukabumi_head", Withdraw(reason="Desa dimekarkan."))

    s.at("2024-03-25T09:00:00Z")
    s.act("C", "head", Return(reason="Penilaian ulang diperlukan."))
    s.act("B", "head", Reject(reason="Tidak memenuhi kriteria."))
    # Closed candidacies release their village.
    s.propose("B2", "section_head", CITEKO)
    s.propose("D2", "head", LEUWIMALANG)

    s.at("2024-04-02T09:00:00Z")
    s.act("C", "head", REASSESS_MET)

    s.at("2024-04-16T09:00:00Z")
    s.act("A", "head", DESIGNATE)
    # Four eyes: C was proposed by the section head and reassessed by the head.
    s.act("C", "acting_head", DESIGNATE)
    return s


def rows_by_case(application: Application, story: Story) -> dict[str, dict[str, Any]]:
    with application.db.read() as conn:
        rows = {row["id"]: dict(row) for row in conn.execute(select(candidacies)).mappings()}
    return {name: rows[case_id] for name, case_id in story.cases.items()}


def by(world: World, username: str) -> dict[str, str]:
    return by_actor(world.actors[username])


def stamp(instant: str) -> str:
    return dt.datetime.fromisoformat(instant).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def positions_by_case(application: Application, story: Story) -> dict[str, list[int]]:
    """Where each case's events are in the log, by version: a stage's stamp names its event's."""
    with application.db.read() as conn:
        return {
            name: [e.position for e in EventStore().load_stream(conn, case_id)]
            for name, case_id in story.cases.items()
        }


def test_live_projection_of_a_realistic_history(application: Application, world: World, story: Story) -> None:
    rows = rows_by_case(application, story)
    at = positions_by_case(application, story)  # at[case][version - 1]
    assert {name: (row["stage"], row["version"]) for name, row in rows.items()} == {
        "A": ("designated", 5),
        "B": ("rejected", 5),
        "C": ("designated", 7),
        "D": ("withdrawn", 2),
        "E": ("coordinated", 2),
        "F": ("proposed", 1),
        "G": ("withdrawn", 3),
        "B2": ("proposed", 1),
        "D2": ("proposed", 1),
    }

    a = rows["A"]
    assert (
        a["village_code"],
        a["village_name"],
        a["district_name"],
        a["regency_name"],
        a["province_name"],
    ) == (
        TUGU_SELATAN,
        "Tugu Selatan",
        "Cisarua",
        "Kabupaten Bogor",
        "Jawa Barat",
    )
    assert (a["office_code"], a["region_code"], a["proposed_year"]) == ("BOGOR", "JABAR", 2024)
    assert a["proposed"] == {
        "at": stamp("2024-01-15T02:00:00"),
        "by": by(world, "officer"),
        "position": at["A"][0],
    }
    assert a["coordinated"] == {
        "at": stamp("2024-02-19T09:00:00"),
        "by": by(world, "section_head"),
        "position": at["A"][1],
        "held_on": "2024-02-19",
        "venue": "Aula Kantor Imigrasi Bogor",
        "agencies": ["Pengadilan Negeri Cibinong", "Polres Bogor", "Kodim 0621"],
        "minutes_ref": "UND-0219",
        "notes": None,
        "documents": [],
    }
    assert a["socialized"] == {
        "at": stamp("2024-02-21T09:00:00"),
        "by": by(world, "section_head"),
        "position": at["A"][2],
        "held_on": "2024-02-21",
        "speakers": ["BP3MI"],
        "attendees": 85,
        "topics": ["TPPO"],
        "documents": [],
    }
    assert a["assessed"]["by"] == by(world, "section_head")
    assert a["assessed"]["position"] == at["A"][3]
    assert a["designated"] == {
        "at": stamp("2024-04-16T09:00:00"),
        "by": by(world, "head"),
        "position": at["A"][4],
        "decree_number": "W11.IMI.IMI.4-UM.01.01-0416",
        "decree_date": "2024-04-16",
        "fostering_officers": ["Rina Marlina"],
        "documents": [],
    }
    assert (a["closed"], a["returned"], a["updated_at"]) == (None, None, stamp("2024-04-16T09:00:00"))
    assert a["indicators"] == {
        "migrant_workers": 412,
        "prospective_migrant_workers": 160,
        "trafficking_cases": 3,
        "border_area": False,
    }

    b = rows["B"]
    assert b["assessed"]["meets_criteria"] is False
    assert b["closed"] == {
        "at": stamp("2024-03-25T09:00:00"),
        "by": by(world, "head"),
        "position": at["B"][4],
        "outcome": "rejected",
        "reason": "Tidak memenuhi kriteria.",
    }
    assert b["designated"] is None

    c = rows["C"]
    assert c["proposed"]["by"] == by(world, "section_head")
    first_assessment = {
        "at": stamp("2024-03-20T09:00:00"),
        "by": by(world, "section_head"),
        "position": at["C"][3],
        "assessed_on": "2024-03-20",
        "score": 86,
        "meets_criteria": True,
        "criteria": {"migrant_worker_base": True},
        "notes": None,
        "documents": [],
    }
    # The return keeps the assessment it sent back; the new one replaces it.
    assert c["returned"] == {
        "at": stamp("2024-03-25T09:00:00"),
        "by": by(world, "head"),
        "position": at["C"][4],
        "reason": "Penilaian ulang diperlukan.",
        "assessment": first_assessment,
    }
    assert c["assessed"] == {
        **first_assessment,
        "at": stamp("2024-04-02T09:00:00"),
        "by": by(world, "head"),
        "position": at["C"][5],
        "assessed_on": "2024-04-02",
        "score": 78,
    }
    assert (c["designated"]["by"], c["designated"]["position"]) == (by(world, "acting_head"), at["C"][6])

    assert rows["D"]["closed"] == {
        "at": stamp("2024-03-20T09:00:00"),
        "by": by(world, "section_head"),
        "position": at["D"][1],
        "outcome": "withdrawn",
        "reason": "Data tidak terkonfirmasi.",
    }
    assert rows["E"]["coordinated"]["by"] == by(world, "section_head")
    assert (rows["E"]["socialized"], rows["E"]["closed"]) == (None, None)
    g = rows["G"]
    assert (g["office_code"], g["region_code"], g["village_name"]) == ("SUKABUMI", "JABAR", "Tonjong")
    assert g["coordinated"]["by"] == by(world, "sukabumi_head")
    assert g["closed"]["by"] == by(world, "sukabumi_head")
    assert rows["B2"]["proposed"] == {
        "at": stamp("2024-03-25T09:00:00"),
        "by": by(world, "section_head"),
        "position": at["B2"][0],
    }
    assert rows["D2"]["proposed"]["by"] == by(world, "head")
    assert rows["B2"]["village_code"] == rows["B"]["village_code"] == CITEKO


def test_each_row_is_where_its_stream_ends(application: Application, story: Story) -> None:
    store = EventStore()
    rows = rows_by_case(application, story)
    with application.db.read() as conn:
        for name, case_id in story.cases.items():
            stream = store.load_stream(conn, case_id)
            row = rows[name]
            assert (row["version"], row["last_position"], row["updated_at"]) == (
                stream[-1].version,
                stream[-1].position,
                stream[-1].recorded_at,
            ), name
            assert row["proposed_position"] == stream[0].position
        assert len(conn.execute(select(candidacies.c.id)).all()) == len(story.cases)
        assert store.verify(conn).ok


def test_each_row_is_its_stream_folded(application: Application, story: Story) -> None:
    """The row the live projection left, event after event, is the case's stream folded from the
    start, for every case of the story (returned, re-assessed, closed, designated)."""
    store = EventStore()
    rows = rows_by_case(application, story)
    with application.db.read() as conn:
        for name, case_id in story.cases.items():
            folded = None
            for recorded in store.load_stream(conn, case_id):
                folded = folds.apply_to_candidacy_row(folded, recorded)
            assert folded == rows[name], name


class BatchedStore(EventStore):
    """Replays in small batches, so that a case's events fall into different batches."""

    def __init__(self, batch_size: int) -> None:
        super().__init__()
        self.batch_size = batch_size

    def iterate_by_stream(self, conn: Connection, *, batch_size: int = 0) -> Any:
        return super().iterate_by_stream(conn, batch_size=self.batch_size)


@pytest.mark.parametrize("batch_size", [1, 2, 7, 5000])
def test_rebuild_gives_exactly_the_live_tables(
    application: Application, story: Story, batch_size: int
) -> None:
    with application.db.read() as conn:
        live = read_model_snapshot(conn)
        total = EventStore().count(conn)
    assert len(live["candidacies"]) == len(story.cases)

    with application.db.write() as conn:
        replayed = rebuild.rebuild(conn, BatchedStore(batch_size))
    assert replayed == total
    with application.db.read() as conn:
        assert read_model_snapshot(conn) == live


def test_rebuild_repairs_damaged_tables(application: Application, story: Story) -> None:
    with application.db.read() as conn:
        live = read_model_snapshot(conn)

    # Lost and wrong rows, as after a bad deploy or a manual fix gone wrong.
    with application.db.write() as conn:
        conn.execute(delete(candidacies).where(candidacies.c.id == story.cases["A"]))
        conn.execute(
            update(candidacies)
            .where(candidacies.c.id == story.cases["E"])
            .values(stage="socialized", version=9, coordinated=None)
        )
    with application.db.read() as conn:
        assert read_model_snapshot(conn) != live

    with application.db.write() as conn:
        rebuild.rebuild(conn, EventStore())
    with application.db.read() as conn:
        assert read_model_snapshot(conn) == live


def test_rebuild_from_an_empty_table(application: Application, story: Story) -> None:
    with application.db.read() as conn:
        live = read_model_snapshot(conn)
    with application.db.write() as conn:
        conn.execute(delete(candidacies))
        rebuild.rebuild(conn, EventStore())
    with application.db.read() as conn:
        assert read_model_snapshot(conn) == live


def test_a_failed_rebuild_leaves_the_tables_as_they_were(application: Application, story: Story) -> None:
    """Rebuild runs in the caller's transaction: it empties the tables only if it can fill them again."""
    with application.db.read() as conn:
        live = read_model_snapshot(conn)

    class Failing(EventStore):
        def iterate_by_stream(self, conn: Connection, *, batch_size: int = 0) -> Any:
            yield from super().iterate_by_stream(conn, batch_size=4)
            raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError), application.db.write() as conn:
        rebuild.rebuild(conn, Failing())
    with application.db.read() as conn:
        assert read_model_snapshot(conn) == live


def test_projection_skips_events_of_other_streams(application: Application, story: Story) -> None:
    with application.db.read() as conn:
        live = read_model_snapshot(conn)
        [last] = EventStore().read_all(conn, after=EventStore().count(conn) - 1)
    foreign = replace(last, stream_type="target", stream_id="BOGOR-2024")
    with application.db.write() as conn:
        projections.project(conn, [foreign])
    with application.db.read() as conn:
        assert read_model_snapshot(conn) == live


# ---- one held candidacy per village, in the database -----------------------------------------------


def _copy_of(application: Application, case_id: str, **changes: Any) -> dict[str, Any]:
    with application.db.read() as conn:
        row = dict(conn.execute(select(candidacies).where(candidacies.c.id == case_id)).mappings().one())
    return {**row, "id": str(uuid.uuid4()), "proposed_position": 10_000, **changes}


@pytest.mark.parametrize(("holder", "stage"), [("E", "proposed"), ("E", "assessed"), ("A", "proposed")])
def test_second_held_row_for_a_village_is_refused(
    application: Application, story: Story, holder: str, stage: str
) -> None:
    row = _copy_of(application, story.cases[holder], stage=stage)
    refused = pytest.raises(IntegrityError, match=r"village_code|uq_candidacies_village_held")
    with refused, application.db.write() as conn:
        conn.execute(insert(candidacies).values(**row))
    with application.db.read() as conn:
        held = conn.execute(
            select(candidacies.c.id).where(candidacies.c.village_code == row["village_code"])
        ).all()
    assert len(held) == 1


@pytest.mark.parametrize("stage", ["rejected", "withdrawn"])
def test_closed_rows_do_not_hold_the_village(application: Application, story: Story, stage: str) -> None:
    row = _copy_of(application, story.cases["E"], stage=stage)
    with application.db.write() as conn:
        conn.execute(insert(candidacies).values(**row))
    with application.db.read() as conn:
        count = len(conn.execute(select(candidacies.c.id).where(candidacies.c.village_code == KOPO)).all())
    assert count == 2


@pytest.mark.parametrize(
    ("village", "rule"), [(KOPO, "duplicate_candidacy"), (TUGU_SELATAN, "village_designated")]
)
def test_held_village_cannot_be_proposed_again(
    application: Application, story: Story, village: str, rule: str
) -> None:
    with application.db.read() as conn:
        before = EventStore().count(conn)
    with pytest.raises(RuleBroken) as refused:
        story.propose("again", "section_head", village)
    assert refused.value.rule == rule
    with application.db.read() as conn:
        assert EventStore().count(conn) == before


def test_database_backstop_when_the_rule_is_not_checked(
    application: Application, story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the lookup of the village's holder wrong, the index still refuses, and the proposal's
    event goes with the failed projection: log and read model never disagree."""
    monkeypatch.setattr(cases, "stage_holding_village", lambda conn, code: None)
    with application.db.read() as conn:
        before = read_model_snapshot(conn)
        head = EventStore().head(conn)
    with pytest.raises(RuleBroken) as refused:
        story.propose("again", "section_head", KOPO)
    assert refused.value.rule == "duplicate_candidacy"
    with application.db.read() as conn:
        assert EventStore().head(conn) == head
        assert read_model_snapshot(conn) == before


def test_proposal_after_a_closed_candidacy_is_a_new_case(application: Application, story: Story) -> None:
    rows = rows_by_case(application, story)
    assert rows["B2"]["id"] != rows["B"]["id"]
    assert rows["B2"]["proposed_position"] > rows["B"]["last_position"]
    # And a third one, after the second is withdrawn.
    story.at("2024-05-01T09:00:00Z")
    story.act("B2", "head", Withdraw(reason="Diganti usulan baru."))
    third = story.propose("B3", "officer", CITEKO)
    rows = rows_by_case(application, story)
    assert (rows["B2"]["stage"], rows["B3"]["stage"], rows["B3"]["id"]) == ("withdrawn", "proposed", third)
