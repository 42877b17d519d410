"""Tables of the outcome loop: seizures, penalty and liquidated-damages cases with their status
history, referrals to audit or penalty, liquidations, and the durable link between a rule and
the lines it selected (``rule_hits``).

Findings themselves live in ``tables_foundation.findings``; these tables record what the
administration did with them.  Money is ``Numeric(14, 2)`` like the foundation tables.
Migrations: ``0003_outcomes`` created them; ``0005_enforcement`` added the violation each
seizure and case enforces, the interest of a prior disclosure, how a referral was resolved,
and the adjustment a liquidation made beyond the findings.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    text,
)

from tradeguard.storage.base import entry_ref, metadata

MONEY = Numeric(14, 2)

seizures = Table(
    "seizures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    entry_ref(),
    Column("goods_description", Text, nullable=False),
    Column("value_usd", MONEY, nullable=False, comment="domestic value of the goods seized"),
    Column("seized_on", Date, nullable=False),
    Column("port_code", String(4), nullable=False),
    Column("recorded_by", String(100), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("violation", String(30), comment="the violation the seizure enforces (its basis)"),
    CheckConstraint("value_usd >= 0", name="value_nonnegative"),
)
Index("ix_seizures_entry_number", seizures.c.entry_number)

# One table for both kinds of case: a 19 U.S.C. 1592 penalty (culpability, statutory maximum)
# and a liquidated-damages claim for breach of a bond condition (an amount claimed).
penalty_cases = Table(
    "penalty_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False, comment="penalty_1592|liquidated_damages"),
    entry_ref(),
    Column("importer_id", String(40), nullable=False),
    Column("culpability", String(20), comment="fraud|gross_negligence|negligence (1592 only)"),
    Column("prior_disclosure", Boolean, nullable=False, default=False),
    Column("domestic_value_usd", MONEY),
    Column("dutiable_value_usd", MONEY),
    Column("lost_duties_usd", MONEY),
    Column("statutory_max_usd", MONEY, comment="computed by outcomes.penalties"),
    Column("bond_number", String(40), comment="liquidated damages: the bond breached"),
    Column("assessed_usd", MONEY, nullable=False),
    Column("mitigated_usd", MONEY, nullable=False),
    Column("paid_usd", MONEY, nullable=False),
    Column("status", String(12), nullable=False),
    Column("narrative", Text),
    Column("opened_at", DateTime, nullable=False),
    Column("opened_by", String(100), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("violation", String(30), comment="the violation the case enforces"),
    Column("interest_usd", MONEY, comment="interest on the lost duties (prior disclosure)"),
    CheckConstraint("status IN ('open', 'mitigated', 'paid', 'closed')", name="status"),
    CheckConstraint("kind IN ('penalty_1592', 'liquidated_damages')", name="kind"),
)
Index("ix_penalty_cases_entry_number", penalty_cases.c.entry_number)
Index("ix_penalty_cases_importer_id", penalty_cases.c.importer_id)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("penalty_cases.id", ondelete="CASCADE"), nullable=False),
    Column("from_status", String(12)),
    Column("to_status", String(12), nullable=False),
    Column("amount_usd", MONEY, comment="mitigated or paid amount of this step"),
    Column("at", DateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("reason", Text),
)
Index("ix_case_events_case_id", case_events.c.case_id)

referrals = Table(
    "referrals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    entry_ref(),
    Column("kind", String(10), nullable=False, comment="audit|penalty"),
    Column("reason", Text, nullable=False),
    Column("referred_by", String(100), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("status", String(10), nullable=False, comment="open|taken|declined"),
    Column("resolved_by", String(100)),
    Column("resolved_at", DateTime),
    Column("resolution", Text, comment="what the receiving office did, or why it declined"),
    Column(
        "case_id",
        Integer,
        ForeignKey("penalty_cases.id", ondelete="SET NULL"),
        comment="the penalty case opened on the referral",
    ),
    CheckConstraint("kind IN ('audit', 'penalty')", name="kind"),
)
Index("ix_referrals_entry_number", referrals.c.entry_number)
Index("ix_referrals_kind_status", referrals.c.kind, referrals.c.status)

liquidations = Table(
    "liquidations",
    metadata,
    entry_ref(primary_key=True),
    Column("declared_duties_usd", MONEY, nullable=False),
    Column("revenue_found_usd", MONEY, nullable=False),
    Column("final_duties_usd", MONEY, nullable=False),
    Column("liquidated_at", DateTime, nullable=False),
    Column("protest_deadline", Date, nullable=False),
    Column("liquidated_by", String(100), nullable=False),
    Column(
        "adjustment_usd",
        MONEY,
        nullable=False,
        server_default=text("0"),
        comment="duties changed at liquidation beyond the findings (+ increase, - refund)",
    ),
    Column("violation", String(30), comment="what an increase at liquidation corrected"),
    Column("note", Text),
)

# Which rules selected which line when the entry was scored: the durable link between selection
# and outcome that rule statistics count (assessments.reasons holds only a flagged line's top
# reasons, so it cannot say every rule that hit).
rule_hits = Table(
    "rule_hits",
    metadata,
    Column("entry_number", String(13), primary_key=True),
    Column("line_number", Integer, primary_key=True, autoincrement=False),
    Column("rule_id", String(100), primary_key=True),
    Column("rule_version", Integer),
    Column("points", Float),
    Column("scored_at", DateTime, nullable=False),
)
Index("ix_rule_hits_rule_id", rule_hits.c.rule_id)
