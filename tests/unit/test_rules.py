"""The rules that guard commands: roles, read scope, dates, four eyes, villages and working areas."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from domain import rules
from domain.actors import OFFICE_ROLES, Actor, Person, Role, scope_problem
from domain.calendar import day_of, latest_today
from domain.errors import InvalidInput, NotFound, NotPermitted, RuleBroken, StaleVersion
from domain.lifecycle import Action, Stage
from domain.places import Office, Village, is_village_code, regency_of

# api.md's roles table, written out independently of domain.rules.ACTION_ROLES.
SECTION_HEAD_ACTIONS = {Action.PROPOSE, Action.COORDINATE, Action.SOCIALIZE, Action.ASSESS, Action.WITHDRAW}
ROLE_MAY: dict[Role, set[Action]] = {
    Role.OFFICER: {Action.PROPOSE},
    Role.SECTION_HEAD: SECTION_HEAD_ACTIONS,
    Role.HEAD_OF_OFFICE: SECTION_HEAD_ACTIONS
    | {Action.DESIGNATE, Action.REJECT, Action.RETURN, Action.REVOKE},
    Role.REGIONAL_SUPERVISOR: set(),
    Role.AUDITOR: set(),
    Role.ADMIN: set(),
}

BOGOR = Office("BOGOR", "Kantor Imigrasi Bogor", "JABAR", "Kanwil Jawa Barat", frozenset({"32.01", "32.71"}))
TUGU = Village("32.01.25.2006", "Tugu Selatan")


def actor(role: Role, office: str | None = None, region: str | None = None, username: str = "u") -> Actor:
    return Actor(username, username.title(), role, office, region)


@pytest.mark.parametrize(("role", "action"), list(itertools.product(Role, Action)))
def test_roles_per_action_as_in_the_api(role: Role, action: Action) -> None:
    expected = action in ROLE_MAY[role]
    assert rules.may_perform(role, action) is expected
    someone = actor(role, office="BOGOR" if role in OFFICE_ROLES else None)
    if expected:
        rules.check_may_perform(someone, action)
    else:
        with pytest.raises(NotPermitted) as refused:
            rules.check_may_perform(someone, action)
        assert role.value in refused.value.detail
        assert action.value in refused.value.detail


# ---- read scope -------------------------------------------------------------------------------

OFFICE_STAFF = [actor(role, office="BOGOR") for role in sorted(OFFICE_ROLES)]


@pytest.mark.parametrize("staff", OFFICE_STAFF, ids=lambda a: a.role.value)
def test_office_roles_read_only_their_office(staff: Actor) -> None:
    assert rules.may_read_office(staff, "BOGOR", "JABAR")
    assert not rules.may_read_office(staff, "SUKABUMI", "JABAR")
    assert not rules.may_read_office(staff, "SURABAYA", "JATIM")
    rules.check_may_read_case(staff, "BOGOR", "JABAR", "c-1")
    with pytest.raises(NotFound):
        rules.check_may_read_case(staff, "SUKABUMI", "JABAR", "c-1")


def test_regional_supervisor_reads_only_its_region() -> None:
    supervisor = actor(Role.REGIONAL_SUPERVISOR, region="JABAR")
    assert rules.may_read_office(supervisor, "BOGOR", "JABAR")
    assert rules.may_read_office(supervisor, "SUKABUMI", "JABAR")
    assert not rules.may_read_office(supervisor, "SURABAYA", "JATIM")
    rules.check_may_read_case(supervisor, "SUKABUMI", "JABAR", "c-1")
    with pytest.raises(NotFound):
        rules.check_may_read_case(supervisor, "SURABAYA", "JATIM", "c-1")


def test_auditor_reads_everything() -> None:
    auditor = actor(Role.AUDITOR)
    for office, region in [("BOGOR", "JABAR"), ("SURABAYA", "JATIM")]:
        assert rules.may_read_office(auditor, office, region)
        rules.check_may_read_case(auditor, office, region, "c-1")


def test_admin_reads_no_case_at_all() -> None:
    admin = actor(Role.ADMIN)
    assert not rules.may_read_office(admin, "BOGOR", "JABAR")
    with pytest.raises(NotPermitted):
        rules.check_may_read_cases(admin)
    # Forbidden outright (403), not hidden (404): an admin has no case reads anywhere.
    with pytest.raises(NotPermitted):
        rules.check_may_read_case(admin, "BOGOR", "JABAR", "c-1")


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_every_other_role_reads_cases(role: Role) -> None:
    rules.check_may_read_cases(actor(role))


def test_an_out_of_scope_case_is_not_found_rather_than_forbidden() -> None:
    with pytest.raises(NotFound) as hidden:
        rules.check_may_read_case(actor(Role.OFFICER, office="SUKABUMI"), "BOGOR", "JABAR", "case-42")
    assert not isinstance(hidden.value, NotPermitted)
    assert hidden.value.detail == "no candidacy case-42"


def test_proposes_only_for_own_office() -> None:
    rules.check_proposes_for_own_office(actor(Role.OFFICER, office="BOGOR"), "BOGOR")
    with pytest.raises(NotPermitted):
        rules.check_proposes_for_own_office(actor(Role.OFFICER, office="BOGOR"), "SUKABUMI")


@pytest.mark.parametrize("role", list(Role))
def test_only_admin_manages_accounts(role: Role) -> None:
    if role is Role.ADMIN:
        rules.check_may_manage_accounts(actor(role))
    else:
        with pytest.raises(NotPermitted):
            rules.check_may_manage_accounts(actor(role))


# ---- dates ------------------------------------------------------------------------------------


def utc(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "value", "in_future"),
    [
        ("2024-06-01T14:59:59", "2024-06-01", False),
        ("2024-06-01T14:59:59", "2024-06-02", True),
        ("2024-06-01T15:00:00", "2024-06-02", False),
        ("2024-06-01T15:00:00", "2024-06-03", True),
        ("2024-06-01T00:00:00", "2023-12-31", False),
    ],
)
def test_future_is_measured_in_the_latest_indonesian_zone(now: str, value: str, in_future: bool) -> None:
    date = dt.date.fromisoformat(value)
    if in_future:
        with pytest.raises(InvalidInput) as refused:
            rules.check_not_in_future("held_on", date, utc(now))
        assert list(refused.value.errors) == ["held_on"]
    else:
        rules.check_not_in_future("held_on", date, utc(now))


def test_latest_today_and_system_day() -> None:
    # 15:00 UTC is midnight in WIT (UTC+9) but still 22:00 the day before in WIB (UTC+7).
    assert latest_today(utc("2024-06-01T15:00:00")) == dt.date(2024, 6, 2)
    assert day_of(utc("2024-06-01T15:00:00")) == dt.date(2024, 6, 1)
    assert day_of(utc("2023-12-31T17:00:00")) == dt.date(2024, 1, 1)
    assert day_of(utc("2023-12-31T16:59:59")) == dt.date(2023, 12, 31)


def test_not_before() -> None:
    earlier = dt.date(2024, 2, 19)
    rules.check_not_before("held_on", dt.date(2024, 2, 19), "coordination meeting", earlier)
    rules.check_not_before("held_on", dt.date(2024, 2, 20), "coordination meeting", earlier)
    rules.check_not_before("held_on", dt.date(2000, 1, 1), "coordination meeting", None)
    with pytest.raises(InvalidInput) as refused:
        rules.check_not_before("held_on", dt.date(2024, 2, 18), "coordination meeting", earlier)
    assert list(refused.value.errors) == ["held_on"]
    assert "coordination meeting (2024-02-19)" in refused.value.errors["held_on"][0]


# ---- four eyes --------------------------------------------------------------------------------


def who(username: str | None, user_id: str | None = None) -> Person | None:
    return None if username is None else Person(user_id, username)


@pytest.mark.parametrize(
    ("approver", "proposer", "assessor"),
    [("head", "head", "section_head"), ("head", "officer", "head"), ("head", "head", "head")],
)
def test_four_eyes_refuses_the_proposer_or_the_assessor(approver: str, proposer: str, assessor: str) -> None:
    with pytest.raises(RuleBroken) as refused:
        rules.check_four_eyes(Person(None, approver), Person(None, proposer), who(assessor))
    assert refused.value.rule == "four_eyes"


@pytest.mark.parametrize(
    ("approver", "proposer", "assessor"),
    [
        ("head", "officer", "section_head"),
        # The acting head holds the same role as the head who assessed: people count, not roles.
        ("acting_head", "officer", "head"),
        ("head", "officer", None),
    ],
)
def test_four_eyes_lets_another_person_approve(approver: str, proposer: str, assessor: str | None) -> None:
    rules.check_four_eyes(
        Person("id-" + approver, approver), Person("id-" + proposer, proposer), who(assessor)
    )


def test_four_eyes_knows_a_person_by_id_whatever_their_username() -> None:
    """The head proposed as `kakan.bogor`, was renamed `ruhiyat`, and may still not approve."""
    with pytest.raises(RuleBroken) as refused:
        rules.check_four_eyes(Person("p-1", "ruhiyat"), Person("p-1", "kakan.bogor"), Person("p-2", "kasi"))
    assert refused.value.rule == "four_eyes"
    assert "proposed" in refused.value.detail


def test_four_eyes_knows_a_person_by_username_where_the_log_has_no_id() -> None:
    """Acts recorded before accounts were events carry no id: the username, never reused, decides."""
    with pytest.raises(RuleBroken):
        rules.check_four_eyes(
            Person("p-1", "kakan.bogor"), Person(None, "officer"), Person(None, "kakan.bogor")
        )


# ---- villages and working areas --------------------------------------------------------------


@pytest.mark.parametrize("code", ["32.01.25.2006", "32.71.01.1001", "91.05.03.3001", "11.01.01.2999"])
def test_valid_village_codes(code: str) -> None:
    assert is_village_code(code)
    rules.check_village_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "32.01.25.4006",  # DDDD must start with 1, 2 or 3
        "32.01.25.0006",
        "32.01.25.9006",
        "32-01-25-2006",  # wrong separators
        "32.01.25/2006",
        "32.01.25 2006",
        "3201252006",
        "32.01.25.200",  # too short
        "32.01.2.2006",
        "32.01.25",
        "",
        "32.01.25.20061",  # too long
        " 32.01.25.2006",
        "32.01.25.2006\n",
        "3a.01.25.2006",
        "32.01.\u0662\u0665.2006",  # Arabic-Indic digits are digits to a bare \d, not to an area code
    ],
)
def test_invalid_village_codes(code: str) -> None:
    assert not is_village_code(code)
    with pytest.raises(InvalidInput) as refused:
        rules.check_village_code(code)
    assert list(refused.value.errors) == ["village_code"]


def test_regency_of_a_village() -> None:
    assert regency_of("32.01.25.2006") == "32.01"


@pytest.mark.parametrize(
    ("village_code", "served"),
    [("32.01.25.2006", True), ("32.71.01.1001", True), ("32.02.01.2002", False), ("35.78.01.1001", False)],
)
def test_working_area(village_code: str, served: bool) -> None:
    assert BOGOR.serves(village_code) is served
    if served:
        rules.check_in_working_area(BOGOR, village_code)
    else:
        with pytest.raises(InvalidInput) as refused:
            rules.check_in_working_area(BOGOR, village_code)
        assert list(refused.value.errors) == ["village_code"]
        assert "32.01, 32.71" in refused.value.errors["village_code"][0]


def test_an_office_serving_nothing_serves_no_village() -> None:
    nowhere = Office("NEW", "Kantor Baru", "JABAR", "Kanwil Jawa Barat", frozenset())
    with pytest.raises(InvalidInput) as refused:
        rules.check_in_working_area(nowhere, "32.01.25.2006")
    assert "(regencies none)" in refused.value.errors["village_code"][0]


def test_a_village_nobody_holds_is_free() -> None:
    rules.check_village_free(TUGU, None)


@pytest.mark.parametrize("stage", [Stage.PROPOSED, Stage.COORDINATED, Stage.SOCIALIZED, Stage.ASSESSED])
def test_a_live_candidacy_holds_its_village(stage: Stage) -> None:
    with pytest.raises(RuleBroken) as refused:
        rules.check_village_free(TUGU, stage)
    assert refused.value.rule == "duplicate_candidacy"
    assert stage.value in refused.value.detail


def test_a_designated_village_is_held_for_good() -> None:
    with pytest.raises(RuleBroken) as refused:
        rules.check_village_free(TUGU, Stage.DESIGNATED)
    assert refused.value.rule == "village_designated"


# ---- versions ---------------------------------------------------------------------------------


def test_expected_version() -> None:
    rules.check_expected_version(None, 3)
    rules.check_expected_version(3, 3)
    with pytest.raises(StaleVersion) as stale:
        rules.check_expected_version(2, 3)
    assert (stale.value.expected, stale.value.actual) == (2, 3)


# ---- user scope -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "office", "region", "expected_fields"),
    [
        (Role.OFFICER, "BOGOR", None, set()),
        (Role.SECTION_HEAD, "BOGOR", None, set()),
        (Role.HEAD_OF_OFFICE, "BOGOR", None, set()),
        (Role.REGIONAL_SUPERVISOR, None, "JABAR", set()),
        (Role.AUDITOR, None, None, set()),
        (Role.ADMIN, None, None, set()),
        (Role.OFFICER, None, None, {"office_code"}),
        (Role.HEAD_OF_OFFICE, "", None, {"office_code"}),
        (Role.SECTION_HEAD, "BOGOR", "JABAR", {"region_code"}),
        (Role.REGIONAL_SUPERVISOR, None, None, {"region_code"}),
        (Role.REGIONAL_SUPERVISOR, "BOGOR", "JABAR", {"office_code"}),
        (Role.AUDITOR, "BOGOR", None, {"office_code"}),
        (Role.ADMIN, None, "JABAR", {"region_code"}),
        (Role.AUDITOR, "BOGOR", "JABAR", {"office_code", "region_code"}),
    ],
)
def test_scope_problem(role: Role, office: str | None, region: str | None, expected_fields: set[str]) -> None:
    problems = scope_problem(role, office, region)
    assert set(problems) == expected_fields
    assert all(messages for messages in problems.values())


def test_the_last_active_admin_is_not_deactivated() -> None:
    with pytest.raises(RuleBroken) as refused:
        rules.check_not_last_admin(Role.ADMIN, True, other_active_admins=0)
    assert refused.value.rule == "last_admin"


@pytest.mark.parametrize(
    ("role", "active", "others"),
    [
        (Role.ADMIN, True, 1),  # another admin is left
        (Role.ADMIN, False, 0),  # revoked already: revoking again changes nothing
        (Role.AUDITOR, True, 0),
        (Role.HEAD_OF_OFFICE, True, 0),
    ],
)
def test_anyone_else_may_be_deactivated(role: Role, active: bool, others: int) -> None:
    rules.check_not_last_admin(role, active, other_active_admins=others)
