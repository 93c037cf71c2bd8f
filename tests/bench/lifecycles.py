"""N five-step lifecycles (a proposal and four actions) through the Flask test client, on a fresh
database: a deterministic workload for counting the instructions a command costs, where timings on a
shared machine are too noisy to compare two versions of the code.

    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \\
        python -m tests.bench.lifecycles sqlite|postgres N

Instructions per command: (the count at N=50 minus the count at N=10) / 200, which leaves out the
start-up and the set-up. On PostgreSQL this counts the client (our process) only.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from service.app import create_app
from tests.bench.common import scratch_database
from tests.bench.http_load import ACTION_BODIES, LIFECYCLE, _prepare, proposal


def main() -> None:
    engine, count = sys.argv[1], int(sys.argv[2])
    logging.disable(logging.CRITICAL)  # the request log is not the work measured
    with (
        tempfile.TemporaryDirectory(prefix="desa-binaan-lifecycles-") as directory,
        scratch_database(engine, Path(directory)) as url,
    ):
        tokens = _prepare(url)
        app = create_app({"DATABASE_URL": url})
        client = app.test_client()

        def post(path: str, body: dict[str, Any], username: str) -> Any:
            response = client.post(path, json=body, headers={"Authorization": f"Bearer {tokens[username]}"})
            if response.status_code >= 300:
                raise RuntimeError(f"{path}: {response.status_code} {response.get_data(as_text=True)}")
            return response.get_json()

        for number in range(count):
            village = f"32.01.{10 + number // 1000:02d}.{2000 + number % 1000}"
            case_id = post(
                "/api/v1/candidacies", proposal(village, village_name=f"Desa {number}"), "officer"
            )["id"]
            for action, username in LIFECYCLE:
                post(f"/api/v1/candidacies/{case_id}/{action}", ACTION_BODIES[action], username)
        app.extensions["desa_binaan"].db.dispose()


if __name__ == "__main__":
    main()
