"""Tables of the log and of the read models projected from it (SQLAlchemy Core).

The schema itself is created by the Alembic migrations in `service/migrations`; these definitions are
what the code queries, and a test checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

GENESIS_HASH = "0" * 64

events = Table(
    "events",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_type", String(32), nullable=False),
    Column("stream_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("actor_username", String(64), nullable=False),
    Column("actor_name", String(200), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("actor_office", String(32)),
    Column("request_id", String(64), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # The acting user's stable id (`users.id`), when there is one: added by migration 0012, so last.
    Column("actor_id", String(36)),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    # Reports as of a past day find the ledger head of that day by time.
    Index("ix_events_recorded_at", "recorded_at"),
)

# One row: the newest position and hash. Every writer takes it first, so positions are contiguous
# and in commit order.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", String(32), nullable=False),
)

# The cases that hold their village: the partial unique index's condition, which a query must state in
# these very words for the database to use that index (SQLite matches the terms as written).
HOLDS_VILLAGE = "stage NOT IN ('rejected', 'revoked', 'withdrawn')"

candidacies = Table(
    "candidacies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("stage", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("village_code", String(13), nullable=False),
    Column("village_name", String(200), nullable=False),
    Column("district_name", String(200)),
    Column("regency_name", String(200)),
    Column("province_name", String(200)),
    Column("office_code", String(32), nullable=False),
    Column("region_code", String(32), nullable=False),
    Column("proposed_year", Integer, nullable=False),
    Column("proposed_position", BigInteger, nullable=False, unique=True),
    Column("rationale", Text, nullable=False),
    Column("indicators", JSON, nullable=False),
    Column("proposed", JSON, nullable=False),
    # The day the case began as the proposer gave it, if given; and the day it began as reckoned
    # (that day, else the earliest day recorded on it). Never null once projected; nullable so that
    # migration 0010 could add it to a filled table before the rebuild fills it.
    Column("proposed_on", String(10)),
    Column("started_on", String(10)),
    Column("coordinated", JSON),
    Column("socialized", JSON),
    Column("assessed", JSON),
    Column("designated", JSON),
    Column("closed", JSON),
    Column("returned", JSON),
    # From the designation: {since, officers: [{username, name}], assigned: the decree's stamp or null}.
    Column("fostering", JSON),
    Column("revoked", JSON),
    Column("updated_at", String(32), nullable=False),
    Column("last_position", BigInteger, nullable=False),
    Index("ix_candidacies_office", "office_code", "proposed_position"),
    Index("ix_candidacies_region", "region_code", "proposed_position"),
    # One live or designated candidacy per village, enforced by the database as well as by the rule.
    Index(
        "uq_candidacies_village_held",
        "village_code",
        unique=True,
        sqlite_where=text(HOLDS_VILLAGE),
        postgresql_where=text(HOLDS_VILLAGE),
    ),
)

# Per office and stage, how many cases are in it now: the current pipeline without a scan of cases.
pipeline_counts = Table(
    "pipeline_counts",
    metadata,
    Column("office_code", String(32), primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("cases", Integer, nullable=False),
)

# Per office, day (WIB) and stage, the net number of cases that entered the stage that day. The
# pipeline as of any day is the sum up to it: a query over days, never a replay of the log.
stage_changes = Table(
    "stage_changes",
    metadata,
    Column("office_code", String(32), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("delta", Integer, nullable=False),
    Index("ix_stage_changes_day", "day"),
    # Rejections and withdrawals of a year, for every office, from the index alone.
    Index("ix_stage_changes_stage_day", "stage", "day", "office_code", "delta"),
)

# Per office, stage and day, how many cases were in the stage at the end of that day, for the days
# on which it changed. The pipeline as of any day is, per office and stage, the newest row up to it:
# one index seek each, however long the history.
stage_levels = Table(
    "stage_levels",
    metadata,
    Column("office_code", String(32), primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("cases", Integer, nullable=False),
)

# The designation register: one row per designated village, with everyone who took it there.
designations = Table(
    "designations",
    metadata,
    Column("candidacy_id", String(36), primary_key=True),
    Column("position", BigInteger, nullable=False, unique=True),
    Column("village_code", String(13), nullable=False),
    Column("village_name", String(200), nullable=False),
    Column("district_name", String(200)),
    Column("regency_name", String(200)),
    Column("province_name", String(200)),
    Column("office_code", String(32), nullable=False),
    Column("region_code", String(32), nullable=False),
    Column("decree_number", String(200), nullable=False),
    Column("decree_date", String(10), nullable=False),
    Column("decree_year", Integer, nullable=False),
    Column("quarter", String(2), nullable=False),
    Column("fostering_officers", JSON, nullable=False),
    Column("proposed_by", JSON, nullable=False),
    Column("coordinated_by", JSON, nullable=False),
    Column("socialized_by", JSON, nullable=False),
    Column("assessed_by", JSON, nullable=False),
    Column("approved_by", JSON, nullable=False),
    Column("recorded_day", String(10), nullable=False),
    Column("days_to_designation", Integer, nullable=False),
    Index("ix_designations_year", "decree_year", "office_code"),
    # What a performance report reads of a year's designations, from the index alone.
    Index(
        "ix_designations_year_figures",
        "decree_year",
        "office_code",
        "quarter",
        "days_to_designation",
        "recorded_day",
    ),
    Index("ix_designations_office", "office_code", "position"),
)

# Per office, decree year and quarter: how many villages were designated and each one's days to
# designation, ascending and comma-joined. A year's report reads its medians from these few rows
# instead of from every designation; a report as of a past day reads the register itself.
designation_days = Table(
    "designation_days",
    metadata,
    Column("office_code", String(32), primary_key=True),
    Column("decree_year", Integer, primary_key=True),
    Column("quarter", String(2), primary_key=True),
    Column("designated", Integer, nullable=False),
    Column("days", Text, nullable=False),
)

# Per office, year (WIB, of the day it was recorded) and closing stage (rejected, withdrawn): the net
# number of cases that entered it, the daily changes of those stages summed per year. A year's report
# reads its closings from these few rows instead of from every day's changes.
closings = Table(
    "closings",
    metadata,
    Column("office_code", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("cases", Integer, nullable=False),
)

# Each office's current target per year, and every change of it (for reports as of a past day).
targets = Table(
    "targets",
    metadata,
    Column("office_code", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("target", Integer, nullable=False),
    Column("basis", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("set_at", String(32), nullable=False),
    Column("set_by", JSON, nullable=False),
    Column("last_position", BigInteger, nullable=False),
    Index("ix_targets_year", "year"),
)

target_history = Table(
    "target_history",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("office_code", String(32), nullable=False),
    Column("year", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("target", Integer, nullable=False),
    Column("basis", Text, nullable=False),
    Column("set_at", String(32), nullable=False),
    Column("set_day", String(10), nullable=False),
    Column("set_by", JSON, nullable=False),
    Index("ix_target_history_year", "year", "office_code", "set_day"),
)

# Every account as it stands, from its `user` stream: who may act, and in what scope.
users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("office_code", String(32)),
    Column("region_code", String(32)),
    Column("active", Boolean, nullable=False),
    Column("created_at", String(32), nullable=False),
    # The position of the event that gave the user their current role and scope.
    Column("role_position", BigInteger, nullable=False),
    Index("ix_users_office", "office_code"),
)

# Every grant of a role and scope (an account opened, or its role or scope changed), by position: the
# authority each act in the log rested on is the acting user's newest grant before the act.
role_grants = Table(
    "role_grants",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", String(36), nullable=False),
    Column("username", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("office_code", String(32)),
    Column("region_code", String(32)),
    Column("imported", Boolean, nullable=False),
    Index("ix_role_grants_user", "user_id", "position"),
    Index("ix_role_grants_username", "username", "position"),
)

# The organisation as it stands, from the `region` and `office` streams; an office's region name is
# its region's, joined when read.
regions = Table(
    "regions",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
)

# Every name of every region with the day it held from, by position: a rename holds from the day it
# was recorded; the name a region was added with, since before the records (null).
region_history = Table(
    "region_history",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("code", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("effective_on", String(10)),
)

offices = Table(
    "offices",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit_type", String(16), nullable=False),
    Column("region_code", String(32), nullable=False),
    Column("regencies", JSON, nullable=False),
    # The day its newest change holds from (null: an office imported as it stood, since before records).
    Column("effective_on", String(10)),
    Index("ix_offices_region", "region_code"),
)

# Every state of every office with the day it held from, by position: an office's history, and the
# organisation as it stood on any day.
office_history = Table(
    "office_history",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("code", String(32), nullable=False),
    Column("effective_on", String(10)),
    Column("name", String(200), nullable=False),
    Column("unit_type", String(16), nullable=False),
    Column("region_code", String(32), nullable=False),
    Column("regencies", JSON, nullable=False),
    Column("changed", JSON, nullable=False),
    Column("taken_by", String(32)),
    Column("recorded_at", String(32), nullable=False),
    Index("ix_office_history_code", "code", "position"),
)

# ---- fostering: a designated village's officers, activities, residents' reports and evaluations ----
# Each row belongs to a case (its office and region are the case's); the case's scope is its readers'.

# The officers now assigned to each fostered village: who sees which village as theirs.
fostering_officers = Table(
    "fostering_officers",
    metadata,
    Column("candidacy_id", String(36), primary_key=True),
    Column("username", String(64), primary_key=True),
    Index("ix_fostering_officers_username", "username"),
)

# Every assignment of officers, by position: who fostered which village as of any moment.
officer_assignments = Table(
    "officer_assignments",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("candidacy_id", String(36), nullable=False),
    Column("officers", JSON, nullable=False),  # [{username, name}]
    Column("decree_number", String(200), nullable=False),
    Column("decree_date", String(10), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Index("ix_officer_assignments_case", "candidacy_id", "position"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("candidacy_id", String(36), nullable=False),
    Column("position", BigInteger, nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("held_on", String(10), nullable=False),
    Column("participants", Integer, nullable=False),
    Column("summary", Text, nullable=False),
    Column("topics", JSON, nullable=False),
    Column("recorded", JSON, nullable=False),  # {at, by, position}
    Column("documents", JSON, nullable=False),  # [sha256]
    Index("ix_activities_case", "candidacy_id", "position"),
)

# A residents' report and its steps; each deadline as its event decided it, each step's time the time
# it was recorded: whether it was overdue at any moment follows from these columns.
village_reports = Table(
    "village_reports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("candidacy_id", String(36), nullable=False),
    Column("position", BigInteger, nullable=False, unique=True),
    Column("received_at", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("verify_by", String(32), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("received", JSON, nullable=False),  # {at, by, position}
    Column("verified_at", String(32)),
    Column("close_by", String(32)),
    Column("verified", JSON),  # {at, by, position, notes, documents}
    Column("closed_at", String(32)),
    Column("closed", JSON),  # {at, by, position, outcome, notes, referred_to, documents}
    Column("documents", JSON, nullable=False),  # [sha256] named with its receipt
    Index("ix_village_reports_case", "candidacy_id", "position"),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("candidacy_id", String(36), nullable=False),
    Column("period", String(7), nullable=False),
    Column("rating", String(16), nullable=False),
    Column("notes", Text, nullable=False),
    Column("recorded", JSON, nullable=False),  # {at, by, position}
    Column("documents", JSON, nullable=False),  # [sha256]
    Index("ix_evaluations_case", "candidacy_id", "period", "position"),
)

# ---- documents: the evidence events name by SHA-256 -----------------------------------------------

# The bytes, stored once per content. Insert-only (triggers refuse UPDATE and DELETE, as on the log):
# what an event named stays what it was.
documents = Table(
    "documents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("media_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("filename", String(255), nullable=False),  # as its first uploader named it
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_at", String(32), nullable=False),
)

# Who uploaded which document (the same bytes may come from several users): an uploader may read it.
document_uploads = Table(
    "document_uploads",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("username", String(64), primary_key=True),
    Column("uploaded_at", String(32), nullable=False),
)

# Read model: the documents each case's events name, by the naming event's position. A reader of the
# case may read them.
case_documents = Table(
    "case_documents",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("sha256", String(64), primary_key=True),
    Column("candidacy_id", String(36), nullable=False),
    Index("ix_case_documents_sha256", "sha256"),
    Index("ix_case_documents_case", "candidacy_id", "position"),
)
