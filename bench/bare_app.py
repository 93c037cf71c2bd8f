"""The reference endpoint of the HTTP benchmark: a minimal Flask view doing one INSERT and COMMIT per
request, served by gunicorn with the same workers as the application, at the same durability.

On SQLite it goes through the application's own engine (`events.database.Database.engine`): WAL mode
with `synchronous=FULL` (the WAL synced before a commit is published) and the write lock taken at
`BEGIN IMMEDIATE`. Not through `Database.write()`, which on PostgreSQL locks the ledger head of the
application's schema: this endpoint's one table is not that schema. On PostgreSQL each commit runs
with the server's `synchronous_commit`, `on` by default (the commit answered once its WAL record is
flushed), as the application pins it; `prepare` refuses a server where it is not on. What Desa
Binaan's commands cost beyond this endpoint is the cost of the application itself.
"""

from __future__ import annotations

import json
import os

from flask import Flask, Response, request
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, text

from events.database import Database

metadata = MetaData()
bare_rows = Table(
    "bench_bare_rows", metadata, Column("id", Integer, primary_key=True), Column("body", Text, nullable=False)
)


def prepare(database_url: str) -> None:
    """Create the table before the workers start (two workers creating it at once would race)."""
    database = Database(database_url)
    try:
        if not database.is_sqlite:
            with database.engine.connect() as conn:
                setting = conn.execute(text("SHOW synchronous_commit")).scalar_one()
            if setting != "on":
                raise RuntimeError(f"synchronous_commit is {setting}: the bare endpoint would not be durable")
        metadata.create_all(database.engine)
    finally:
        database.dispose()


database = Database(os.environ.get("DATABASE_URL", "sqlite://"))
app = Flask("bare")


@app.post("/bare")
def bare() -> Response:
    body = request.get_data(as_text=True)
    with database.engine.connect() as conn:
        if database.is_sqlite:
            conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            conn.execute(insert(bare_rows).values(body=body))
    return Response(json.dumps({"ok": True}), status=201, mimetype="application/json")
