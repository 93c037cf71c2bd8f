"""Schemathesis against the real server: every operation of `/openapi.json`, generated requests with a
valid token of a role that may write and of one that may only read. No 5xx, and every answer has a
documented status, content type, headers and body schema. At least 1,000 requests per database."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.conftest import ACTION_BODIES, proposal
from tests.server.conftest import Deployment


@dataclass(frozen=True)
class Plan:
    """Which operations a user's token runs (a path regex; None: all), and which writes it may never
    make: those are refused before the body is read, so the coverage phase's hundreds of body variants
    would all be the same 403; fuzzing still sends them some."""

    paths: str | None = None
    refused_writes: str | None = None


# A head of office (proposes and acts on cases) and an auditor (reads everything, may write nothing)
# run every operation; the only roles that may set targets and manage offices run those paths too,
# so that their successes are checked.
USERS: dict[str, Plan] = {
    "head": Plan(refused_writes=r"^/api/v1/(offices|targets)"),
    "auditor": Plan(refused_writes=r"^/"),
    "supervisor": Plan(paths=r"^/api/v1/(targets|reports|designations)"),
    "admin": Plan(paths=r"^/api/v1/offices"),
}
WRITERS = {"head", "supervisor", "admin"}
READ_ONLY = {"auditor"}
MAX_EXAMPLES = 20
MIN_REQUESTS = 1000
SEED = 20240219

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    # Methods an operation does not have (sent by the coverage phase): 405 with `Allow`.
    unsupported_method,
]
# Not used: positive_data_acceptance (a body valid by the schema is still refused by the lifecycle,
# the four-eyes rule or the caller's scope, as documented) and negative_data_rejection (the hooks
# below swap some generated values, negative ones too, for real ones that the API rightly accepts).

# The 200 of these is JSON or CSV.
CSV_OPERATIONS = {"GET /api/v1/designations", "GET /api/v1/reports/performance"}

# Requests actually sent, by (database, user, operation, status); the last test of the module reads them.
SENT: Counter[tuple[str, str, str, int]] = Counter()
STARTED: dict[str, float] = {}


def backend_of(deployment: Deployment) -> str:
    return "postgres" if deployment.server.database_url.startswith("postgresql") else "sqlite"


@dataclass
class Known:
    """Real values for generated requests: ids of real cases and offices, and villages nobody proposed."""

    candidacy_ids: list[str]
    office_codes: list[str]
    years: list[int]
    fresh_villages: list[str]


@pytest.fixture(scope="module")
def known(deployment: Deployment) -> Known:
    """A case in every stage and one of another office, and a target, recorded over HTTP."""
    STARTED.setdefault(backend_of(deployment), time.monotonic())
    client = deployment.client()
    ids: list[str] = []
    stages = ["coordinate", "socialize", "assess", "designate"]
    for depth in range(len(stages) + 1):
        proposed = client.write("officer", "POST", "/candidacies", proposal(next(deployment.villages)))
        assert proposed.answer is not None and proposed.answer.status == 201, proposed.answer
        case_id = proposed.answer.body["id"]
        for action in stages[:depth]:
            user = "head" if action == "designate" else "section_head"
            done = client.write(user, "POST", f"/candidacies/{case_id}/{action}", ACTION_BODIES[action])
            assert done.answer is not None and done.answer.status == 200, done.answer
        ids.append(case_id)
    other = client.write(
        "sukabumi_officer",
        "POST",
        "/candidacies",
        proposal(next(deployment.sukabumi_villages), office_code="SUKABUMI"),
    )
    assert other.answer is not None and other.answer.status == 201, other.answer
    ids.append(other.answer.body["id"])
    target = client.write("supervisor", "PUT", "/targets/BOGOR/2024", {"target": 12, "basis": "SK 2024"})
    assert target.answer is not None and target.answer.status == 200, target.answer
    assert not client.server_errors, client.server_errors
    return Known(
        candidacy_ids=ids,
        office_codes=["BOGOR", "SUKABUMI", "SURABAYA"],
        years=[2024, 2025],
        fresh_villages=[next(deployment.villages) for _ in range(10)],
    )


def real_values_hooks(known: Known) -> list[Any]:
    """Generated path parameters and bodies, half the time swapped for real ones: requests that reach
    a real case, and bodies that pass validation, so that success answers are checked too (and the
    lifecycle's refusals, 409 and 412), not only 404 and 422."""
    real_parameters = {
        "candidacy_id": st.sampled_from(known.candidacy_ids),
        "office_code": st.sampled_from(known.office_codes),
        "code": st.sampled_from(known.office_codes),
        "year": st.sampled_from(known.years),
    }
    valid_bodies: dict[str, st.SearchStrategy] = {
        "POST /api/v1/candidacies": st.sampled_from(known.fresh_villages).map(proposal),
        "PUT /api/v1/targets/{office_code}/{year}": st.builds(
            lambda target: {"target": target, "basis": "SK Kepala Kantor Wilayah"}, st.integers(0, 50)
        ),
        **{
            f"POST /api/v1/candidacies/{{candidacy_id}}/{action}": st.just(body)
            for action, body in ACTION_BODIES.items()
        },
    }

    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy:
        if not path_parameters:
            return st.just(path_parameters)
        real = st.fixed_dictionaries(
            {name: real_parameters.get(name, st.just(value)) for name, value in path_parameters.items()}
        )
        return st.one_of(st.just(path_parameters), real)

    def flatmap_body(context: Any, body: Any) -> st.SearchStrategy:
        valid = valid_bodies.get(context.operation.label) if context.operation else None
        return st.just(body) if valid is None else st.one_of(st.just(body), valid)

    return [flatmap_path_parameters, flatmap_body]


@pytest.fixture(params=list(USERS))
def api_user(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def api_schema(deployment: Deployment, known: Known, api_user: str) -> Any:
    plan = USERS[api_user]
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["too_slow"],
            "headers": {"Authorization": f"Bearer {deployment.world.tokens[api_user]}"},
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "operations": [
                {
                    "include-method": ["POST", "PUT"],
                    "include-path-regex": plan.refused_writes,
                    "phases": {"coverage": {"enabled": False}},
                }
            ]
            if plan.refused_writes
            else [],
        }
    )
    raw = requests.get(f"{deployment.server.url}/openapi.json", timeout=30).json()
    # flask-smorest names a `default` (problem+json) response on every operation, and with it
    # status_code_conformance accepts any status: hold each operation to the statuses it names.
    for operations in raw["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].pop("default", None)
    if plan.paths is not None:
        raw["paths"] = {path: item for path, item in raw["paths"].items() if re.match(plan.paths, path)}
    schema = schemathesis.openapi.from_dict(raw, config=config)
    schema.config.update(base_url=deployment.server.url)
    for hook in real_values_hooks(known):
        schema.hook(hook)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's lazy schema reads `node._nodeid`, which pytest 9.2 no longer has (it
    names each operation's subtest through it); give it the node id it expects."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@schema.parametrize()
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, deployment: Deployment, api_user: str
) -> None:
    variants: list[dict[str, str]] = [{}]
    if case.operation.label in CSV_OPERATIONS:
        variants.append({"Accept": "text/csv"})  # the CSV by content negotiation, as by `format=csv`
    for headers in variants:
        response = case.call(headers=headers, timeout=30)
        SENT[backend_of(deployment), api_user, case.operation.label, response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)


def test_at_least_1000_requests_per_database(
    deployment: Deployment, record_property: pytest.RecordProperty
) -> None:
    """Runs after the generated requests of its database (pytest groups the tests by `deployment`)."""
    backend = backend_of(deployment)
    sent = {key[1:]: count for key, count in SENT.items() if key[0] == backend}
    by_user = {user: sum(n for (u, _, _), n in sent.items() if u == user) for user in USERS}
    by_status = Counter[int]()
    for (_, _, status), count in sent.items():
        by_status[status] += count
    total = sum(by_user.values())
    seconds = time.monotonic() - STARTED.get(backend, time.monotonic())
    summary = (
        f"schemathesis on {backend}: {total} requests in {seconds:.0f} s; by user {by_user}; "
        f"by status {dict(sorted(by_status.items()))}"
    )
    print(summary)
    record_property("schemathesis_requests", total)
    report = deployment.server.log_path.parent / "schemathesis.json"
    report.write_text(
        json.dumps(
            {
                "backend": backend,
                "total": total,
                "seconds": round(seconds, 1),
                "by_user": by_user,
                "by_operation": [
                    [user, label, status, n] for (user, label, status), n in sorted(sent.items())
                ],
            },
            indent=1,
        )
    )
    assert total >= MIN_REQUESTS, summary
    assert min(by_user[u] for u in WRITERS) > 0 and min(by_user[u] for u in READ_ONLY) > 0, summary
    # The real ids reached real cases: not every request about a case was a 404.
    for user in ("head", "auditor"):
        assert sent.get((user, "GET /api/v1/candidacies/{candidacy_id}", 200), 0) > 0, summary
