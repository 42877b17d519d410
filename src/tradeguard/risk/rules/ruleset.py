"""A rule set and its vectorized evaluation over a feature frame.

All rules are compiled against the frame's own columns and evaluated in ONE polars ``select``
(one boolean column per rule, bit-packed, so 300 rules on 1,000,000 lines hold ~38 MB).  Points
per line and per priority trade issue, the mandatory flag and the hit count are summed from that
matrix (``rules/points.py``); the list of rules hit is materialized only for the lines that need reasons
(:meth:`RuleHits.reasons`), never as a Python list per line.

Effective dates: without ``as_of`` each line is judged on its own filing day (``filed_date``,
derived from ``filed_at``); rules in effect over the whole day range of the frame need no
per-line test, rules in effect for none of it are not evaluated at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import numpy as np
import polars as pl

from tradeguard.domain.codes import PTI
from tradeguard.errors import Issue, IssueCollector

from .compiler import ConditionProblems, compile_tree
from .encoding import MIN_ROWS, DictionaryEncoder, EncoderState
from .fields import FieldCatalogue, catalogue_for_frame, field_expr
from .lists import RefList, as_reflists, merge
from .model import Rule
from .parser import parse
from .points import MANDATORY, POINTS, summarize

T = TypeVar("T")
_DAY = "__filed_day"  # per-line filing day, computed once for all dated rules


@dataclass(frozen=True)
class Reason:
    """One rule hit on one line, as shown to officers and analysts."""

    rule_id: str
    name: str
    pti: PTI
    points: float
    mandatory: bool


@dataclass(frozen=True)
class RuleHits:
    """What a rule set found in one frame (rows aligned with the frame's rows).

    ``summary``: ``rule_points`` (float64, sum of the weights of the rules hit), one
    ``rule_points_<pti>`` column per priority trade issue, ``rule_mandatory`` (a mandatory rule
    hit: the line must be held) and ``rule_hit_count``.
    ``matrix``: one boolean column per evaluated rule, named by rule id, in ``rules`` order.
    ``skipped``: rule id -> why it was not evaluated (not in effect, field missing in the frame).
    """

    summary: pl.DataFrame
    matrix: pl.DataFrame
    rules: tuple[Rule, ...]
    skipped: Mapping[str, str] = field(default_factory=dict)

    @property
    def points(self) -> pl.Series:
        return self.summary[POINTS]

    @property
    def mandatory(self) -> pl.Series:
        return self.summary[MANDATORY]

    def hit_ids(self, rows: Sequence[int] | np.ndarray) -> list[list[str]]:
        """Rule ids hit on each of ``rows`` (row positions in the evaluated frame)."""
        return [[r.rule_id for r in line] for line in self.reasons(rows)]

    def reasons(self, rows: Sequence[int] | np.ndarray) -> list[list[Reason]]:
        """The rules hit on each of ``rows``, mandatory rules first, then heaviest first.

        Only these rows are gathered from the bit matrix, so asking for the reasons of the top
        few thousand lines of a million costs milliseconds.
        """
        idx = np.asarray(rows, dtype=np.int64)
        if not self.rules or idx.size == 0:
            return [[] for _ in range(idx.size)]
        order = sorted(range(len(self.rules)), key=lambda j: _reason_order(self.rules[j]))
        by_order = [_reason(self.rules[j]) for j in order]
        # rows first, then the columns in reason order in numpy: a frame select of 300
        # columns by name costs more than the gather itself; asked for a good share of the
        # rows (the batch driver's kept candidates), the whole matrix converts for less than
        # a gather of 300 columns
        if 4 * idx.size >= self.matrix.height:
            sub = self.matrix.to_numpy()[idx][:, order]
        else:
            sub = self.matrix[idx].to_numpy()[:, order]
        r, c = np.nonzero(sub)  # row-major: per row, columns come out in reason order
        bounds = np.searchsorted(r, np.arange(idx.size + 1))
        return [[by_order[j] for j in c[a:b]] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def counts(self) -> dict[str, int]:
        """Lines hit per rule (the input of rule hit / yield statistics)."""
        if not self.rules:
            return {}
        sums = self.matrix.sum().row(0)
        return {r.id: int(s or 0) for r, s in zip(self.rules, sums, strict=True)}


@dataclass(frozen=True)
class RuleSet:
    """Validated rules and the named lists they use; built by :func:`load_rules`."""

    rules: tuple[Rule, ...]
    lists: Mapping[str, RefList] = field(default_factory=dict)
    source: str = ""
    # compiled conditions per (frame schema, lists) for small frames, so that scoring one
    # entry at a time (the API) does not recompile every rule on every call
    _compiled: dict[Any, dict[str, pl.Expr | str]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # the same for big (dictionary-encoded) frames: the expressions name lookup columns, so
    # the next chunk of a batch reuses them when its encoding decisions are the same
    _encoded: dict[Any, tuple[dict[str, pl.Expr | str], EncoderState]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # for small frames, the catalogue per frame shape and the whole plan (rules in effect,
    # their final expressions) per shape and filing days: nothing is rebuilt per filing
    _catalogues: dict[Any, FieldCatalogue] = field(default_factory=dict, compare=False, repr=False)
    _plans: dict[Any, _Plan] = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def by_pti(self) -> dict[PTI, list[Rule]]:
        out: dict[PTI, list[Rule]] = {p: [] for p in PTI}
        for r in self.rules:
            out[r.pti].append(r)
        return out

    def evaluate(
        self,
        frame: pl.DataFrame,
        as_of: date | None = None,
        *,
        lists: Mapping[str, RefList | Sequence[Any]] | None = None,
        strict: bool = False,
    ) -> RuleHits:
        """Evaluate every rule on every line of ``frame`` (features or canonical lines).

        ``as_of`` judges effective dates on that day for all lines; without it each line's
        filing day counts (lines without one are judged on today).  ``lists`` (from the
        scoring bundle) add to or replace the rule set's own lists.  A rule whose fields the
        frame lacks is skipped and named in ``skipped``; with ``strict`` it is an error
        (:class:`~tradeguard.errors.ValidationFailed`).
        """
        all_lists = merge(self.lists, as_reflists(lists))
        small = frame.height < MIN_ROWS
        plan = (
            self._small_plan(frame, all_lists, as_of)
            if small
            else self._plan(frame, all_lists, as_of)
        )
        if strict:
            issues = IssueCollector()
            issues.extend(plan.issues)
            issues.raise_if_any("rules cannot be evaluated on this frame")
        if plan.exprs and small:
            # one expression after the other, without the query optimiser: on a small frame
            # threads and plan rewrites for a few hundred tiny expressions cost more than
            # they compute (the API scores every filing here)
            matrix = (frame.with_columns(**plan.extra) if plan.extra else frame).select_seq(
                plan.exprs
            )
        elif plan.exprs:
            lazy = frame.lazy()
            if plan.extra:
                lazy = lazy.with_columns(
                    [v.alias(k) if isinstance(v, pl.Expr) else v for k, v in plan.extra.items()]
                )
            if plan.lookups:  # they read the code columns just added
                lazy = lazy.with_columns(v.alias(k) for k, v in plan.lookups.items())
            matrix = lazy.select(plan.exprs).collect()
        else:
            matrix = pl.DataFrame()
        summary = summarize(matrix, plan.active, frame.height)
        return RuleHits(summary, matrix, tuple(plan.active), plan.skipped)

    def _small_plan(
        self, frame: pl.DataFrame, lists: Mapping[str, RefList], as_of: date | None
    ) -> _Plan:
        """The plan for a frame too small to be dictionary-encoded: it depends only on the
        frame's shape, the lists and the days involved, so it is kept and reused (the API
        scores every filing through here)."""
        shape = _shape_key(frame, lists)
        catalogue = _kept(self._catalogues, shape, lambda: catalogue_for_frame(frame.schema))
        days = _day_range(frame, catalogue, as_of)
        key = (shape, days[1], days[2], as_of, date.today())
        return _kept(self._plans, key, lambda: self._plan(frame, lists, as_of, catalogue, days))

    def _plan(
        self,
        frame: pl.DataFrame,
        lists: Mapping[str, RefList],
        as_of: date | None,
        catalogue: FieldCatalogue | None = None,
        days: tuple[pl.Expr | None, date, date] | None = None,
    ) -> _Plan:
        """Which rules run on ``frame`` and the expression of each (compiled conditions are
        kept per frame shape, see ``_compiled``/``_encoded``)."""
        catalogue = catalogue or catalogue_for_frame(frame.schema)
        encoder = DictionaryEncoder(frame)
        day, lo, hi = days or _day_range(frame, catalogue, as_of)
        extra: dict[str, pl.Expr | pl.Series] = {}
        if day is not None:
            extra[_DAY] = day
            day = pl.col(_DAY)
        skipped: dict[str, str] = {}
        issues = IssueCollector()
        active: list[Rule] = []
        exprs: list[pl.Expr] = []
        compiled = self._compiled_for(frame, lists)
        encoded_key = None
        if compiled is None:  # big frame: reuse expressions if the encodings agree
            encoded_key = _shape_key(frame, lists)
            cached = self._encoded.get(encoded_key)
            reuse = cached is not None and encoder.replay(cached[1])
            compiled = cached[0] if cached is not None and reuse else {}
        for rule in self.rules:
            start, end = rule.effective_from or date.min, rule.effective_to or date.max
            if end < lo or start > hi:
                skipped[rule.id] = "not in effect on the filing dates of these lines"
                continue
            cond = compiled.get(rule.id) if compiled is not None else None
            if cond is None:
                cond = _compile(rule, catalogue, lists, encoder)
                if not isinstance(cond, str):
                    # the hit column as evaluated (kept so: building 300 such expressions
                    # per chunk costs more Python than the chunk's lookups)
                    cond = cond.fill_null(False).alias(rule.id)
                if compiled is not None:
                    compiled[rule.id] = cond
            if isinstance(cond, str):
                skipped[rule.id] = cond
                issues.add(f"{rule.source or 'rules'}:{rule.id}:condition", cond)
                continue
            if day is not None and (start > lo or end < hi):  # in effect for some lines only
                # (the day is never null: no null to fill)
                cond = (cond & day.is_between(pl.lit(start), pl.lit(end), closed="both")).alias(
                    rule.id
                )
            active.append(rule)
            exprs.append(cond)
        if encoded_key is not None:
            _put(self._encoded, encoded_key, (compiled, encoder.state()))
        extra.update(encoder.columns)
        return _Plan(active, exprs, extra, encoder.lookup_columns(), skipped, issues.issues)

    def _compiled_for(
        self, frame: pl.DataFrame, lists: Mapping[str, RefList]
    ) -> dict[str, pl.Expr | str] | None:
        """The cache of compiled conditions for this frame's shape, or None for frames big
        enough to be dictionary-encoded (their expressions depend on the data)."""
        if frame.height >= MIN_ROWS:
            return None
        return _kept(self._compiled, _shape_key(frame, lists), dict)


@dataclass(frozen=True)
class _Plan:
    """One evaluation's rules in effect, their expressions and the columns they read."""

    active: list[Rule]
    exprs: list[pl.Expr]
    extra: dict[str, pl.Expr | pl.Series]  # the filing day, dictionary codes
    lookups: dict[str, pl.Expr]  # encoded tests, read through the codes
    skipped: dict[str, str]
    issues: list[Issue]


_CACHE_SIZE = 8  # frame shapes kept per cache (a service sees one or two)


def _put(cache: dict[Any, Any], key: Any, value: Any) -> None:
    """``cache[key] = value``, emptying a full cache first (shapes rarely change: no LRU)."""
    if key not in cache and len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value


def _kept(cache: dict[Any, T], key: Any, build: Callable[[], T]) -> T:
    """``cache[key]``, built by ``build()`` on first use (see :func:`_put`)."""
    if key not in cache:
        _put(cache, key, build())
    return cache[key]


def _shape_key(frame: pl.DataFrame, lists: Mapping[str, RefList]) -> Any:
    return (
        tuple((name, str(dtype)) for name, dtype in frame.schema.items()),
        tuple(sorted((n, rl.type, rl.items) for n, rl in lists.items())),
    )


def _compile(
    rule: Rule,
    catalogue: FieldCatalogue,
    lists: Mapping[str, RefList],
    encoder: DictionaryEncoder,
) -> pl.Expr | str:
    """The rule's condition as an expression, or why it cannot be evaluated on this frame."""
    try:
        return compile_tree(rule.tree or parse(rule.condition), catalogue, lists, encoder).expr
    except ConditionProblems as exc:
        return "; ".join(p.message(rule.condition) for p in exc.problems)


def _day_range(
    frame: pl.DataFrame, catalogue: FieldCatalogue, as_of: date | None
) -> tuple[pl.Expr | None, date, date]:
    """The per-line filing-day expression (None when one day serves all lines) and the range
    of days present."""
    if as_of is None and "filed_date" in catalogue and frame.height:
        today = date.today()
        day = field_expr(catalogue["filed_date"]).fill_null(today)
        lo, hi = frame.select(day.min().alias("lo"), day.max().alias("hi")).row(0)
        return day, lo, hi
    single = as_of or date.today()
    return None, single, single


def _reason_order(r: Rule) -> tuple[bool, float, str]:
    return (not r.mandatory, -r.weight, r.id)


def _reason(r: Rule) -> Reason:
    return Reason(r.id, r.name, r.pti, r.weight, r.mandatory)
