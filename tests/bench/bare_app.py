"""The reference endpoint of the HTTP benchmark: a minimal Flask view doing one INSERT and COMMIT per
request, on the same database settings (on SQLite: WAL, BEGIN IMMEDIATE, and the WAL fsynced by the
connection after each commit, before the reply, as for every commit of ours) and served by gunicorn
with the same workers. What Desa Binaan's commands cost beyond it is the cost of the application
itself."""

from __future__ import annotations

import json
import os

from flask import Flask, Response, request
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

from events.database import Database

metadata = MetaData()
bare_rows = Table(
    "bench_bare_rows", metadata, Column("id", Integer, primary_key=True), Column("body", Text, nullable=False)
)


def prepare(database_url: str) -> None:
    """Create the table before the workers start (two workers creating it at once would race)."""
    database = Database(database_url)
    metadata.create_all(database.engine)
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
