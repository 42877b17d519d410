"""Tables of the HTTP service: users and their bindings, tokens, the audit log, idempotency,
the stored risk assessments and lane decisions, and the targeters' and supervisors' settings
(rules, models, allegations, port capacities).

``assessments`` and ``decisions`` keep the column names of the risk/decisions contract
(``score_<pti>``, ``lane``, ``reason_code`` ...) so an Arrow batch from ``risk.score_batch`` or
``decisions.assign_lanes`` is inserted as is.  ``audit_log`` is append-only: no code path
updates or deletes its rows.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from tradeguard.domain.codes import PTI
from tradeguard.storage.base import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False, comment="argon2id"),
    Column("role", String(30), nullable=False, comment="domain.codes.Role"),
    Column("filer_code", String(3), comment="filers only: the code their entry numbers carry"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
)

# A filer acts for these importers of record; an officer or specialist works these ports.
user_importers = Table(
    "user_importers",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("importer_id", String(40), primary_key=True),
)

user_ports = Table(
    "user_ports",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("port_code", String(4), primary_key=True),
)

# Only the SHA-256 of a bearer token is stored: a leaked table grants nothing.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("user_id", Integer),
    Column("username", String(100)),
    Column("action", String(40), nullable=False, comment="read|create|update|release|..."),
    Column("resource_type", String(40), nullable=False),
    Column("resource_id", String(100)),
    Column("detail", JSON),
)
Index("ix_audit_log_at", audit_log.c.at)
Index("ix_audit_log_resource", audit_log.c.resource_type, audit_log.c.resource_id)

# The first answer given to a filing, replayed when the same content comes again.
idempotency = Table(
    "idempotency",
    metadata,
    Column("entry_number", String(13), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

assessments = Table(
    "assessments",
    metadata,
    Column("entry_number", String(13), primary_key=True),
    Column("line_number", Integer, primary_key=True, autoincrement=False),
    *[Column(f"score_{p.value}", Float) for p in PTI],
    Column("score", Float, nullable=False),
    Column("revenue_at_risk_usd", Float),
    Column("rule_points", Float),
    Column("mandatory", Boolean),
    Column("mandatory_reason", Text),
    Column("reasons", Text, comment="compact JSON list, see the risk contract"),
    Column("bundle_version", String(100)),
    Column("scored_at", DateTime, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("entry_number", String(13), primary_key=True),
    Column("port_code", String(4), nullable=False, comment="copied to count a port's day usage"),
    Column("lane", String(30), nullable=False),
    Column("score", Float),
    Column("random_sample", Boolean),
    Column("sample_stratum", String(100)),
    Column("sample_weight", Float),
    Column("reason", Text),
    Column("reason_code", String(40)),
    Column("decided_at", DateTime, nullable=False),
)
Index("ix_decisions_port_code_decided_at", decisions.c.port_code, decisions.c.decided_at)
Index("ix_decisions_lane_score", decisions.c.lane, decisions.c.score)

rules = Table(
    "rules",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
    Column("format", String(10), nullable=False, comment="yaml|json"),
    Column("status", String(10), nullable=False, comment="active|retired"),
    Column("author", String(100), nullable=False),
    Column("at", DateTime, nullable=False),
)

models = Table(
    "models",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Column("metrics", JSON),
    Column("path", String(500)),
    Column("bytes", LargeBinary),
    Column("promoted", Boolean, nullable=False, default=False),
    Column("promoted_at", DateTime),
    Column("promoted_by", String(100)),
)

allegations = Table(
    "allegations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(20), nullable=False, comment="trade|public|agency|anonymous"),
    Column("text", Text, nullable=False),
    Column("target_type", String(20), nullable=False, comment="importer|manufacturer|hts"),
    Column("target_id", String(40), nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("received_by", String(100), nullable=False),
)
Index("ix_allegations_target", allegations.c.target_type, allegations.c.target_id)

port_capacity = Table(
    "port_capacity",
    metadata,
    Column("port_code", String(4), primary_key=True),
    Column("exams_per_day", Integer, nullable=False),
    Column("reviews_per_day", Integer, nullable=False),
    Column("updated_by", String(100), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("success", Boolean, nullable=False),
)
Index("ix_login_attempts_username_at", login_attempts.c.username, login_attempts.c.at)
Index("ix_login_attempts_ip_at", login_attempts.c.ip, login_attempts.c.at)
