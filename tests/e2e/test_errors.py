"""Every error status of the contract, as RFC 9457 problem+json, and proof that bad input changes nothing."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy
from flask import Flask, Response
from flask.testing import FlaskClient

from service import cases, logs
from service.application import Application
from tests.conftest import ACTION_BODIES, proposal
from tests.e2e.conftest import API, CASES, Api, assert_problem, snapshot, unknown_id

OFFICES = f"{API}/offices"
KIB = 1024
NEW_OFFICE = {
    "code": "DEPOK",
    "name": "Kantor Imigrasi Depok",
    "region_code": "JABAR",
    "regencies": ["32.76"],
}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def indicators(**overrides: Any) -> dict[str, Any]:
    return {**proposal()["indicators"], **overrides}


@dataclass
class Scene:
    """Case `a`: assessed by the head (so the head may not designate it); case `b`: just proposed."""

    a: str
    b: str


@pytest.fixture
def scene(api: Api, registry: None) -> Scene:
    a = api.propose("officer", idempotency_key="scene-key")
    assert a.status_code == 201
    a_id = a.get_json()["id"]
    api.acted("section_head", a_id, "coordinate")
    api.acted("section_head", a_id, "socialize")
    api.acted("head", a_id, "assess")
    b = api.proposed("officer", village_code="32.01.25.2001")
    return Scene(a_id, b["id"])


@dataclass
class Bad:
    """One request the service must refuse; `{a}` and `{b}` in the path name the scene's cases."""

    name: str
    status: int
    path: str = CASES
    user: str | None = "officer"
    method: str = "POST"
    json: Any = None
    data: str | bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()

    def send(self, client: FlaskClient, api: Api, scene: Scene) -> Any:
        headers = dict(self.headers)
        if self.user == "<unknown token>":
            headers["Authorization"] = "Bearer not-a-token-anyone-was-given"
        elif self.user is not None:
            headers.update(api.world.headers(self.user))
        data = json.dumps(self.json) if self.json is not None else self.data
        return client.open(
            self.path.format(a=scene.a, b=scene.b),
            method=self.method,
            data=data,
            headers=headers,
            content_type=self.content_type,
        )


def propose_body(**overrides: Any) -> dict[str, Any]:
    return proposal(**{"village_code": "32.01.25.2007", **overrides})


def coordinate_body(**overrides: Any) -> dict[str, Any]:
    return {**ACTION_BODIES["coordinate"], **overrides}


BAD_REQUESTS = [
    # 400: not JSON at all
    Bad("not json", 400, data="village_code=32.01.25.2007&office_code=BOGOR"),
    Bad("truncated json", 400, data='{"village_code": "32.01'),
    Bad("empty body", 400, data=""),
    Bad("wrong content type", 400, data=json.dumps(propose_body()), content_type="text/plain"),
    Bad(
        "form content type",
        400,
        data=json.dumps(propose_body()),
        content_type="application/x-www-form-urlencoded",
    ),
    Bad("deeply nested lists", 400, data=nested(30_000)),
    Bad("deeply nested value", 400, data='{"rationale": ' + nested(20_000) + "}"),
    Bad("lone surrogate", 400, data=json.dumps(propose_body(village_name="\ud800"))),
    Bad("lone surrogate as field name", 400, data=json.dumps({"\udfff": 1})),
    Bad("not utf-8", 400, data=b'{"village_name": "\xff\xfe"}'),
    Bad(
        "action not json",
        400,
        path=CASES + "/{a}/reject",
        user="head",
        data="reason",
        content_type="text/plain",
    ),
    Bad("idempotency key too long", 400, json=propose_body(), headers={"Idempotency-Key": "k" * 201}),
    # 401
    Bad("no token", 401, user=None, json=propose_body()),
    Bad("unknown token", 401, user="<unknown token>", json=propose_body()),
    Bad(
        "basic auth", 401, user=None, json=propose_body(), headers={"Authorization": "Basic b2ZmaWNlcjpwdw=="}
    ),
    Bad("action without token", 401, path=CASES + "/{b}/withdraw", user=None, json={"reason": "x"}),
    Bad("office without token", 401, path=OFFICES, user=None, json=NEW_OFFICE),
    # 403
    Bad("admin proposes", 403, user="admin", json=propose_body()),
    Bad("auditor proposes", 403, user="auditor", json=propose_body()),
    Bad("proposes for another office", 403, json=proposal("32.02.01.2002", "SUKABUMI")),
    Bad("officer designates", 403, path=CASES + "/{a}/designate", json=ACTION_BODIES["designate"]),
    Bad("section head rejects", 403, path=CASES + "/{a}/reject", user="section_head", json={"reason": "x"}),
    Bad("supervisor withdraws", 403, path=CASES + "/{b}/withdraw", user="supervisor", json={"reason": "x"}),
    Bad("auditor coordinates", 403, path=CASES + "/{b}/coordinate", user="auditor", json=coordinate_body()),
    Bad("officer adds an office", 403, path=OFFICES, json=NEW_OFFICE),
    Bad("head replaces an office", 403, method="PUT", path=OFFICES + "/BOGOR", user="head", json={}),
    # 404
    Bad(
        "other office's case",
        404,
        path=CASES + "/{a}/designate",
        user="sukabumi_head",
        json=ACTION_BODIES["designate"],
    ),
    Bad(
        "unknown case",
        404,
        path=f"{CASES}/{unknown_id()}/coordinate",
        user="section_head",
        json=coordinate_body(),
    ),
    Bad("not a uuid", 404, path=CASES + "/42/coordinate", user="section_head", json=coordinate_body()),
    Bad("unknown action", 404, path=CASES + "/{a}/approve", user="head", json={}),
    Bad(
        "unknown office",
        404,
        method="PUT",
        path=OFFICES + "/NOPE",
        user="admin",
        json={k: v for k, v in NEW_OFFICE.items() if k != "code"},
    ),
    # 409
    Bad(
        "action the stage does not allow",
        409,
        path=CASES + "/{a}/coordinate",
        user="section_head",
        json=coordinate_body(),
    ),
    Bad("four eyes", 409, path=CASES + "/{a}/designate", user="head", json=ACTION_BODIES["designate"]),
    Bad("duplicate live candidacy", 409, json=proposal()),
    Bad("idempotency key reused", 409, json=propose_body(), headers={"Idempotency-Key": "scene-key"}),
    Bad("duplicate office", 409, path=OFFICES, user="admin", json={**NEW_OFFICE, "code": "BOGOR"}),
    # 412
    Bad(
        "stale if-match",
        412,
        path=CASES + "/{a}/reject",
        user="head",
        json={"reason": "x"},
        headers={"If-Match": '"3"'},
    ),
    # 413
    Bad("body over 64 KiB", 413, json=propose_body(rationale="x" * (65 * KIB))),
    Bad(
        "action body over 64 KiB",
        413,
        path=CASES + "/{b}/withdraw",
        user="section_head",
        json={"reason": "x" * (65 * KIB)},
    ),
    Bad("nesting beyond the limit", 413, data=nested(100_000)),
    # 422
    Bad("unknown field", 422, json={**propose_body(), "priority": "high"}, fields=("priority",)),
    Bad(
        "unknown nested field",
        422,
        json=propose_body(indicators=indicators(ports=1)),
        fields=("indicators.ports",),
    ),
    Bad(
        "missing field",
        422,
        json={k: v for k, v in propose_body().items() if k != "rationale"},
        fields=("rationale",),
    ),
    Bad(
        "string for int",
        422,
        json=propose_body(indicators=indicators(migrant_workers="412")),
        fields=("indicators.migrant_workers",),
    ),
    Bad(
        "float for int",
        422,
        json=propose_body(indicators=indicators(trafficking_cases=3.0)),
        fields=("indicators.trafficking_cases",),
    ),
    Bad(
        "fraction for int",
        422,
        json=propose_body(indicators=indicators(trafficking_cases=2.5)),
        fields=("indicators.trafficking_cases",),
    ),
    Bad(
        "bool for int",
        422,
        json=propose_body(indicators=indicators(migrant_workers=True)),
        fields=("indicators.migrant_workers",),
    ),
    Bad(
        "negative int",
        422,
        json=propose_body(indicators=indicators(migrant_workers=-1)),
        fields=("indicators.migrant_workers",),
    ),
    Bad(
        '"true" for bool',
        422,
        json=propose_body(indicators=indicators(border_area="true")),
        fields=("indicators.border_area",),
    ),
    Bad(
        "1 for bool",
        422,
        json=propose_body(indicators=indicators(border_area=1)),
        fields=("indicators.border_area",),
    ),
    Bad("null for required", 422, json=propose_body(rationale=None), fields=("rationale",)),
    Bad("list for object", 422, json=propose_body(indicators=[1, 2]), fields=("indicators",)),
    Bad("array body", 422, json=[propose_body()]),
    Bad("string body", 422, json="propose"),
    Bad(
        "control character in a name",
        422,
        json=propose_body(village_name="Tugu\x07Selatan"),
        fields=("village_name",),
    ),
    Bad("NUL in rationale", 422, json=propose_body(rationale="a\x00b"), fields=("rationale",)),
    Bad("blank rationale", 422, json=propose_body(rationale=" \n "), fields=("rationale",)),
    Bad("rationale too long", 422, json=propose_body(rationale="x" * 5001), fields=("rationale",)),
    Bad(
        "bad village code shape",
        422,
        json=propose_body(village_code="32-01-25-2007"),
        fields=("village_code",),
    ),
    Bad(
        "village not in the registry",
        422,
        json=propose_body(village_code="32.01.25.2999"),
        fields=("village_code",),
    ),
    Bad(
        "village outside the working area",
        422,
        json=propose_body(village_code="35.78.01.1001"),
        fields=("village_code",),
    ),
    Bad(
        "empty agencies",
        422,
        path=CASES + "/{b}/coordinate",
        user="section_head",
        json=coordinate_body(agencies=[]),
        fields=("agencies",),
    ),
    Bad(
        "control character in an agency",
        422,
        path=CASES + "/{b}/coordinate",
        user="section_head",
        json=coordinate_body(agencies=["Polres\x1bBogor"]),
        fields=("agencies.0",),
    ),
    Bad(
        "control character in a venue",
        422,
        path=CASES + "/{b}/coordinate",
        user="section_head",
        json=coordinate_body(venue="Aula\tKantor"),
        fields=("venue",),
    ),
    Bad(
        "not a date",
        422,
        path=CASES + "/{b}/coordinate",
        user="section_head",
        json=coordinate_body(held_on="2024-02-30"),
        fields=("held_on",),
    ),
    Bad(
        "date in the future",
        422,
        path=CASES + "/{b}/coordinate",
        user="section_head",
        json=coordinate_body(held_on="2024-06-02"),
        fields=("held_on",),
    ),
    Bad(
        "decree before assessment",
        422,
        path=CASES + "/{a}/designate",
        user="acting_head",
        json={**ACTION_BODIES["designate"], "decree_date": "2024-03-19"},
        fields=("decree_date",),
    ),
    Bad(
        "score over 100",
        422,
        path=CASES + "/{b}/assess",
        user="section_head",
        json={**ACTION_BODIES["assess"], "score": 101},
        fields=("score",),
    ),
    Bad(
        "criteria not booleans",
        422,
        path=CASES + "/{b}/assess",
        user="section_head",
        json={**ACTION_BODIES["assess"], "criteria": {"migrant_worker_base": "ya"}},
        fields=("criteria.migrant_worker_base",),
    ),
    Bad(
        "no attendees",
        422,
        path=CASES + "/{b}/socialize",
        user="section_head",
        json={**ACTION_BODIES["socialize"], "attendees": 0},
        fields=("attendees",),
    ),
    Bad(
        "bad regency code",
        422,
        path=OFFICES,
        user="admin",
        json={**NEW_OFFICE, "regencies": ["3276"]},
        fields=("regencies.0",),
    ),
    Bad(
        "office code with a newline",
        422,
        path=OFFICES,
        user="admin",
        json={**NEW_OFFICE, "code": "DEPOK\n"},
        fields=("code",),
    ),
    Bad(
        "regency in other digits",
        422,
        path=OFFICES,
        user="admin",
        json={**NEW_OFFICE, "regencies": ["\u0663\u0662.\u0667\u0666"]},
        fields=("regencies.0",),
    ),
]


@pytest.mark.parametrize("bad", BAD_REQUESTS, ids=lambda bad: bad.name)
def test_bad_input_changes_nothing(
    api: Api, client: FlaskClient, application: Application, scene: Scene, bad: Bad
) -> None:
    before = snapshot(application)

    response = bad.send(client, api, scene)

    assert_problem(response, bad.status, *bad.fields)
    assert snapshot(application) == before


def test_the_scene_accepts_good_requests(api: Api, client: FlaskClient, scene: Scene) -> None:
    """The refusals above are refusals of the bad part only: the same requests made well succeed."""
    assert api.propose("officer", village_code="32.01.25.2007").status_code == 201
    assert api.act("section_head", scene.b, "coordinate").status_code == 200
    assert api.act("acting_head", scene.a, "designate").status_code == 200
    admin = api.world.headers("admin")
    assert client.post(OFFICES, json=NEW_OFFICE, headers=admin).status_code == 201


# ---- 400 ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("world")
def test_nesting_deeper_than_the_parser_goes_is_400_even_with_room_for_it(
    app: Flask, api: Api, client: FlaskClient
) -> None:
    # With a limit that lets 100,000 nested lists in, the parser's own depth limit answers.
    app.config["MAX_CONTENT_LENGTH"] = 1024 * KIB
    response = client.post(
        CASES, data=nested(100_000), headers=api.world.headers("officer"), content_type="application/json"
    )
    body = assert_problem(response, 400)
    assert "JSON" in body["detail"]


def test_400_names_the_content_type(api: Api, client: FlaskClient) -> None:
    response = client.post(CASES, data="{}", headers=api.world.headers("officer"), content_type="text/plain")
    body = assert_problem(response, 400)
    assert "application/json" in body["detail"]


# ---- 401 ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("world")
def test_401_without_a_live_token(client: FlaskClient, subtests: pytest.Subtests) -> None:
    for path in (CASES, OFFICES, f"{API}/no-such-thing"):
        for authorization in (
            None,
            "Bearer",
            "Bearer ",
            "Bearer unknown-token",
            "Basic b2ZmaWNlcjpwdw==",
            "bearer",
        ):
            with subtests.test(path=path, authorization=authorization):
                headers = {"Authorization": authorization} if authorization is not None else {}
                response = client.get(path, headers=headers)
                assert_problem(response, 401)
                assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_is_case_sensitive_and_exact(api: Api, client: FlaskClient) -> None:
    token = api.world.tokens["auditor"]
    assert client.get(CASES, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get(CASES, headers={"Authorization": f"bearer {token}"}).status_code == 200
    for wrong in (token.swapcase(), token[:-1], token + "x"):
        assert_problem(client.get(CASES, headers={"Authorization": f"Bearer {wrong}"}), 401)


# ---- 404 and 405: unknown routes are problems too, never HTML --------------------------------------


# ("/" is the web application's front door.)
@pytest.mark.parametrize("path", ["/nope", "/api", "/api/v2/candidacies", "/healthz/extra"])
def test_unknown_routes_outside_the_api_are_problem_json(client: FlaskClient, path: str) -> None:
    assert_problem(client.get(path, headers={"Accept": "text/html"}), 404)


def test_unknown_routes_inside_the_api_are_problem_json(api: Api, client: FlaskClient) -> None:
    headers = api.world.headers("auditor", Accept="text/html")
    for path in (f"{API}/hamlets", f"{CASES}/{unknown_id()}/history", f"{API}/candidacies/x/y/z"):
        assert_problem(client.get(path, headers=headers), 404)


def test_a_method_the_route_lacks_is_405_problem_json(api: Api, client: FlaskClient) -> None:
    assert_problem(client.delete(CASES, headers=api.world.headers("admin")), 405)
    assert_problem(client.get(f"{CASES}/{unknown_id()}/designate", headers=api.world.headers("head")), 405)


# ---- 409 and 412 carry what the client needs next -------------------------------------------------


def test_409_for_a_stage_lists_allowed_actions(api: Api, scene: Scene) -> None:
    body = assert_problem(api.act("section_head", scene.a, "coordinate"), 409)
    assert body["allowed_actions"] == ["withdraw"]


def test_412_carries_the_current_etag(api: Api, scene: Scene) -> None:
    response = api.act("acting_head", scene.a, "designate", **{"If-Match": '"1"'})
    body = assert_problem(response, 412)
    assert response.headers["ETag"] == '"4"'
    assert body["current_version"] == 4


# ---- 413 ------------------------------------------------------------------------------------------


def test_a_body_just_under_64_kib_is_read_and_one_over_is_413(
    api: Api, client: FlaskClient, scene: Scene
) -> None:
    headers = api.world.headers("section_head")
    path = f"{CASES}/{scene.b}/withdraw"
    envelope = len(json.dumps({"reason": ""}))
    # Under the limit the body is parsed, and the too-long reason is a validation error.
    under = client.post(
        path,
        data=json.dumps({"reason": "x" * (64 * KIB - envelope)}),
        headers=headers,
        content_type="application/json",
    )
    assert_problem(under, 422, "reason")
    over = client.post(
        path,
        data=json.dumps({"reason": "x" * (64 * KIB - envelope + 1)}),
        headers=headers,
        content_type="application/json",
    )
    assert_problem(over, 413)


# ---- 422 ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_422_lists_every_field_at_fault(api: Api, client: FlaskClient) -> None:
    body = {
        "village_code": 3201252006,
        "office_code": "BOGOR",
        "indicators": {"migrant_workers": "many", "prospective_migrant_workers": 1.5, "border_area": "no"},
        "extra": 1,
    }
    response = client.post(CASES, json=body, headers=api.world.headers("officer"))
    problem = assert_problem(
        response,
        422,
        "village_code",
        "rationale",
        "indicators.migrant_workers",
        "indicators.prospective_migrant_workers",
        "indicators.trafficking_cases",
        "indicators.border_area",
        "extra",
    )
    assert problem["type"].endswith("validation")


# ---- 500: logged, never shown ---------------------------------------------------------------------


def test_an_internal_error_is_a_500_problem_without_details(
    app: Flask, api: Api, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret connection string postgres://user:pw@db")

    monkeypatch.setattr(cases, "list_cases", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get(CASES, headers=api.world.headers("auditor"))
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "secret" not in text and "RuntimeError" not in text
    assert "logged" in body["detail"]


def test_an_unhandled_error_is_logged_once_as_one_json_line_with_the_request_id(
    app: Flask, api: Api, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug: one JSON line holding the traceback and the request id, which the 500 problem carries
    too (and nothing of the error); Flask's own logging of it would write it again, over many lines."""

    def broken() -> Response:
        raise RuntimeError("a bug near secret postgres://user:pw@db")

    app.add_url_rule(f"{API}/broken", "broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as served: not re-raised into the test
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logs.JsonFormatter())
    logs.logger().addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):  # any other logger's records reach the root's capture
            response = client.get(f"{API}/broken", headers=api.world.headers("auditor"))
    finally:
        logs.logger().removeHandler(handler)

    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "secret" not in text and "RuntimeError" not in text
    request_id = response.headers["X-Request-ID"]
    assert request_id and body["request_id"] == request_id

    lines = written.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert [(e["level"], e["message"]) for e in entries] == [
        ("ERROR", "unhandled error"),
        ("INFO", "request"),
    ]
    error = entries[0]
    assert error["request_id"] == request_id
    assert (error["method"], error["path"]) == ("GET", f"{API}/broken")
    assert error["exception"].startswith("Traceback") and "RuntimeError: a bug near" in error["exception"]
    assert entries[1]["status"] == 500
    others = [r for r in caplog.records if r.name != logs.LOGGER_NAME]
    assert [r for r in others if r.exc_info or r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("bad", ["2024-13-01", "16/04/2024", "kemarin", "2024-02-19T10:00:00"])
def test_a_date_that_is_no_date_says_how_to_write_one(api: Api, bad: str) -> None:
    response = api.get("auditor", f"{API}/reports/performance", as_of=bad)
    problem = assert_problem(response, 422)
    assert problem["errors"] == {"as_of": ["not a date: write it YYYY-MM-DD"]}
    # In a body as in a query.
    body = {**ACTION_BODIES["coordinate"], "held_on": bad}
    response = api.act("section_head", unknown_id(), "coordinate", body)
    assert assert_problem(response, 422)["errors"] == {"held_on": ["not a date: write it YYYY-MM-DD"]}


@pytest.mark.parametrize("path", ["/reports/performance", "/designations"])
def test_an_admin_asking_for_reports_is_told_it_may_not_read_reports(api: Api, path: str) -> None:
    problem = assert_problem(api.get("admin", f"{API}{path}"), 403)
    assert "may not read reports" in problem["detail"]


@pytest.mark.parametrize("path", [f"{API}/nope", "/nope", f"{API}/offices/BOGOR/nope"])
def test_an_unknown_path_is_a_404_problem(api: Api, client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=api.world.headers("auditor", Accept="text/html"))
    assert_problem(response, 404)
    assert response.headers["Content-Type"] == "application/problem+json"


# ---- 503: a database that cannot take writes -------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_a_read_only_database_answers_503_and_records_nothing(api: Api, application: Application) -> None:
    """As a full disk or a database switched to read-only makes it refuse: a 503 problem telling the
    client to retry, never a 500, and nothing half written. Reads go on."""
    engine = application.db.engine

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if application.db.is_sqlite:
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")  # for the session
            dbapi_connection.commit()
        cursor.close()

    case = api.proposed("officer")
    before = snapshot(application)
    sqlalchemy.event.listen(engine, "connect", read_only)
    engine.dispose()  # every connection from now on is read-only
    try:
        refused = api.propose("officer", village_code="32.01.25.2007")
        body = assert_problem(refused, 503)
        assert body["type"].endswith("unavailable") and "nothing was recorded" in body["detail"]
        assert refused.headers["Retry-After"]
        assert api.case("officer", case["id"])["stage"] == "proposed"  # reads go on
    finally:
        sqlalchemy.event.remove(engine, "connect", read_only)
        engine.dispose()
    assert snapshot(application) == before
    assert api.propose("officer", village_code="32.01.25.2007").status_code == 201
