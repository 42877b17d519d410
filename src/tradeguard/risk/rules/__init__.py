"""Targeting rules as data: weighted, dated rules in a small safe condition language.

Targeters write rules in YAML (``starter/`` ships a set for every priority trade issue); they
are validated with positions and reasons, compiled to one polars expression each and
evaluated together over a feature frame.  Python's ``eval`` is never used.

>>> from tradeguard.risk.rules import load_starter
>>> rules = load_starter()                         # or load_rules("my_rules/")
>>> hits = rules.evaluate(features)                # doctest: +SKIP
>>> hits.summary["rule_points"], hits.summary["rule_mandatory"]    # doctest: +SKIP
>>> hits.reasons(top_rows)                         # doctest: +SKIP

The language, the YAML format and how to add fields are described in ``docs/rules.md``.
"""

from __future__ import annotations

from .compiler import Compiled, ConditionProblems, compile_condition
from .fields import FEATURES, FieldCatalogue, FieldSpec, FieldType, catalogue_for_frame
from .lists import RefList
from .loader import build_ruleset, load_rules, load_starter, save_rules, starter_dir
from .model import Rule, RuleIssue, parse_rule
from .points import HIT_COUNT, MANDATORY, POINTS, pti_column
from .ruleset import Reason, RuleHits, RuleSet

__all__ = [
    "FEATURES",
    "HIT_COUNT",
    "MANDATORY",
    "POINTS",
    "Compiled",
    "ConditionProblems",
    "FieldCatalogue",
    "FieldSpec",
    "FieldType",
    "Reason",
    "RefList",
    "Rule",
    "RuleHits",
    "RuleIssue",
    "RuleSet",
    "build_ruleset",
    "catalogue_for_frame",
    "compile_condition",
    "load_rules",
    "load_starter",
    "parse_rule",
    "pti_column",
    "save_rules",
    "starter_dir",
]
