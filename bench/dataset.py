"""The national data set of the benchmarks: every village of the country a candidacy, through the real code.

Offices and regions come from the area codes: a region (Kanwil) per province, the five newest Papua
provinces folded into the two they were split from (33 regions); offices by groups of consecutive
regencies within a province (about 130). Each village becomes a candidacy, pushed through the lifecycle
in realistic proportions by the domain's own decisions (`domain.candidacy.propose`/`decide`,
`domain.targets.set_target`), which check every rule on the way; the events are written in the order
of their (simulated) time, a transaction of many streams at a time, and projected in that transaction
by `events.projections.project`: the live path, batched.

The log is written in bulk (`BulkWriter`): the very rows `EventStore.append` would write, computed
with the store's own functions (its `RecordedEvent`, `computed_hash` and row encoding, contiguous
positions, the ledger head moved along), a batch inserted at once. That only *generates* logs faster
(the one-million-event log of the rebuild figure); what the benchmarks measure (reads over HTTP,
`events.rebuild.rebuild`) is the product's code.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Connection, insert, update

from domain import candidacy as candidacy_rules
from domain import targets as target_rules
from domain.accounts import AccountDraft
from domain.actors import Actor, Role
from domain.calendar import day_of
from domain.candidacy import Candidacy
from domain.commands import (
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
from domain.criteria import Criterion
from domain.events import CANDIDACY_STREAM, TARGET_STREAM, Event
from domain.lifecycle import STAGES_HOLDING_VILLAGE, Stage
from domain.places import Office, Village
from events import projections
from events.database import Database
from events.schema import events as events_table
from events.schema import ledger_head
from events.store import (
    EventMetadata,
    EventStore,
    RecordedEvent,
    _to_row,  # the store's own row encoding: bulk rows are exactly what `append` writes
    format_timestamp,
)
from events.unit_of_work import UnitOfWork, WriteTransaction
from service import accounts, organisation, registry
from service.config import system_clock

# The newest provinces (Kalimantan Utara, 2012; four of Papua, 2022) are served by the regional office
# of the province they were split from: 33 regions.
REGION_OF_PROVINCE = {"65": "64", "93": "91", "94": "91", "95": "91", "96": "92"}
OFFICES_WANTED = 126
SEED = 20240101

# Final states of the candidacies of the read figures, as shares of all of them.
DESIGNATED, REJECTED, ASSESSED, SOCIALIZED, COORDINATED = 0.10, 0.02, 0.25, 0.40, 0.60
WITHDRAWN_AFTER_COORDINATION, WITHDRAWN_AFTER_PROPOSAL = 0.015, 0.015
RETURNED_OF_ASSESSED = 0.08

# Closed cycles (rejected or withdrawn, then proposed again) that lengthen the log of the rebuild figure.
CLOSED_CYCLES: list[list[str]] = [
    ["propose", "withdraw"],
    ["propose", "coordinate", "withdraw"],
    ["propose", "coordinate", "socialize", "withdraw"],
    ["propose", "coordinate", "socialize", "assess-", "reject"],
    ["propose", "coordinate", "socialize", "assess+", "return", "assess-", "reject"],
]

DAY = 86_400
OFFICE_HOURS_UTC = (1 * 3600, 10 * 3600)  # 08:00 to 17:00 WIB


# ---- the country -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wilayah:
    names: dict[str, str]
    villages: list[str]  # every village code, in file order
    regencies: dict[str, list[str]]  # province -> its regency codes, sorted

    def village(self, code: str) -> Village:
        return Village(
            code=code,
            name=self.names[code],
            district=self.names.get(code[:8]),
            regency=self.names.get(code[:5]),
            province=self.names.get(code[:2]),
        )


def read_wilayah(path: Path) -> Wilayah:
    names: dict[str, str] = {}
    villages: list[str] = []
    regencies: dict[str, list[str]] = defaultdict(list)
    for row in registry.read_areas(path):
        code, level = str(row["code"]), row["level"]
        names[code] = str(row["name"])
        if level == 2:
            regencies[code[:2]].append(code)
        elif level == 4:
            villages.append(code)
    return Wilayah(names, villages, {p: sorted(r) for p, r in regencies.items()})


def plan_offices(wilayah: Wilayah, wanted: int = OFFICES_WANTED) -> list[Office]:
    """About `wanted` offices, each serving a run of consecutive regencies of one province."""
    total = sum(len(r) for r in wilayah.regencies.values())
    offices = []
    for province, regencies in sorted(wilayah.regencies.items()):
        region = REGION_OF_PROVINCE.get(province, province)
        count = max(1, min(len(regencies), round(len(regencies) * wanted / total)))
        for index in range(count):
            served = regencies[index * len(regencies) // count : (index + 1) * len(regencies) // count]
            offices.append(
                Office(
                    code=f"KI{province}{index + 1:02d}",
                    name=f"Kantor Imigrasi {wilayah.names[served[0]]}",
                    region_code=f"KW{region}",
                    region_name=f"Kanwil {wilayah.names[region]}",
                    regencies=frozenset(served),
                )
            )
    return offices


@dataclass
class World:
    """Offices, their staff, regional supervisors, an auditor; the tokens of all of them."""

    offices: list[Office]
    office_of_regency: dict[str, Office]
    staff: dict[str, dict[Role, Actor]]  # office code -> officer, section head, head of office
    supervisors: dict[str, Actor]  # region code -> its regional supervisor
    auditor: Actor
    tokens: dict[str, str] = field(default_factory=dict)  # filled by `issue_tokens`

    def users(self) -> list[Actor]:
        staff = [actor for office in self.staff.values() for actor in office.values()]
        return [*staff, *self.supervisors.values(), self.auditor]


def opening(first_year: int) -> dt.datetime:
    """When the accounts of a data set from `first_year` on are opened: the day before its first
    event. The log's `recorded_at` never goes backwards, so accounts opened later (today, say) would
    pull every event of the data set after them to their time."""
    return dt.datetime(first_year - 1, 12, 31, tzinfo=dt.UTC)


def create_world(db: Database, wilayah: Wilayah, wilayah_path: Path, *, opened_at: dt.datetime) -> World:
    """Offices and users through `service.accounts`, the village registry through its importer, in
    one unit of work of the command line whose clock stands at `opened_at` (`opening`): the users'
    events come first in the log, before any of the data set's. No tokens yet: `issue_tokens`."""

    offices = plan_offices(wilayah)
    staff: dict[str, dict[Role, Actor]] = {}
    supervisors: dict[str, Actor] = {}
    operator = accounts.command_line_actor()

    def add(tx: WriteTransaction, actor: Actor) -> Actor:
        """The actor with the id its account was given."""
        draft = AccountDraft(actor.username, actor.name, actor.role, actor.office_code, actor.region_code)
        return replace(actor, id=accounts.create_user(tx, operator, draft).id)

    with accounts.as_command_line(UnitOfWork(db, lambda: opened_at), "bench-world") as tx:
        registry.import_areas(tx.conn, wilayah_path)
        for office in offices:
            organisation.import_office(tx, accounts.command_line_actor(), office)
        for office in offices:
            lower = office.code.lower()
            staff[office.code] = {
                role: add(tx, Actor(f"{lower}_{role.value}", f"{label} {office.name}", role, office.code))
                for role, label in (
                    (Role.OFFICER, "PIMPASA"),
                    (Role.SECTION_HEAD, "Kasi Inteldakim"),
                    (Role.HEAD_OF_OFFICE, "Kepala"),
                )
            }
        for office in offices:
            if office.region_code not in supervisors:
                region = office.region_code
                supervisor = Actor(
                    f"{region.lower()}_supervisor",
                    f"Kadiv Imigrasi {office.region_name}",
                    Role.REGIONAL_SUPERVISOR,
                    region_code=region,
                )
                supervisors[region] = add(tx, supervisor)
        auditor = add(tx, Actor("auditor", "Inspektorat Jenderal", Role.AUDITOR))
    office_of_regency = {regency: office for office in offices for regency in office.regencies}
    return World(offices, office_of_regency, staff, supervisors, auditor)


def issue_tokens(db: Database, world: World) -> None:
    """A token for every user of the world, into `world.tokens`: issued now, by the real clock, once
    the data set is written (its events are past: their time is not pulled forward), and living
    `DEFAULT_TOKEN_DAYS` from today, while the benchmark reads with them."""
    operator = accounts.command_line_actor()
    with accounts.as_command_line(UnitOfWork(db, system_clock), "bench-tokens") as tx:
        for actor in world.users():
            world.tokens[actor.username] = accounts.issue_token(tx, operator, actor.username).token


def log_length(db: Database) -> int:
    """How many events the log holds (its positions run on from 1 without a gap)."""
    with db.read() as conn:
        return EventStore().head(conn).position


# ---- the plan: which candidacies, which steps, when ----------------------------------------


@dataclass(slots=True)
class CandidacyPlan:
    id: str
    village_code: str
    office_code: str
    actions: list[str]


@dataclass(slots=True)
class TargetPlan:
    office_code: str
    year: int
    target: int
    basis: str


@dataclass
class Plan:
    candidacies: list[CandidacyPlan]
    targets: list[TargetPlan]
    # (seconds since the epoch, kind 0 candidacy / 1 target, index, step), in the order of time
    timeline: list[tuple[int, int, int, int]]

    @property
    def events(self) -> int:
        return len(self.timeline)

    def final_stages(self) -> Counter[str]:
        return Counter(_FINAL_OF_ACTION[c.actions[-1]] for c in self.candidacies)


_FINAL_OF_ACTION = {
    "propose": "proposed",
    "coordinate": "coordinated",
    "socialize": "socialized",
    "assess+": "assessed",
    "assess-": "assessed",
    "return": "socialized",
    "designate": "designated",
    "reject": "rejected",
    "withdraw": "withdrawn",
}


def lifecycle(rng: random.Random) -> list[str]:
    """One candidacy's steps, drawn so that the shares reaching each stage are the realistic ones."""
    u = rng.random()
    steps = ["propose"]
    if u < COORDINATED:
        steps.append("coordinate")
    if u < SOCIALIZED:
        steps.append("socialize")
    if u < ASSESSED:
        meets = u < DESIGNATED or rng.random() < 0.6
        if rng.random() < RETURNED_OF_ASSESSED:
            steps += ["assess+", "return"]
        steps.append("assess+" if meets else "assess-")
        if u < DESIGNATED:
            steps.append("designate")
        elif u < DESIGNATED + REJECTED:
            steps[-1] = "assess-"
            steps.append("reject")
    elif SOCIALIZED <= u < SOCIALIZED + WITHDRAWN_AFTER_COORDINATION or u > 1 - WITHDRAWN_AFTER_PROPOSAL:
        steps.append("withdraw")
    return steps


def candidacy_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def plan_national(
    world: World,
    wilayah: Wilayah,
    villages: int,
    *,
    events: int | None = None,
    years: tuple[int, int] = (2024, 2024),
    seed: int = SEED,
) -> Plan:
    """`villages` villages of the whole country (a seeded sample), each a candidacy in 2024; with
    `events`, closed cycles (rejected or withdrawn, proposed again) are added until the log holds
    that many events, spread over `years`."""
    rng = random.Random(seed)
    codes = list(wilayah.villages)
    rng.shuffle(codes)
    codes = codes[:villages]
    first_year, last_year = years
    per_village: dict[str, list[list[str]]] = {code: [lifecycle(rng)] for code in codes}
    office_cases = Counter(world.office_of_regency[code[:5]].code for code in codes)
    offices_with_cases = [o for o in world.offices if office_cases[o.code]]
    target_plans = []
    for year in range(first_year, last_year + 1):
        for office in offices_with_cases:
            target = max(1, round(office_cases[office.code] * DESIGNATED * rng.uniform(0.8, 1.4)))
            target_plans.append(TargetPlan(office.code, year, target, f"PK {year} {office.code}"))
            if rng.random() < 0.4:  # revised mid-year
                target_plans.append(
                    TargetPlan(office.code, year, max(0, target + rng.randint(-2, 3)), f"PK {year} revisi")
                )
    count = sum(len(c[0]) for c in per_village.values()) + len(target_plans)
    if events is not None:
        while count < events:
            missing = events - count
            cycle = rng.choice([c for c in CLOSED_CYCLES if len(c) <= missing] or [[]])
            if not cycle:  # one event short: a live proposal is withdrawn
                code = next(c for c in codes if per_village[c][-1] == ["propose"])
                per_village[code][-1] = ["propose", "withdraw"]
                count += 1
                continue
            per_village[rng.choice(codes)].insert(0, list(cycle))
            count += len(cycle)
    candidacies: list[CandidacyPlan] = []
    timeline: list[tuple[int, int, int, int]] = []
    start = int(dt.datetime(first_year, 1, 2, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(last_year, 12, 28, tzinfo=dt.UTC).timestamp())
    gap_days = (7, 30) if events is None else (1, 14)
    for code in codes:
        office = world.office_of_regency[code[:5]].code
        steps: list[tuple[int, int]] = []  # (candidacy index, step)
        for actions in per_village[code]:
            candidacies.append(CandidacyPlan(candidacy_id(rng), code, office, actions))
            steps += [(len(candidacies) - 1, i) for i in range(len(actions))]
        gaps = [rng.randint(*gap_days) * DAY for _ in steps[1:]]
        span = sum(gaps)
        if span > (end - start) * 0.9:  # a long history is squeezed into the period
            gaps = [g * (end - start) * 0.9 // span for g in gaps]
            span = sum(gaps)
        day = start + rng.randrange(0, max(1, end - start - span)) // DAY * DAY
        at = day + rng.randrange(*OFFICE_HOURS_UTC)
        for index, (case, step) in enumerate(steps):
            if index:
                at = max(at + 60, (at + gaps[index - 1]) // DAY * DAY + rng.randrange(*OFFICE_HOURS_UTC))
            timeline.append((at, 0, case, step))
    for index, target in enumerate(target_plans):
        previous = target_plans[index - 1] if index else None
        revision = previous is not None and (previous.office_code, previous.year) == (
            target.office_code,
            target.year,
        )
        month, day_ = (7, 10) if revision else (1, 8)
        instant = dt.datetime(target.year, month, day_, tzinfo=dt.UTC).timestamp()
        timeline.append((int(instant) + rng.randrange(*OFFICE_HOURS_UTC), 1, index, 0))
    timeline.sort()
    return Plan(candidacies, target_plans, timeline)


# ---- the events, decided by the domain in the order of time ----------------------------------


@dataclass(frozen=True, slots=True)
class Decided:
    stream_type: str
    stream_id: str
    expected_version: int
    event: Event
    actor: Actor
    now: dt.datetime


ACTOR_OF_ACTION = {
    "propose": Role.OFFICER,
    "coordinate": Role.SECTION_HEAD,
    "socialize": Role.SECTION_HEAD,
    "assess+": Role.SECTION_HEAD,
    "assess-": Role.SECTION_HEAD,
    "withdraw": Role.SECTION_HEAD,
    "designate": Role.HEAD_OF_OFFICE,
    "reject": Role.HEAD_OF_OFFICE,
    "return": Role.HEAD_OF_OFFICE,
}
AGENCIES = ("Pengadilan Negeri", "Polres", "Kodim", "Kecamatan", "Pemerintah Desa", "BP3MI")
CRITERIA = tuple(criterion.value for criterion in Criterion)


def command_for(action: str, day: dt.date, serial: int, rng: random.Random) -> CaseCommand:
    if action == "coordinate":
        return Coordinate(
            held_on=day,
            venue="Aula Kantor Imigrasi",
            agencies=tuple(rng.sample(AGENCIES, 4)),
            minutes_ref=f"UND-{serial:07d}",
        )
    if action == "socialize":
        return Socialize(held_on=day, speakers=("BP3MI",), attendees=rng.randint(25, 160), topics=("TPPO",))
    if action in ("assess+", "assess-"):
        meets = action == "assess+"
        return Assess(
            assessed_on=day,
            score=rng.randint(70, 98) if meets else rng.randint(30, 69),
            meets_criteria=meets,
            criteria={name: meets or rng.random() < 0.5 for name in CRITERIA},
        )
    if action == "designate":
        return Designate(
            decree_number=f"W.IMI-{day.year}-{serial:07d}",
            decree_date=day,
            fostering_officers=("Petugas PIMPASA",),
        )
    if action == "reject":
        return Reject(reason="Tidak memenuhi kriteria.")
    if action == "return":
        return Return(reason="Penilaian ulang diperlukan.")
    return Withdraw(reason="Data tidak terkonfirmasi.")


def decide_all(world: World, wilayah: Wilayah, plan: Plan, seed: int = SEED) -> Iterator[Decided]:
    """Every event of the plan, as the domain decides it from the state so far, in the order of time."""
    rng = random.Random(seed + 1)
    offices = {o.code: o for o in world.offices}
    states: dict[int, Candidacy] = {}
    holding: dict[str, Stage] = {}  # village -> the stage of the candidacy holding it
    target_versions: Counter[str] = Counter()
    for serial, (seconds, kind, index, step) in enumerate(plan.timeline):
        now = dt.datetime.fromtimestamp(seconds, dt.UTC)
        if kind == 1:
            target = plan.targets[index]
            office = offices[target.office_code]
            supervisor = world.supervisors[office.region_code]
            event = target_rules.set_target(supervisor, office, target.year, target.target, target.basis, now)
            stream = target_rules.target_stream_id(office.code, target.year)
            yield Decided(TARGET_STREAM, stream, target_versions[stream], event, supervisor, now)
            target_versions[stream] += 1
            continue
        case = plan.candidacies[index]
        action = case.actions[step]
        actor = world.staff[case.office_code][ACTOR_OF_ACTION[action]]
        if action == "propose":
            command = ProposeCandidacy(
                village_code=case.village_code,
                office_code=case.office_code,
                rationale="Kantong PMI; rawan TPPO.",
                indicators=Indicators(
                    migrant_workers=rng.randint(0, 900),
                    prospective_migrant_workers=rng.randint(0, 300),
                    trafficking_cases=rng.randint(0, 4),
                    border_area=rng.random() < 0.1,
                ),
            )
            event = candidacy_rules.propose(
                command,
                actor,
                candidacy_id=case.id,
                office=offices[case.office_code],
                registry_village=wilayah.village(case.village_code),
                registry_loaded=True,
                holding_stage=holding.get(case.village_code),
                now=now,
            )
            expected, state = 0, Candidacy.started_by(event, actor.person)
        else:
            before = states[index]
            command_ = command_for(action, day_of(now), serial, rng)
            event = candidacy_rules.decide(before, command_, actor, now=now)
            expected, state = before.version, before.apply(event, actor.person)
        if state.stage in STAGES_HOLDING_VILLAGE:
            holding[case.village_code] = state.stage
            states[index] = state
        else:
            holding.pop(case.village_code, None)
            states.pop(index, None)
        yield Decided(CANDIDACY_STREAM, case.id, expected, event, actor, now)


# ---- writing the log -------------------------------------------------------------------------


class BulkWriter:
    """The rows `EventStore.append` would write, computed with the store's own functions and inserted
    a batch at a time: contiguous positions, each hash chained to the one before, the head moved.
    For generating large logs only; the domain decided every event all the same."""

    def __init__(self) -> None:
        self.store = EventStore()

    def write(self, conn: Connection, batch: list[Decided], first_serial: int) -> list[RecordedEvent]:
        head = self.store.head(conn)
        position, prev_hash, recorded_at = head.position, head.hash, head.recorded_at
        recorded: list[RecordedEvent] = []
        for serial, item in enumerate(batch, start=first_serial):
            position += 1
            recorded_at = max(format_timestamp(item.now), recorded_at)
            event = RecordedEvent.first_recorded(
                item.event,
                position,
                item.stream_type,
                item.stream_id,
                item.expected_version + 1,
                EventMetadata.of(item.actor, f"bench-{serial:08d}"),
                recorded_at,
                prev_hash,
            )
            prev_hash = event.hash
            recorded.append(event)
        conn.execute(insert(events_table), [_to_row(r) for r in recorded])
        conn.execute(
            update(ledger_head)
            .where(ledger_head.c.id == 1)
            .values(position=position, hash=prev_hash, recorded_at=recorded_at)
        )
        return recorded


def write_log(
    db: Database, decided: Iterable[Decided], *, batch_size: int = 2000, project: bool = True
) -> int:
    """Write the events a transaction of `batch_size` at a time, each projected in its transaction."""
    writer = BulkWriter()
    written = 0
    batch: list[Decided] = []

    def flush() -> None:
        nonlocal written
        with db.write() as conn:
            recorded = writer.write(conn, batch, written)
            if project:
                projections.project(conn, recorded)
        written += len(batch)
        batch.clear()

    for item in decided:
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return written
