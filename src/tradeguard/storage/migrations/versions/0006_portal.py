"""portal: retrain_jobs (the targeter's retraining, run outside the request)

The table of ``storage/tables_portal.py`` as of issue 5.  Frozen: later changes go into a new
revision.

Revision ID: 0006_portal
Revises: 0005_enforcement
Create Date: 2026-12-03 11:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006_portal"
down_revision: str | Sequence[str] | None = "0005_enforcement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "retrain_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "status", sa.String(length=10), nullable=False, comment="running|finished|failed"
        ),
        sa.Column(
            "running_slot",
            sa.Integer(),
            nullable=True,
            comment="1 while running, null after: one job at a time",
        ),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column(
            "host",
            sa.String(length=255),
            nullable=False,
            comment="machine of the training process",
        ),
        sa.Column(
            "pid",
            sa.Integer(),
            nullable=True,
            comment="training process id, to notice one that died",
        ),
        sa.Column(
            "model_id",
            sa.String(length=100),
            nullable=True,
            comment="the candidate registered (finished jobs)",
        ),
        sa.Column("error", sa.Text(), nullable=True, comment="why the job failed"),
        sa.Column(
            "result", sa.JSON(), nullable=True, comment="timings and sizes of the training run"
        ),
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'failed')", name=op.f("ck_retrain_jobs_status")
        ),
        sa.CheckConstraint(
            "running_slot IS NULL OR running_slot = 1", name=op.f("ck_retrain_jobs_running_slot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrain_jobs")),
        sa.UniqueConstraint("running_slot", name=op.f("uq_retrain_jobs_running_slot")),
    )
    op.create_index("ix_retrain_jobs_started_at", "retrain_jobs", ["started_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_retrain_jobs_started_at", table_name="retrain_jobs")
    op.drop_table("retrain_jobs")
