"""The chain's hash never changes: logs written by earlier releases must still verify. The hash is the
SHA-256 of the canonical JSON of everything stored (`events.store.event_hash`), pinned here by its
definition and by digests an earlier release computed."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from events.store import RecordedEvent, canonical_json, stored_hash_matches

EVENT = RecordedEvent(
    position=7,
    event_id="5f0c6a1e-0000-4000-8000-000000000007",
    stream_type="candidacy",
    stream_id="c-1",
    version=2,
    type="CandidacyCoordinated",
    schema_version=1,
    data={"held_on": "2024-02-21", "notes": 'Desa "Cibodas" \u2014 tab\there', "n": 3, "b": None},
    actor_username="kasi.bogor",
    actor_name="Siti Nur'aini",
    actor_role="section_head",
    actor_office=None,
    request_id="req-1",
    recorded_at="2024-02-21T03:00:00.000000Z",
    prev_hash="ab" * 32,
    hash="",
)


def as_documented(event: RecordedEvent) -> str:
    content = {
        "position": event.position,
        "event_id": event.event_id,
        "stream_type": event.stream_type,
        "stream_id": event.stream_id,
        "version": event.version,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "actor": {
            "username": event.actor_username,
            "name": event.actor_name,
            "role": event.actor_role,
            "office_code": event.actor_office,
            # Recorded from accounts-as-events on; absent, the hash is the earlier releases' one.
            **({"id": event.actor_id} if event.actor_id is not None else {}),
        },
        "request_id": event.request_id,
        "recorded_at": event.recorded_at,
        "prev_hash": event.prev_hash,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    ("office", "digest_of_an_earlier_release"),
    [
        (None, "28930e507e9b04c476d1ddc5ddc91044d224b069c0819b6d7a04d969ff85271e"),
        ("BOGOR", "130145385ee9f8293db916d046cd0234411f0a6ba3bbf8e7808f53a61254ed35"),
    ],
)
def test_the_hash_is_the_documented_one_and_has_not_changed(
    office: str | None, digest_of_an_earlier_release: str
) -> None:
    event = dataclasses.replace(EVENT, actor_office=office)
    assert event.computed_hash() == as_documented(event) == digest_of_an_earlier_release


def test_a_stored_row_matches_only_its_own_hash() -> None:
    event = dataclasses.replace(EVENT, hash=as_documented(EVENT))
    row = (
        event.position,
        event.event_id,
        event.stream_type,
        event.stream_id,
        event.version,
        event.type,
        event.schema_version,
        canonical_json(event.data),
        event.actor_username,
        event.actor_name,
        event.actor_role,
        event.actor_office,
        event.request_id,
        event.recorded_at,
        event.prev_hash,
        event.hash,
        event.actor_id,
    )
    assert stored_hash_matches(row)
    assert not stored_hash_matches((*row[:9], "Siti Nuraini", *row[10:]))
    assert not stored_hash_matches((*row[:7], canonical_json({**event.data, "n": 4}), *row[8:]))
    assert not stored_hash_matches((*row[:16], "5f0c6a1e-0000-4000-8000-0000000000aa"))


def test_the_actors_id_is_part_of_the_hash_when_recorded() -> None:
    with_id = dataclasses.replace(EVENT, actor_id="5f0c6a1e-0000-4000-8000-0000000000aa")
    other_id = dataclasses.replace(EVENT, actor_id="5f0c6a1e-0000-4000-8000-0000000000bb")
    assert with_id.computed_hash() == as_documented(with_id)
    assert len({EVENT.computed_hash(), with_id.computed_hash(), other_id.computed_hash()}) == 3
