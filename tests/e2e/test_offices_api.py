"""`/api/v1/offices`, the open endpoints, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from service.application import Application
from tests.conftest import OFFICES as WORLD_OFFICES
from tests.conftest import USERS
from tests.e2e.conftest import API, Api, assert_problem, snapshot

OFFICES = f"{API}/offices"
DEPOK = {
    "code": "DEPOK",
    "name": "Kantor Imigrasi Kelas II Non TPI Depok",
    "region_code": "JABAR",
    "region_name": "Kanwil Jawa Barat",
    "regencies": ["32.76", "32.03"],
}
ACTIONS = ["coordinate", "socialize", "assess", "designate", "reject", "return", "withdraw"]

# Every regency these tests name is in the village registry, as it is once `db upgrade` has run.
pytestmark = pytest.mark.usefixtures("registry")


def without_code(office: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in office.items() if k != "code"}


def without_region_name(office: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in office.items() if k != "region_name"}


def test_every_signed_in_user_lists_the_offices(api: Api, subtests: pytest.Subtests) -> None:
    for username in sorted(USERS):
        with subtests.test(username=username):
            response = api.get(username, OFFICES)
            assert response.status_code == 200
            assert response.get_json()["next_cursor"] is None
            offices = response.get_json()["items"]
            assert [o["code"] for o in offices] == sorted(o.code for o in WORLD_OFFICES)
            bogor = next(o for o in offices if o["code"] == "BOGOR")
            assert bogor == {
                "code": "BOGOR",
                "name": "Kantor Imigrasi Kelas I Non TPI Bogor",
                "unit_type": "kanim",
                "region_code": "JABAR",
                "region_name": "Kanwil Jawa Barat",
                "regencies": ["32.01", "32.71"],
                "active": True,
            }


def test_offices_are_paged_by_code(api: Api) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = api.get("officer", OFFICES, **params).get_json()
        assert len(page["items"]) <= 2
        seen += [o["code"] for o in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == sorted(o.code for o in WORLD_OFFICES)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"cursor": "bm9wZQ"}, {"cursor": "cDox"}])
def test_bad_office_paging_is_422(api: Api, params: dict[str, Any]) -> None:
    response = api.get("officer", OFFICES, **params)
    assert_problem(response, 422)
    assert set(response.get_json()["errors"]) <= {"limit", "cursor"}


def test_listing_offices_needs_a_token(client: FlaskClient) -> None:
    response = client.get(OFFICES)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_admin_adds_an_office(api: Api, client: FlaskClient) -> None:
    response = client.post(OFFICES, json=DEPOK, headers=api.world.headers("admin"))
    assert response.status_code == 201
    assert response.headers["Location"] == f"{OFFICES}/DEPOK"
    # Regencies come back sorted: a set, whatever order it was sent in.
    assert response.get_json() == {
        **DEPOK,
        "regencies": ["32.03", "32.76"],
        "unit_type": "kanim",
        "active": True,
    }

    again = api.get("officer", response.headers["Location"])
    assert again.status_code == 200
    assert again.get_json() == response.get_json()
    assert "DEPOK" in [o["code"] for o in api.get("auditor", OFFICES).get_json()["items"]]


def test_an_office_of_an_existing_region_takes_the_regions_name(api: Api, client: FlaskClient) -> None:
    response = client.post(OFFICES, json=without_region_name(DEPOK), headers=api.world.headers("admin"))
    assert response.status_code == 201
    assert response.get_json()["region_name"] == "Kanwil Jawa Barat"


def test_a_new_region_needs_a_name(api: Api, client: FlaskClient, application: Application) -> None:
    before = snapshot(application)
    body = {**without_region_name(DEPOK), "region_code": "JABAR2"}
    problem = assert_problem(client.post(OFFICES, json=body, headers=api.world.headers("admin")), 422)
    assert list(problem["errors"]) == ["region_name"]
    assert "JABAR2" in problem["errors"]["region_name"][0]
    put = client.put(
        f"{OFFICES}/SURABAYA",
        json={**without_code(body), "regencies": ["35.78"]},
        headers=api.world.headers("admin"),
    )
    assert list(assert_problem(put, 422)["errors"]) == ["region_name"]
    assert snapshot(application) == before

    named = client.post(
        OFFICES, json={**body, "region_name": "Kanwil Dua"}, headers=api.world.headers("admin")
    )
    assert named.status_code == 201
    assert named.get_json()["region_name"] == "Kanwil Dua"


def test_another_name_for_an_existing_region_is_422(
    api: Api, client: FlaskClient, application: Application
) -> None:
    before = snapshot(application)
    renamed = {**DEPOK, "region_name": "Kanwil Jabar"}
    problem = assert_problem(client.post(OFFICES, json=renamed, headers=api.world.headers("admin")), 422)
    assert list(problem["errors"]) == ["region_name"]
    assert "'Kanwil Jawa Barat'" in problem["errors"]["region_name"][0]
    # Also for the region's only office: that would rename the region.
    surabaya = {**without_code(renamed), "region_code": "JATIM", "regencies": ["35.78"]}
    put = client.put(f"{OFFICES}/SURABAYA", json=surabaya, headers=api.world.headers("admin"))
    assert "'Kanwil Jawa Timur'" in assert_problem(put, 422, "region_name")["errors"]["region_name"][0]
    assert snapshot(application) == before


def test_regencies_unknown_to_the_registry_are_422_naming_them(
    api: Api, client: FlaskClient, application: Application
) -> None:
    before = snapshot(application)
    headers = api.world.headers("admin")
    body = {**DEPOK, "regencies": ["32.76", "32.99", "99.01"]}
    problem = assert_problem(client.post(OFFICES, json=body, headers=headers), 422)
    assert problem["errors"] == {"regencies": ["not a regency or city of the village registry: 32.99, 99.01"]}
    put = client.put(f"{OFFICES}/BOGOR", json=without_code(body), headers=headers)
    assert assert_problem(put, 422)["errors"] == problem["errors"]
    assert snapshot(application) == before


def test_a_regency_served_by_another_office_is_409_naming_both(
    api: Api, client: FlaskClient, application: Application
) -> None:
    before = snapshot(application)
    headers = api.world.headers("admin")
    problem = assert_problem(
        client.post(OFFICES, json={**DEPOK, "regencies": ["32.76", "32.01"]}, headers=headers), 409
    )
    assert problem["rule"] == "regency_served"
    assert "32.01 (Kabupaten Bogor) by BOGOR" in problem["detail"]
    assert "32.76" not in problem["detail"]
    assert "take_over" in problem["detail"]
    # Replacing SUKABUMI's working area with one holding BOGOR's and SURABAYA's regencies.
    sukabumi = {**without_code(DEPOK), "regencies": ["32.02", "32.71", "35.78"]}
    put = assert_problem(client.put(f"{OFFICES}/SUKABUMI", json=sukabumi, headers=headers), 409)
    assert "32.71 (Kota Bogor) by BOGOR, 35.78 (Kota Surabaya) by SURABAYA" in put["detail"]
    assert snapshot(application) == before
    # An office's own regencies are no conflict.
    own = {**without_code(DEPOK), "regencies": ["32.01", "32.71"]}
    assert client.put(f"{OFFICES}/BOGOR", json=own, headers=headers).status_code == 200


def test_take_over_moves_the_regency_and_its_cases(
    api: Api, client: FlaskClient, application: Application
) -> None:
    case = api.proposed("officer")  # Tugu Selatan, in 32.01, for BOGOR
    elsewhere = api.proposed("officer", village_code="32.71.01.1001")  # in 32.71, which stays
    events_before = len(snapshot(application)["events"])
    headers = api.world.headers("admin")
    body = {**DEPOK, "regencies": ["32.76", "32.01"], "take_over": True}
    response = client.post(OFFICES, json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["regencies"] == ["32.01", "32.76"]
    assert api.get("admin", f"{OFFICES}/BOGOR").get_json()["regencies"] == ["32.71"]
    # DEPOK opened; BOGOR changed by DEPOK's taking 32.01, from the same day; the live case of 32.01
    # passed to DEPOK, caused by DEPOK's opening.
    recorded = snapshot(application)["events"][events_before:]
    assert [(e["stream_id"], e["type"]) for e in recorded] == [
        ("office:DEPOK", "OfficeOpened"),
        ("office:BOGOR", "OfficeChanged"),
        (case["id"], "CandidacyTransferred"),
    ]
    assert '"taken_by":"DEPOK"' in recorded[1]["data"]
    transfer = api.get("auditor", f"{API}/candidacies/{case['id']}/events").get_json()["items"][-1]
    assert transfer["data"] == {
        "from_office": "BOGOR",
        "to_office": "DEPOK",
        "region_code": "JABAR",
        "effective_on": "2024-06-01",
        "cause_position": recorded[0]["position"],
    }
    # BOGOR reads it no more; its other case stays. New proposals in 32.01 are DEPOK's.
    assert_problem(api.get("officer", f"{API}/candidacies/{case['id']}"), 404)
    assert api.case("auditor", case["id"])["office_code"] == "DEPOK"
    assert api.case("officer", elsewhere["id"])["office_code"] == "BOGOR"
    assert_problem(api.propose("officer", village_code="32.01.25.2007"), 422, "village_code")

    # And back again, by changing BOGOR's working area: the case comes back with it.
    bogor = {**without_code(DEPOK), "regencies": ["32.01", "32.71"], "take_over": True}
    assert client.put(f"{OFFICES}/BOGOR", json=bogor, headers=headers).status_code == 200
    assert api.get("admin", f"{OFFICES}/DEPOK").get_json()["regencies"] == ["32.76"]
    assert api.case("officer", case["id"])["office_code"] == "BOGOR"
    assert api.propose("officer", village_code="32.01.25.2007").status_code == 201


def test_take_over_must_be_a_boolean(api: Api, client: FlaskClient) -> None:
    body = {**DEPOK, "take_over": "yes"}
    assert_problem(client.post(OFFICES, json=body, headers=api.world.headers("admin")), 422, "take_over")


def test_only_an_admin_adds_an_office(api: Api, client: FlaskClient, subtests: pytest.Subtests) -> None:
    for username in sorted(set(USERS) - {"admin"}):
        with subtests.test(username=username):
            assert_problem(client.post(OFFICES, json=DEPOK, headers=api.world.headers(username)), 403)
            # Refused before the body is looked at: a non-admin learns nothing of the schema.
            assert_problem(client.post(OFFICES, json={"bogus": 1}, headers=api.world.headers(username)), 403)
    assert_problem(api.get("admin", f"{OFFICES}/DEPOK"), 404)


def test_a_duplicate_office_is_409(api: Api, client: FlaskClient) -> None:
    headers = api.world.headers("admin")
    assert client.post(OFFICES, json=DEPOK, headers=headers).status_code == 201
    assert_problem(client.post(OFFICES, json=DEPOK, headers=headers), 409)
    assert_problem(client.post(OFFICES, json={**DEPOK, "code": "BOGOR"}, headers=headers), 409)
    # The existing office is untouched.
    assert api.get("admin", f"{OFFICES}/BOGOR").get_json()["regencies"] == ["32.01", "32.71"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"regencies": ["3276"]}, "regencies.0"),
        ({"regencies": ["32.76.01"]}, "regencies.0"),
        ({"regencies": ["32.7"]}, "regencies.0"),
        ({"regencies": ["32.76\n"]}, "regencies.0"),
        ({"regencies": []}, "regencies"),
        ({"regencies": "32.76"}, "regencies"),
        ({"code": "depok"}, "code"),
        ({"code": "DEPOK\n"}, "code"),
        ({"code": "D" * 33}, "code"),
        ({"region_code": "Jawa Barat"}, "region_code"),
        ({"name": ""}, "name"),
        ({"color": "blue"}, "color"),
    ],
)
def test_a_bad_office_is_422(api: Api, client: FlaskClient, change: dict[str, Any], field: str) -> None:
    response = client.post(OFFICES, json={**DEPOK, **change}, headers=api.world.headers("admin"))
    assert_problem(response, 422, field)
    listed = api.get("admin", OFFICES).get_json()["items"]
    assert [o["code"] for o in listed] == ["BOGOR", "SUKABUMI", "SURABAYA"]


def test_admin_replaces_an_office(api: Api, client: FlaskClient) -> None:
    change = {
        "name": "Kantor Imigrasi Kelas I TPI Bogor",
        "region_code": "JABAR",
        "region_name": "Kanwil Jawa Barat",
        "regencies": ["32.71", "32.01", "32.76"],
    }
    response = client.put(f"{OFFICES}/BOGOR", json=change, headers=api.world.headers("admin"))
    assert response.status_code == 200
    expected = {
        "code": "BOGOR",
        **change,
        "regencies": ["32.01", "32.71", "32.76"],
        "unit_type": "kanim",
        "active": True,
    }
    assert response.get_json() == expected
    assert api.get("officer", f"{OFFICES}/BOGOR").get_json() == expected


@pytest.mark.usefixtures("registry")
def test_a_new_working_area_takes_effect_for_proposals(api: Api, client: FlaskClient) -> None:
    # Warugunung lies in Surabaya; until BOGOR serves 35.78 the proposal is outside its working area.
    assert_problem(api.propose("officer", village_code="35.78.01.1001"), 422, "village_code")
    change = {**without_code(DEPOK), "regencies": ["32.01", "32.71", "35.78"], "take_over": True}
    assert client.put(f"{OFFICES}/BOGOR", json=change, headers=api.world.headers("admin")).status_code == 200
    assert api.propose("officer", village_code="35.78.01.1001").status_code == 201


def test_replacing_an_unknown_office_is_404(api: Api, client: FlaskClient) -> None:
    assert_problem(
        client.put(f"{OFFICES}/NOPE", json=without_code(DEPOK), headers=api.world.headers("admin")), 404
    )
    assert_problem(api.get("admin", f"{OFFICES}/NOPE"), 404)


def test_only_an_admin_replaces_an_office(api: Api, client: FlaskClient) -> None:
    for username in ("head", "supervisor", "auditor"):
        assert_problem(
            client.put(f"{OFFICES}/BOGOR", json=without_code(DEPOK), headers=api.world.headers(username)), 403
        )
    assert api.get("admin", f"{OFFICES}/BOGOR").get_json()["name"] == "Kantor Imigrasi Kelas I Non TPI Bogor"


def test_a_path_that_is_no_office_code_is_404(
    api: Api, client: FlaskClient, subtests: pytest.Subtests
) -> None:
    headers = api.world.headers("admin")
    for code in ("BO%00GOR", "bogor", "%FF", "B" * 33):
        with subtests.test(code=code):
            assert_problem(client.get(f"{OFFICES}/{code}", headers=headers), 404)
            assert_problem(client.put(f"{OFFICES}/{code}", json=without_code(DEPOK), headers=headers), 404)


def test_a_replacement_is_validated_like_a_new_office(api: Api, client: FlaskClient) -> None:
    headers = api.world.headers("admin")
    assert_problem(
        client.put(f"{OFFICES}/BOGOR", json={**without_code(DEPOK), "regencies": ["32"]}, headers=headers),
        422,
        "regencies.0",
    )
    # The code is the path's; it is no field of the body.
    assert_problem(client.put(f"{OFFICES}/BOGOR", json=DEPOK, headers=headers), 422, "code")


@pytest.mark.usefixtures("world")
def test_get_one_office(api: Api) -> None:
    response = api.get("sukabumi_officer", f"{OFFICES}/SURABAYA")
    assert response.status_code == 200
    assert response.get_json() == {
        "code": "SURABAYA",
        "name": "Kantor Imigrasi Kelas I TPI Surabaya",
        "unit_type": "kanim",
        "region_code": "JATIM",
        "region_name": "Kanwil Jawa Timur",
        "regencies": ["35.78"],
        "active": True,
    }
    assert_problem(api.get("officer", f"{OFFICES}/bogor"), 404)


# ---- regions ---------------------------------------------------------------------------------------


def test_every_signed_in_user_lists_the_regions_with_their_offices(api: Api, client: FlaskClient) -> None:
    expected = {}
    for office in WORLD_OFFICES:
        expected.setdefault(office.region_code, (office.region_name, []))[1].append(office.code)
    want = [{"code": c, "name": n, "offices": sorted(o)} for c, (n, o) in sorted(expected.items())]
    for username in USERS:
        response = api.get(username, f"{API}/regions")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == {"items": want}
    assert_problem(client.get(f"{API}/regions"), 401)


def test_a_new_office_of_a_new_region_brings_the_region(api: Api, client: FlaskClient) -> None:
    body = {**DEPOK, "code": "CILACAP", "region_code": "JATENG", "region_name": "Kanwil Jawa Tengah"}
    body["regencies"] = ["32.76"]
    assert client.post(OFFICES, json=body, headers=api.world.headers("admin")).status_code == 201
    regions = {r["code"]: r for r in api.get("auditor", f"{API}/regions").get_json()["items"]}
    assert regions["JATENG"] == {"code": "JATENG", "name": "Kanwil Jawa Tengah", "offices": ["CILACAP"]}


# ---- open endpoints -------------------------------------------------------------------------------


def test_healthz_is_open(client: FlaskClient, database_url: str) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "sqlite" if database_url.startswith("sqlite") else "postgresql",
    }


def test_openapi_json_and_docs_are_open(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json()["openapi"].startswith("3.")
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.get_data(as_text=True).lower()


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    return client.get("/openapi.json").get_json()


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = spec["components"][kind][name]
    return node


def request_schema(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    return resolve(spec, operation["requestBody"]["content"]["application/json"]["schema"])


def test_openapi_lists_every_implemented_path(spec: dict[str, Any]) -> None:
    case = f"{API}/candidacies/{{candidacy_id}}"
    expected = {
        f"{API}/offices": {"get", "post"},
        f"{API}/offices/{{code}}": {"get", "put"},
        f"{API}/candidacies": {"get", "post"},
        case: {"get"},
        f"{case}/events": {"get"},
        **{f"{case}/{action}": {"post"} for action in ACTIONS},
        "/healthz": {"get"},
    }
    for path, methods in expected.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, spec["paths"][path].keys())


@pytest.mark.parametrize(
    ("path", "method", "required"),
    [
        (f"{API}/offices", "post", {"code", "name", "region_code", "regencies"}),
        (f"{API}/offices/{{code}}", "put", set()),  # any of its fields
        (f"{API}/candidacies", "post", {"village_code", "office_code", "rationale", "indicators"}),
        ("coordinate", "post", {"held_on", "venue", "agencies", "minutes_ref"}),
        ("socialize", "post", {"held_on", "speakers", "attendees", "topics"}),
        ("assess", "post", {"assessed_on", "score", "meets_criteria", "criteria"}),
        ("designate", "post", {"decree_number", "decree_date", "fostering_officers"}),
        ("reject", "post", {"reason"}),
        ("return", "post", {"reason"}),
        ("withdraw", "post", {"reason"}),
    ],
)
def test_openapi_has_request_schemas(
    spec: dict[str, Any], path: str, method: str, required: set[str]
) -> None:
    if not path.startswith("/"):
        path = f"{API}/candidacies/{{candidacy_id}}/{path}"
    schema = request_schema(spec, spec["paths"][path][method])
    assert set(schema.get("required", [])) == required
    assert required <= set(schema["properties"])
    # Unknown fields are refused, and the document says so.
    assert schema.get("additionalProperties") is False


def test_openapi_documents_responses_headers_and_security(spec: dict[str, Any]) -> None:
    case_path = spec["paths"][f"{API}/candidacies/{{candidacy_id}}"]["get"]
    case_schema = resolve(spec, case_path["responses"]["200"]["content"]["application/json"]["schema"])
    for name in ("id", "stage", "version", "village", "allowed_actions", "proposed", "designated", "closed"):
        assert name in case_schema["properties"]
    propose = spec["paths"][f"{API}/candidacies"]["post"]
    assert "201" in propose["responses"]
    assert "Idempotency-Key" in {p["name"] for p in propose.get("parameters", [])}
    designate = spec["paths"][f"{API}/candidacies/{{candidacy_id}}/designate"]["post"]
    assert {"Idempotency-Key", "If-Match"} <= {p["name"] for p in designate.get("parameters", [])}
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/healthz"]["get"]["security"] == []
    indicators = resolve(spec, request_schema(spec, propose)["properties"]["indicators"])
    assert indicators["properties"]["migrant_workers"]["type"] == "integer"
    assert indicators["properties"]["border_area"]["type"] == "boolean"
    office = request_schema(spec, spec["paths"][f"{API}/offices"]["post"])
    assert office["properties"]["regencies"]["items"]["pattern"] == r"^[0-9]{2}\.[0-9]{2}$"


# ---- the organisation as events: regions, types, effective dates, history ---------------------------


def admin_send(api: Api, method: str, path: str, body: Any = None):
    return api.client.open(path, method=method, json=body, headers=api.world.headers("admin"))


def test_an_admin_adds_and_renames_a_region(api: Api, application: Application) -> None:
    added = admin_send(api, "POST", f"{API}/regions", {"code": "JATENG", "name": "Kanwil Jawa Tengah"})
    assert added.status_code == 201, added.get_data(as_text=True)
    assert added.headers["Location"] == f"{API}/regions/JATENG"
    assert added.get_json() == {"code": "JATENG", "name": "Kanwil Jawa Tengah", "offices": []}
    assert_problem(admin_send(api, "POST", f"{API}/regions", {"code": "JATENG", "name": "X"}), 409)

    renamed = admin_send(api, "PUT", f"{API}/regions/JABAR", {"name": "Kanwil Ditjen Imigrasi Jawa Barat"})
    assert renamed.status_code == 200
    assert renamed.get_json() == {
        "code": "JABAR",
        "name": "Kanwil Ditjen Imigrasi Jawa Barat",
        "offices": ["BOGOR", "SUKABUMI"],
    }
    assert (
        api.get("officer", f"{OFFICES}/BOGOR").get_json()["region_name"]
        == "Kanwil Ditjen Imigrasi Jawa Barat"
    )
    # The office of an existing region may now name it by its new name, and no longer by the old one.
    assert_problem(admin_send(api, "POST", OFFICES, DEPOK), 422, "region_name")
    before = snapshot(application)
    assert_problem(admin_send(api, "PUT", f"{API}/regions/NOWHERE", {"name": "X"}), 404)
    assert_problem(admin_send(api, "PUT", f"{API}/regions/JABAR", {}), 422, "name")
    assert_problem(admin_send(api, "POST", f"{API}/regions", {"code": "jateng", "name": "X"}), 422, "code")
    for who in ("head", "supervisor", "auditor"):
        body = {"code": "BALI", "name": "Kanwil Bali"}
        assert_problem(api.client.post(f"{API}/regions", json=body, headers=api.world.headers(who)), 403)
    assert snapshot(application) == before


def test_an_office_has_a_type_and_a_day_it_exists_from(api: Api, application: Application) -> None:
    rudenim = {
        "code": "RUDENIM-JKT",
        "name": "Rumah Detensi Imigrasi Jakarta",
        "unit_type": "rudenim",
        "region_code": "JABAR",
        "regencies": ["32.76"],
        "effective_on": "2024-01-15",
    }
    created = admin_send(api, "POST", OFFICES, rudenim)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["unit_type"] == "rudenim"
    before = snapshot(application)
    # The clock stands at 2024-06-01: a day after it has not come yet, anywhere in Indonesia.
    assert_problem(
        admin_send(api, "POST", OFFICES, {**DEPOK, "effective_on": "2024-06-03"}), 422, "effective_on"
    )
    assert_problem(admin_send(api, "POST", OFFICES, {**DEPOK, "unit_type": "kanwil"}), 422, "unit_type")
    # A change holds from a day no earlier than the office's last change.
    early = admin_send(
        api, "PUT", f"{OFFICES}/RUDENIM-JKT", {"name": "Rudenim", "effective_on": "2024-01-14"}
    )
    assert_problem(early, 422, "effective_on")
    assert snapshot(application) == before

    renamed = admin_send(
        api, "PUT", f"{OFFICES}/RUDENIM-JKT", {"name": "Rudenim Jakarta", "effective_on": "2024-03-01"}
    )
    assert renamed.status_code == 200, renamed.get_data(as_text=True)
    moved = admin_send(api, "PUT", f"{OFFICES}/RUDENIM-JKT", {"region_code": "JATIM"})  # today
    assert moved.get_json()["region_name"] == "Kanwil Jawa Timur"
    nothing = admin_send(api, "PUT", f"{OFFICES}/RUDENIM-JKT", {"region_code": "JATIM"})
    assert nothing.status_code == 200

    history = api.get("officer", f"{OFFICES}/RUDENIM-JKT/history")
    assert history.status_code == 200
    items = history.get_json()["items"]
    assert [(i["effective_on"], i["changed"]) for i in items] == [
        ("2024-01-15", ["opened"]),
        ("2024-03-01", ["name"]),
        ("2024-06-01", ["region_code"]),
    ]
    assert [i["office"]["name"] for i in items] == [
        "Rumah Detensi Imigrasi Jakarta",
        "Rudenim Jakarta",
        "Rudenim Jakarta",
    ]
    feed = api.get("auditor", f"{API}/events", after=items[0]["position"] - 1).get_json()["items"]
    assert [(e["position"], e["type"]) for e in feed] == [
        (items[0]["position"], "OfficeOpened"),
        (items[1]["position"], "OfficeChanged"),
        (items[2]["position"], "OfficeChanged"),
    ]
    assert_problem(api.get("officer", f"{OFFICES}/NOPE/history"), 404)


def test_an_imported_office_has_been_there_since_before_the_records(api: Api) -> None:
    [opened] = api.get("auditor", f"{OFFICES}/BOGOR/history").get_json()["items"]
    assert (opened["effective_on"], opened["changed"], opened["taken_by"]) == (None, ["opened"], None)


def test_a_take_over_is_in_both_offices_history(api: Api) -> None:
    body = {**DEPOK, "regencies": ["32.76", "32.71"], "take_over": True, "effective_on": "2024-05-02"}
    assert admin_send(api, "POST", OFFICES, body).status_code == 201
    bogor = api.get("auditor", f"{OFFICES}/BOGOR/history").get_json()["items"]
    assert (bogor[-1]["effective_on"], bogor[-1]["changed"], bogor[-1]["taken_by"]) == (
        "2024-05-02",
        ["regencies"],
        "DEPOK",
    )
    assert bogor[-1]["office"]["regencies"] == ["32.01"]
