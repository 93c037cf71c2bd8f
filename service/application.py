"""The service's one way in, free of HTTP: commands run in a unit of work, queries in a snapshot.

application.execute(handlers.propose, actor, command, request_id=...)    # the handler's result
application.reply_to(handlers.propose, actor, command, request_id=..., respond=...)  # a kept reply
application.query(cases.get_case, actor, candidacy_id)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection

from domain.actors import Actor
from events.database import Database
from events.store import EventMetadata, EventStore, format_timestamp
from events.unit_of_work import Clock, UnitOfWork, WriteTransaction
from service import idempotency
from service.idempotency import IdempotencyRequest, Reply

C = TypeVar("C")
R = TypeVar("R")
P = ParamSpec("P")
Handler = Callable[[WriteTransaction, Actor, C], R]


class Application:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.db = database
        self.clock = clock
        self.uow = UnitOfWork(database, clock)
        self.store: EventStore = self.uow.store

    def execute(self, handler: Handler[C, R], actor: Actor, command: C, *, request_id: str) -> R:
        """Run the handler in one unit of work; its result, once committed."""
        with self.uow.write(EventMetadata.of(actor, request_id)) as tx:
            return handler(tx, actor, command)

    def reply_to(
        self,
        handler: Handler[C, R],
        actor: Actor,
        command: C,
        *,
        request_id: str,
        respond: Callable[[R], Reply],
        idempotency_request: IdempotencyRequest | None = None,
    ) -> Reply:
        """Run the handler in one unit of work and answer with `respond(result)`, made before the
        commit so that it is kept with the idempotency key, if any, in the same transaction. A key
        already used gets its first reply, and nothing runs. The reply leaves only once committed."""
        with self.uow.write(EventMetadata.of(actor, request_id)) as tx:
            if idempotency_request is not None:
                earlier = idempotency.find(tx.conn, actor.username, idempotency_request)
                if earlier is not None:
                    return earlier
            reply = respond(handler(tx, actor, command))
            if idempotency_request is not None:
                kept_at = format_timestamp(tx.now)
                idempotency.keep(tx.conn, actor.username, idempotency_request, reply, kept_at)
        return reply

    def query(self, query: Callable[Concatenate[Connection, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a query in one read snapshot."""
        with self.db.read() as conn:
            return query(conn, *args, **kwargs)

    def lookup(self, query: Callable[Concatenate[Connection, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a query of one statement, outside any transaction (it is a snapshot by itself)."""
        with self.db.lookup() as conn:
            return query(conn, *args, **kwargs)
