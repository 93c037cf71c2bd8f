"""What an auditor reads: the whole log in position order, the ledger head, and the chain's check."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection

from domain import rules
from domain.actors import Actor
from domain.errors import InvalidInput, RuleBroken
from events.store import EventStore
from service.pagination import MAX_POSITION, Page, decode_position_cursor, encode_cursor
from service.representations import event_as_dict


def start_position(after: int | None, cursor: str | None) -> int:
    """Where a page of the feed starts: `after` a position a tailing client saw, or a cursor."""
    if after is not None and cursor is not None:
        raise InvalidInput.field("cursor", "give either after or cursor, not both")
    if cursor is not None:
        return decode_position_cursor(cursor)
    return after or 0


def event_feed(conn: Connection, actor: Actor, *, after: int, limit: int) -> tuple[Page, dict[str, Any]]:
    """Up to `limit` events after `after`, and the ledger head of the same snapshot.

    Positions are handed out under the one write lock and committed in order, so a snapshot never
    holds position n+1 without n: a client tailing with `after=<last seen>` never skips an event.
    """
    rules.check_may_audit(actor)
    head = ledger_head(conn, actor)
    if after > head["position"]:
        # A consumer ahead of the log: the database was restored from a backup, or lost writes. An
        # empty page would let it wait forever for positions that will be given to other events.
        raise RuleBroken(
            f"the ledger is behind your position: its head is {head['position']}, you have seen {after}"
            " (a restore or a lost write); compare your last digest with GET /ledger",
            rule="ledger_behind",
        )
    # As recorded, not upcast: a downstream system checks each hash over exactly these fields.
    recorded = EventStore().read_all(conn, after=min(after, MAX_POSITION), limit=limit, upcast=False)
    items = [event_as_dict(e) for e in recorded]
    more = bool(recorded) and recorded[-1].position < head["position"]
    next_cursor = encode_cursor("p", recorded[-1].position) if more else None
    return Page(items=items, next_cursor=next_cursor), head


def ledger_head(conn: Connection, actor: Actor) -> dict[str, Any]:
    rules.check_may_audit(actor)
    head = EventStore().head(conn)
    return {"position": head.position, "digest": head.hash, "recorded_at": head.recorded_at or None}


def verify_ledger(
    conn: Connection,
    actor: Actor,
    *,
    seconds: float,
    position: int | None = None,
    digest: str | None = None,
) -> dict[str, Any]:
    """The chain walked from the start, or from a position whose digest the caller kept, for at most
    about `seconds`: a long log is verified over several requests, each going on from
    `continue_from`, so that none runs into the server's worker timeout."""
    rules.check_may_audit(actor)
    start = {} if position is None or digest is None else {"position": position, "digest": digest}
    result = EventStore().verify(conn, until=time.monotonic() + seconds, **start)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_bad_position": result.first_bad_position,
        "reason": result.reason,
        "complete": result.complete,
        "verified_from": result.verified_from,
        "verified_to": result.verified_to,
        "continue_from": (
            None if result.complete else {"position": result.verified_to, "digest": result.digest}
        ),
    }
