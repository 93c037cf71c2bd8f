"""The key that signs the web application's sessions (`service.pages.secret_key`)."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from flask import Flask

from service.pages import secret_key


def _key_of_a_worker(instance: str) -> str:
    return secret_key(Flask("worker", instance_path=instance))


def test_workers_starting_at_once_share_one_session_key_kept_private(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    with multiprocessing.get_context("spawn").Pool(4) as workers:
        keys = workers.map(_key_of_a_worker, [str(instance)] * 8)
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert [p.name for p in instance.iterdir()] == ["secret_key"]
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
    assert secret_key(Flask("another", instance_path=str(tmp_path / "another"))) != keys[0]
