"""Case rows are looked up in IN lists of a few fixed lengths, whatever the batch size."""

from __future__ import annotations

from typing import Any

from events.projections import _LOOKUP_SIZES, _cases_by_id
from events.schema import candidacies


class FakeConnection:
    """Answers each lookup with the ids asked for, and remembers the list lengths it was sent."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def execute(self, _statement: Any, parameters: dict[str, list[str]]) -> Any:
        ids = parameters["ids"]
        self.lengths.append(len(ids))
        rows = [{"id": i} for i in dict.fromkeys(ids)]

        class Result:
            def mappings(self) -> Any:
                return self

            def all(self) -> list[dict[str, str]]:
                return rows

        return Result()


def test_every_id_is_found_once_in_padded_lookups_of_fixed_lengths() -> None:
    for count in (1, 2, 8, 9, 100, 512, 513, 1300):
        conn = FakeConnection()
        ids = [f"case-{n}" for n in range(count)]

        rows = _cases_by_id(conn, candidacies, ids)  # type: ignore[arg-type]

        assert [row["id"] for row in rows] == ids
        assert set(conn.lengths) <= set(_LOOKUP_SIZES)
