"""A procedure that fails its transaction unless a bearer token is live and still its actor's
(PostgreSQL): a write sends it with its BEGIN instead of looking the token up first.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
# A procedure only: the read models are untouched.
REBUILDS_READ_MODELS = False

# SQLSTATE 28000, invalid_authorization_specification: what `service.auth.TOKEN_NOT_LIVE` recognizes.
CREATE_PROCEDURE = """
CREATE PROCEDURE confirm_live_token(
    digest text, actor_username text, actor_role text, actor_office text, actor_region text
) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM api_tokens JOIN users ON users.username = api_tokens.username
    WHERE api_tokens.token_hash = digest AND api_tokens.revoked_at IS NULL AND users.active
      AND users.username = actor_username AND users.role = actor_role
      AND users.office_code IS NOT DISTINCT FROM actor_office
      AND users.region_code IS NOT DISTINCT FROM actor_region;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the token is unknown or revoked'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        op.execute(CREATE_PROCEDURE)


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        op.execute("DROP PROCEDURE IF EXISTS confirm_live_token(text, text, text, text, text)")
