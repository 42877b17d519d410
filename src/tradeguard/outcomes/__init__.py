"""The outcome loop: what exams, reviews and audits found becomes enforcement, labels for
learning and the yield of the rules that selected the entry (see ``docs/outcomes.md``).

Modules (import them directly; nothing heavy is imported here):

- ``penalties``: 19 U.S.C. 1592 statutory maximums, liquidation and protest dates (pure).
- ``enforcement``: penalty / liquidated-damages cases and their lifecycle, an importer's
  enforcement record (functions on a Connection).
- ``seizures``: the seizure of a held entry's goods (goods, value, basis) with its status.
- ``referrals``: referrals to audit or penalty and the receiving office's work list.
- ``liquidation``: liquidation with final duties, by the batch run or one entry at a time.
- ``labels``: findings and enforcement outcomes -> ``outcomes`` rows; the system of record
  as a training Dataset.
- ``rule_stats``: ``rule_hits`` recording and per-rule hits, yield, revenue, review flags.
- ``retrain``: train a candidate on the system of record, evaluate beside the current model,
  promote on request (audited).
"""
