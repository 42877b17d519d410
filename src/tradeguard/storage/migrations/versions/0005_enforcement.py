"""enforcement: violations of seizures and cases, referral resolution, liquidation adjustments

What the enforcement half of issue 5 needs beyond ``0003_outcomes``:

- ``seizures.violation`` and ``penalty_cases.violation``: the violation each action enforces,
  so a seizure or a case becomes a labelled outcome for learning;
- ``penalty_cases.interest_usd``: the interest a prior disclosure of a (gross) negligence case
  is lowered to, kept so the case page can show how the statutory maximum was computed;
- ``referrals.resolved_by / resolved_at / resolution / case_id``: how the receiving office
  (audit, penalties) took or declined a referral, and the case opened on it;
- ``liquidations.adjustment_usd / violation / note``: duties changed at liquidation beyond
  what the findings established (an increase is a labelled outcome too).

Every new column is nullable or has a server default, so rows written by earlier code (and
``entities.leads.refer_lead``, which inserts referrals directly) stay valid.  Frozen: later
changes go into a new revision.

Revision ID: 0005_enforcement
Revises: 0004_entities
Create Date: 2026-11-23 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005_enforcement"
down_revision: str | Sequence[str] | None = "0004_entities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=14, scale=2)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("seizures", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "violation",
                sa.String(length=30),
                nullable=True,
                comment="the violation the seizure enforces (its basis)",
            )
        )
    with op.batch_alter_table("penalty_cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "violation",
                sa.String(length=30),
                nullable=True,
                comment="the violation the case enforces",
            )
        )
        batch_op.add_column(
            sa.Column(
                "interest_usd",
                MONEY,
                nullable=True,
                comment="interest on the lost duties (prior disclosure)",
            )
        )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "resolution",
                sa.Text(),
                nullable=True,
                comment="what the receiving office did, or why it declined",
            )
        )
        batch_op.add_column(
            sa.Column(
                "case_id",
                sa.Integer(),
                nullable=True,
                comment="the penalty case opened on the referral",
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_referrals_case_id_penalty_cases"),
            "penalty_cases",
            ["case_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_referrals_kind_status", ["kind", "status"], unique=False)
    with op.batch_alter_table("liquidations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "adjustment_usd",
                MONEY,
                server_default=sa.text("0"),
                nullable=False,
                comment="duties changed at liquidation beyond the findings (+ increase, - refund)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "violation",
                sa.String(length=30),
                nullable=True,
                comment="what an increase at liquidation corrected",
            )
        )
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("liquidations", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("violation")
        batch_op.drop_column("adjustment_usd")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_kind_status")
        batch_op.drop_constraint(
            batch_op.f("fk_referrals_case_id_penalty_cases"), type_="foreignkey"
        )
        batch_op.drop_column("case_id")
        batch_op.drop_column("resolution")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by")
    with op.batch_alter_table("penalty_cases", schema=None) as batch_op:
        batch_op.drop_column("interest_usd")
        batch_op.drop_column("violation")
    with op.batch_alter_table("seizures", schema=None) as batch_op:
        batch_op.drop_column("violation")
