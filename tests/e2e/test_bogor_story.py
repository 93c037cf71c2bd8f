"""The February 2024 Bogor story of mission.md, told over HTTP exactly as api.md says, on both databases."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import FakeClock, World, by
from tests.e2e.conftest import API, CASES, assert_problem

TUGU_SELATAN = "32.01.25.2006"
AGENCIES = ["Pengadilan Negeri Cibinong", "Polres Bogor", "Kodim 0621"]
DECREE = "W11.IMI.IMI.4-UM.01.01-0416 Tahun 2024"


def post(client: FlaskClient, world: World, username: str, path: str, body: dict[str, Any], **headers: str):
    response = client.post(path, json=body, headers=world.headers(username, **headers))
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response


@pytest.mark.usefixtures("registry")
def test_tugu_selatan_from_proposal_to_decree(client: FlaskClient, world: World, clock: FakeClock) -> None:
    # The log holds the accounts of the office's staff, and nothing else yet.
    opened = client.get(f"{API}/ledger", headers=world.headers("auditor")).get_json()
    start = opened["position"]

    # 12 February: the PIMPASA officer proposes the village.
    clock.set("2024-02-12T02:00:00Z")
    proposed = post(
        client,
        world,
        "officer",
        CASES,
        {
            "village_code": TUGU_SELATAN,
            "office_code": "BOGOR",
            "rationale": "Kantong PMI di Cisarua; tiga kasus TPPO pada 2023.",
            "indicators": {
                "migrant_workers": 412,
                "prospective_migrant_workers": 160,
                "trafficking_cases": 3,
                "border_area": False,
            },
        },
    )
    assert proposed.status_code == 201
    case_id = proposed.get_json()["id"]
    location = proposed.headers["Location"]
    assert location == f"{CASES}/{case_id}"
    etag = proposed.headers["ETag"]
    assert etag == '"1"'

    # 19 February: the coordination meeting, moderated by the Kasi Inteldakim.
    clock.set("2024-02-19T07:00:00Z")
    coordinated = post(
        client,
        world,
        "section_head",
        f"{location}/coordinate",
        {
            "held_on": "2024-02-19",
            "venue": "Aula Kantor Imigrasi Kelas I Non TPI Bogor",
            "agencies": AGENCIES,
            "minutes_ref": "W11.IMI.IMI.4-UM.01.01-0219",
            "notes": "Dimoderatori Kasi Inteldakim; hadir perwakilan kecamatan dan desa.",
        },
        **{"If-Match": etag, "Idempotency-Key": "rakor-2024-02-19"},
    )
    etag = coordinated.headers["ETag"]
    assert etag == '"2"'

    # 21 February: the socialization session, BP3MI as speaker.
    clock.set("2024-02-21T08:00:00Z")
    socialized = post(
        client,
        world,
        "section_head",
        f"{location}/socialize",
        {
            "held_on": "2024-02-21",
            "speakers": ["BP3MI Jawa Barat"],
            "attendees": 85,
            "topics": ["Bahaya TPPO", "Penempatan PMI yang aman"],
        },
        **{"If-Match": etag},
    )
    etag = socialized.headers["ETag"]

    # The village is assessed and meets the criteria.
    clock.set("2024-03-20T04:00:00Z")
    assessed = post(
        client,
        world,
        "section_head",
        f"{location}/assess",
        {
            "assessed_on": "2024-03-20",
            "score": 86,
            "meets_criteria": True,
            "criteria": {
                "migrant_worker_base": True,
                "trafficking_vulnerability": True,
                "village_commitment": True,
            },
        },
        **{"If-Match": etag},
    )
    etag = assessed.headers["ETag"]
    assert assessed.get_json()["allowed_actions"] == ["withdraw"]
    assert client.get(location, headers=world.headers("head")).get_json()["allowed_actions"] == [
        "designate",
        "reject",
        "return",
        "withdraw",
    ]

    # The Head of Office designates it by decree.
    clock.set("2024-04-16T03:00:00Z")
    designated = post(
        client,
        world,
        "head",
        f"{location}/designate",
        {
            "decree_number": DECREE,
            "decree_date": "2024-04-16",
            "fostering_officers": ["Officer", "Section Head"],
        },
        **{"If-Match": etag},
    )
    assert designated.headers["ETag"] == '"5"'

    # The case as an auditor reads it afterwards.
    response = client.get(location, headers=world.headers("auditor"))
    assert response.status_code == 200
    assert response.headers["ETag"] == '"5"'
    case = response.get_json()
    assert case["id"] == case_id
    assert case["stage"] == "designated"
    assert case["version"] == 5
    assert case["village"] == {
        "code": TUGU_SELATAN,
        "name": "Tugu Selatan",
        "district": "Cisarua",
        "regency": "Kabupaten Bogor",
        "province": "Jawa Barat",
    }
    assert (case["office_code"], case["region_code"]) == ("BOGOR", "JABAR")
    assert case["allowed_actions"] == []
    stages = ("proposed", "coordinated", "socialized", "assessed", "designated")
    who = {s: (case[s]["by"]["username"], case[s]["by"]["role"], case[s]["at"]) for s in stages}
    assert who == {
        "proposed": ("officer", "officer", "2024-02-12T02:00:00.000000Z"),
        "coordinated": ("section_head", "section_head", "2024-02-19T07:00:00.000000Z"),
        "socialized": ("section_head", "section_head", "2024-02-21T08:00:00.000000Z"),
        "assessed": ("section_head", "section_head", "2024-03-20T04:00:00.000000Z"),
        "designated": ("head", "head_of_office", "2024-04-16T03:00:00.000000Z"),
    }
    signers = ["officer", "section_head", "section_head", "section_head", "head"]
    assert [case[s]["by"] for s in stages] == [by(world.actors[u]) for u in signers]
    # Each stage names the event that recorded it: the story's five, right after the accounts.
    assert [case[s]["position"] for s in stages] == [start + 1, start + 2, start + 3, start + 4, start + 5]
    assert case["coordinated"]["agencies"] == AGENCIES
    assert case["coordinated"]["held_on"] == "2024-02-19"
    assert case["socialized"]["speakers"] == ["BP3MI Jawa Barat"]
    assert case["socialized"]["held_on"] == "2024-02-21"
    assert case["assessed"]["meets_criteria"] is True
    assert case["designated"]["decree_number"] == DECREE
    assert case["designated"]["decree_date"] == "2024-04-16"
    assert case["closed"] is None
    assert case["proposed_year"] == 2024
    assert case["updated_at"] == "2024-04-16T03:00:00.000000Z"
    # The head of the office sees the same case; all that is left to decide on it is a revocation.
    head_view = client.get(location, headers=world.headers("head")).get_json()
    assert head_view == {**case, "allowed_actions": ["revoke"]}

    # Its history: five events, chained one to the next.
    events = client.get(f"{location}/events", headers=world.headers("auditor")).get_json()["items"]
    assert [e["type"] for e in events] == [
        "CandidacyProposed",
        "CandidacyCoordinated",
        "CandidacySocialized",
        "CandidacyAssessed",
        "CandidacyDesignated",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["position"] for e in events] == [case[s]["position"] for s in stages]
    assert [e["actor"]["username"] for e in events] == [
        "officer",
        "section_head",
        "section_head",
        "section_head",
        "head",
    ]
    assert [e["actor"]["id"] for e in events] == [world.actors[u].id for u in signers]
    assert events[0]["prev_hash"] == opened["digest"]  # chained to the newest account event
    for previous, event in pairwise(events):
        assert event["prev_hash"] == previous["hash"]
    assert len({e["hash"] for e in events}) == 5
    assert [e["recorded_at"][:10] for e in events] == [
        "2024-02-12",
        "2024-02-19",
        "2024-02-21",
        "2024-03-20",
        "2024-04-16",
    ]
    assert events[1]["data"]["agencies"] == AGENCIES
    assert events[4]["data"]["decree_number"] == DECREE

    # It is listed as designated, for its office and its region.
    for username in ("officer", "supervisor", "auditor"):
        listed = client.get(CASES, query_string={"stage": "designated"}, headers=world.headers(username))
        assert [c["id"] for c in listed.get_json()["items"]] == [case_id]

    # Nobody can propose Tugu Selatan again.
    clock.set("2024-05-02T02:00:00Z")
    again = client.post(
        CASES,
        json={
            "village_code": TUGU_SELATAN,
            "office_code": "BOGOR",
            "rationale": "Usulan ulang.",
            "indicators": {
                "migrant_workers": 1,
                "prospective_migrant_workers": 1,
                "trafficking_cases": 0,
                "border_area": False,
            },
        },
        headers=world.headers("officer"),
    )
    problem = assert_problem(again, 409)
    assert "designated" in problem["detail"]
    assert len(client.get(f"{location}/events", headers=world.headers("auditor")).get_json()["items"]) == 5
