"""Reports as of any past day, on both databases: forty simulated days of proposals, steps, decrees,
rejections, returns, withdrawals and target changes across a year's end. Each evening's report is
kept; afterwards, asking "as of" that day must give the very same answer, and the register must be
what it was that evening plus later rows only."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from domain.actors import Role
from domain.calendar import SYSTEM_TIMEZONE
from service.application import Application
from tests.conftest import FakeClock
from tests.e2e.conftest import API, Api
from tests.e2e.dated import (
    PERFORMANCE,
    Desk,
    add_user,
    at,
    office_row,
    parse_csv,
    register,
    report,
    start,
    target_set,
)

SEED = 20231205
FIRST_DAY = dt.date(2023, 12, 5)
DAYS = 40
YEARS = (2023, 2024)
LIVE = ("proposed", "coordinated", "socialized", "assessed")


@dataclass(frozen=True)
class Staff:
    proposers: tuple[str, ...]
    section_head: str
    heads: tuple[str, ...]
    supervisor: str


STAFF = {
    "BOGOR": Staff(("officer", "section_head"), "section_head", ("head", "acting_head"), "supervisor"),
    "SUKABUMI": Staff(("sukabumi_officer",), "sukabumi_section_head", ("sukabumi_head",), "supervisor"),
    "SURABAYA": Staff(
        ("surabaya_section_head",), "surabaya_section_head", ("surabaya_head",), "jatim_supervisor"
    ),
}


@dataclass
class Case:
    id: str
    office: str
    village: int
    stage: str = "proposed"
    met: bool = True


@dataclass
class Model:
    """What the reports should say, kept by the simulation itself."""

    cases: list[Case] = field(default_factory=list)
    free: dict[str, list[int]] = field(default_factory=dict)
    designated: Counter[tuple[str, int]] = field(default_factory=Counter)
    closed: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    targets: dict[tuple[str, int], int] = field(default_factory=dict)
    done: Counter[str] = field(default_factory=Counter)

    def live(self) -> list[Case]:
        return [c for c in self.cases if c.stage in LIVE]


class Simulation:
    def __init__(self, api: Api, clock: FakeClock) -> None:
        self.api = api
        self.clock = clock
        self.desk = Desk(api, clock)
        self.rng = random.Random(SEED)
        self.model = Model(free={office: list(range(1, 200)) for office in STAFF})

    def tick(self, day: dt.date) -> None:
        """A little later the same day (WIB), never past its last minute."""
        last = dt.datetime.combine(day, dt.time(23, 59), SYSTEM_TIMEZONE)
        self.clock.now = min(self.clock.now + dt.timedelta(minutes=self.rng.randint(1, 150)), last)

    def propose(self, day: dt.date) -> None:
        office = self.rng.choice(list(STAFF))
        free = self.model.free[office]
        number = free.pop(self.rng.randrange(len(free)))
        proposer = self.rng.choice(STAFF[office].proposers)
        case = self.desk.propose(proposer, office, number)
        assert case["stage"] == "proposed"
        self.model.cases.append(Case(case["id"], office, number))
        self.model.done["propose"] += 1

    def advance(self, day: dt.date) -> None:
        live = self.model.live()
        if not live:
            return self.propose(day)
        case = self.rng.choice(live)
        staff = STAFF[case.office]
        head = self.rng.choice(staff.heads)
        roll = self.rng.random()
        if roll < 0.08:
            action, who = "withdraw", self.rng.choice([staff.section_head, head])
        elif case.stage == "proposed":
            action, who = "coordinate", staff.section_head
        elif case.stage == "coordinated":
            action, who = "socialize", staff.section_head
        elif case.stage == "socialized":
            action, who = "assess", staff.section_head
        elif roll < 0.25:
            action, who = "return", head
        elif roll < 0.4 or not case.met:
            action, who = "reject", head
        else:
            action, who = "designate", head
        changes: dict[str, Any] = {}
        if action == "assess":
            case.met = self.rng.random() < 0.85
            changes["meets_criteria"] = case.met
        body = self.desk.act(who, case.id, action, **changes)
        case.stage = body["stage"]
        self.model.done[action] += 1
        if action == "designate":
            self.model.designated[(case.office, day.year)] += 1
        if action in ("reject", "withdraw"):
            self.model.closed[(case.office, day.year, case.stage)] += 1
            self.model.free[case.office].append(case.village)

    def set_target(self, day: dt.date) -> None:
        office = self.rng.choice(list(STAFF))
        year = self.rng.choice(YEARS)
        target = self.rng.randint(0, 12)
        target_set(
            self.api, STAFF[office].supervisor, office, year, target, f"Surat Kakanwil {day.isoformat()}"
        )
        self.model.targets[(office, year)] = target
        self.model.done["target"] += 1

    def live_a_day(self, day: dt.date) -> None:
        # The first step at five past midnight in Jakarta: still the day before in UTC.
        at(self.clock, day, hour=0, minute=5)
        steps = [self.propose, self.advance, self.set_target]
        for _ in range(self.rng.randint(3, 9)):
            self.rng.choices(steps, weights=[3, 7, 1])[0](day)
            self.tick(day)

    def check_against_model(self, body: dict[str, Any]) -> None:
        year = body["year"]
        for office in STAFF:
            row = office_row(body, office)
            assert row["designated"] == self.model.designated[(office, year)]
            assert row["rejected"] == self.model.closed[(office, year, "rejected")]
            assert row["withdrawn"] == self.model.closed[(office, year, "withdrawn")]
            assert row["target"] == self.model.targets.get((office, year))
            live = Counter(c.stage for c in self.model.live() if c.office == office)
            assert row["pipeline"] == {stage: live[stage] for stage in LIVE}


def without_basis(report_or_row: dict[str, Any]) -> dict[str, Any]:
    """A report or CSV row but for why it is as of its day (asked for, or by default)."""
    return {k: v for k, v in report_or_row.items() if k != "as_of_basis"}


def wib_day(timestamp: str) -> dt.date:
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(SYSTEM_TIMEZONE).date()


def test_every_past_day_reads_as_it_was_that_evening(
    api: Api, application: Application, clock: FakeClock
) -> None:
    add_user(api, application, "sukabumi_section_head", Role.SECTION_HEAD, "SUKABUMI", None)
    add_user(api, application, "surabaya_head", Role.HEAD_OF_OFFICE, "SURABAYA", None)
    # The log opens with the staff's accounts, recorded long before the first day.
    opened = api.get("auditor", f"{API}/ledger").get_json()
    assert opened["position"] > 0 and wib_day(opened["recorded_at"]) < FIRST_DAY
    start(clock, FIRST_DAY, hour=0, minute=0)
    simulation = Simulation(api, clock)
    days = [FIRST_DAY + dt.timedelta(days=n) for n in range(DAYS)]

    kept: dict[tuple[dt.date, int], dict[str, Any]] = {}
    kept_csv: dict[dt.date, list[dict[str, str]]] = {}
    kept_register: dict[dt.date, list[dict[str, Any]]] = {}
    for day in days:
        simulation.live_a_day(day)
        for year in YEARS:
            if year < day.year:
                # A past year reads as it closed, the evening of 31 December; that evening on asking.
                closed = report(api, "auditor", year=year)
                assert (closed["as_of"], closed["as_of_basis"]) == (f"{year}-12-31", "year_end")
                assert without_basis(closed) == without_basis(kept[(dt.date(year, 12, 31), year)])
                body = report(api, "auditor", year=year, as_of=day.isoformat())
            else:
                body = report(api, "auditor", year=year)
                assert (body["as_of"], body["as_of_basis"]) == (day.isoformat(), "today")
            simulation.check_against_model(body)
            kept[(day, year)] = body
        kept_csv[day] = parse_csv(api.get("auditor", PERFORMANCE, year=2024, format="csv"))[1]
        kept_register[day] = register(api, "auditor")

    # The simulation did what it is here for: every kind of step, on many different evenings.
    done = simulation.model.done
    assert done["designate"] >= 5 and done["reject"] >= 2 and done["return"] >= 2, done
    assert done["withdraw"] >= 2 and done["target"] >= 3, done
    assert sum(simulation.model.designated[(o, 2023)] for o in STAFF) >= 1, simulation.model.designated
    assert sum(simulation.model.designated[(o, 2024)] for o in STAFF) >= 1, simulation.model.designated
    for year in YEARS:
        assert len({repr(kept[(day, year)]) for day in days}) > DAYS // 2

    # Now, every past day again.
    for day in days:
        for year in YEARS:
            then = report(api, "auditor", year=year, as_of=day.isoformat())
            assert (then["as_of"], then["as_of_basis"]) == (day.isoformat(), "requested")
            assert without_basis(then) == without_basis(kept[(day, year)]), (day, year)
        _, rows = parse_csv(api.get("auditor", PERFORMANCE, year=2024, as_of=day.isoformat(), format="csv"))
        assert [r["as_of"] for r in rows] == [day.isoformat()] * len(rows)
        assert [without_basis(r) for r in rows] == [without_basis(r) for r in kept_csv[day]], day

    # The register only ever grows: each evening's is today's, cut at that evening.
    final = kept_register[days[-1]]
    assert len(final) == done["designate"]
    for day in days:
        assert [r for r in final if wib_day(r["approved_by"]["at"]) <= day] == kept_register[day], day

    # Before the first day, nothing at all but the accounts.
    empty = report(api, "auditor", year=2024, as_of=(FIRST_DAY - dt.timedelta(days=1)).isoformat())
    assert empty["ledger"] == {"position": opened["position"], "digest": opened["digest"]}
    assert empty["national"]["designated"] == 0
    assert empty["national"]["target"] is None
    assert empty["national"]["pipeline"] == {stage: 0 for stage in LIVE}
