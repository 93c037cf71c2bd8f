"""Documents: their bytes stored insert-only by SHA-256, who uploaded them, and which case's events
name them; the documents named with each activity, residents' report and evaluation (those read
models are made anew with the column, and filled from the log).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None
# New read models and columns: service/migrate.py fills them from the log in the migration's
# transaction.
REBUILDS_READ_MODELS = True

INSERT_ONLY = ("documents", "document_uploads")


def _sqlite_insert_only(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} are insert-only: UPDATE refused'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} are insert-only: DELETE refused'); END""",
    ]


POSTGRES_FUNCTION = """CREATE FUNCTION insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% are insert-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$"""


def _postgres_insert_only(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_update_or_delete BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION insert_only()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION insert_only()""",
    ]


def _fostering_read_models(*, with_documents: bool) -> None:
    """Activities, residents' reports and evaluations, made anew (the migration refills them from the
    log): with their `documents` column, or without it as revision 0016 had them."""
    for table in ("activities", "village_reports", "evaluations"):
        op.drop_table(table)

    def documents() -> list[sa.Column]:
        return [sa.Column("documents", sa.JSON, nullable=False)] if with_documents else []

    op.create_table(
        "activities",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("candidacy_id", sa.String(36), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("held_on", sa.String(10), nullable=False),
        sa.Column("participants", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("topics", sa.JSON, nullable=False),
        sa.Column("recorded", sa.JSON, nullable=False),
        *documents(),
    )
    op.create_index("ix_activities_case", "activities", ["candidacy_id", "position"])
    op.create_table(
        "village_reports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("candidacy_id", sa.String(36), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("verify_by", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("received", sa.JSON, nullable=False),
        sa.Column("verified_at", sa.String(32)),
        sa.Column("close_by", sa.String(32)),
        sa.Column("verified", sa.JSON),
        sa.Column("closed_at", sa.String(32)),
        sa.Column("closed", sa.JSON),
        *documents(),
    )
    op.create_index("ix_village_reports_case", "village_reports", ["candidacy_id", "position"])
    op.create_table(
        "evaluations",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("candidacy_id", sa.String(36), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("rating", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("recorded", sa.JSON, nullable=False),
        *documents(),
    )
    op.create_index("ix_evaluations_case", "evaluations", ["candidacy_id", "period", "position"])


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "document_uploads",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("uploaded_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "case_documents",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("candidacy_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_case_documents_sha256", "case_documents", ["sha256"])
    op.create_index("ix_case_documents_case", "case_documents", ["candidacy_id", "position"])
    _fostering_read_models(with_documents=True)
    if op.get_bind().dialect.name == "postgresql":
        statements = [POSTGRES_FUNCTION] + [s for t in INSERT_ONLY for s in _postgres_insert_only(t)]
    else:
        statements = [s for t in INSERT_ONLY for s in _sqlite_insert_only(t)]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    """Only while no document is stored: the evidence is insert-only; restore the backup taken before
    the upgrade instead."""
    if op.get_bind().execute(sa.text("SELECT 1 FROM documents LIMIT 1")).first():
        raise RuntimeError(
            "documents are stored from revision 0017 on, and they are insert-only:"
            " restore the backup taken before the upgrade instead of downgrading"
        )
    _fostering_read_models(with_documents=False)
    op.drop_table("case_documents")
    op.drop_table("document_uploads")
    op.drop_table("documents")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION insert_only()")
