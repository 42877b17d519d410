"""Tables of the portal's long-running work: retraining jobs.

A targeter's "retrain" runs outside the request (a child process, see
``outcomes.retrain_jobs``); ``retrain_jobs`` is where the request, the page that shows its
progress and the process doing the work meet.  At most one job runs at a time, whichever
server process started it: a running job holds ``running_slot = 1`` and the unique constraint
refuses a second one (NULLs do not collide, so finished jobs keep no slot).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tradeguard.storage.base import metadata

RETRAIN_STATUSES = ("running", "finished", "failed")

retrain_jobs = Table(
    "retrain_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("status", String(10), nullable=False, comment="running|finished|failed"),
    Column("running_slot", Integer, comment="1 while running, null after: one job at a time"),
    Column("started_by", String(100), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("host", String(255), nullable=False, comment="machine of the training process"),
    Column("pid", Integer, comment="training process id, to notice one that died"),
    Column("model_id", String(100), comment="the candidate registered (finished jobs)"),
    Column("error", Text, comment="why the job failed"),
    Column("result", JSON, comment="timings and sizes of the training run"),
    CheckConstraint("status IN ('running', 'finished', 'failed')", name="status"),
    CheckConstraint("running_slot IS NULL OR running_slot = 1", name="running_slot"),
    UniqueConstraint("running_slot"),
)
Index("ix_retrain_jobs_started_at", retrain_jobs.c.started_at)
