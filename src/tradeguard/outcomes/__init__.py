"""The outcome loop: what exams, reviews and audits found becomes enforcement, labels for
learning and the yield of the rules that selected the entry (see ``docs/outcomes.md``).

Modules (import them directly; nothing heavy is imported here):

- ``penalties``: 19 U.S.C. 1592 statutory maximums, liquidation and protest dates (pure).
- ``enforcement``: seizures, referrals, penalty / liquidated-damages cases and their
  lifecycle, liquidation with final duties (functions on a Connection).
- ``labels``: findings -> ``outcomes`` rows; the system of record as a training Dataset.
- ``rule_stats``: ``rule_hits`` recording and per-rule hits, yield, revenue, review flags.
- ``retrain``: train a candidate on the system of record, evaluate beside the current model,
  promote on request (audited).
"""
