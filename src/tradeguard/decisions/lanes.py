"""Lanes: each entry goes to release, document review, exam or post-release audit, with why.

``assign_lanes`` is pure (no I/O, no clock unless ``decided_at`` is omitted, no database): the
API calls it for one entry, the batch CLI for millions, and both get the same answer.

How an entry's lane is chosen, in order of precedence:

1. **Mandatory hold** (a mandatory rule hit, or an AD/CVD line filed without its case number):
   the policy's mandatory lane (exam), regardless of capacity; it consumes the port's capacity
   first.  Trusted status does not help.
2. **Targeted exam**: entry score >= exam threshold x trusted multiplier, within the port's
   daily exam slots by descending ``score / multiplier`` (``capacity.py``).
3. **Random compliance-measurement sample** (``sampling.py``): drawn independently of the
   score; goes to exam (document review for CTPAT Trade Compliance strata).  Random picks sit
   *outside* the targeted capacity accounting: targeting is computed as if there were no
   sample, so the sample never displaces a targeted hold and capacity never censors the sample
   (which would bias it).  A picked entry that targeting would also hold keeps the more
   intensive lane, and stays flagged ``random_sample`` with its weight either way, because the
   measurement needs every drawn entry's outcome.
4. **Targeted review**: review candidates and exam candidates that did not fit, within the
   port's daily review slots.
5. **Post-release audit**: not held, but score >= audit threshold (typically a candidate that
   found no slot) or expected revenue at risk >= the audit revenue threshold.
6. **Release**: ``trusted_facilitation`` (a trusted partner whose score would have made it a
   candidate without facilitation), ``capacity_exhausted`` (a candidate with no slot left and
   below the audit threshold) or ``below_threshold``.

Entry score = the highest line score of the entry (one bad line is enough to hold a shipment);
revenue at risk = the sum over its lines; mandatory = any line mandatory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pyarrow as pa

from tradeguard.decisions.capacity import fill_capacity, targeted_holds
from tradeguard.decisions.choice import choose_lane
from tradeguard.decisions.policy import ExprKey, LanePolicy
from tradeguard.decisions.reasons import add_reasons
from tradeguard.decisions.sampling import draw_sample, exposure_name
from tradeguard.domain.codes import PTI
from tradeguard.errors import IssueCollector

PTI_SCORE_COLUMNS = tuple(f"score_{p.value}" for p in PTI)
# Declared amounts summed per entry for the sample's size band (``sampling.size_band_expr``).
SIZE_COLUMNS = ("value_usd", "declared_duty_usd")
LANE_COLUMNS = (
    "entry_number",
    "lane",
    "score",
    "random_sample",
    "sample_stratum",
    "sample_weight",
    "reason",
    "reason_code",
    "decided_at",
    "port_code",
    "decision_day",
    "trusted",
    "revenue_at_risk_usd",
    "mandatory",
    "top_pti",
    "n_lines",
    "sample_probability",
)
# Decisions made because of risk, whose officers need the reasons (see ``assign_entry_lanes``).
HELD_BY_TARGETING = ["mandatory", "capacity_exam", "capacity_review"]
Explainer = Callable[[pl.DataFrame], pl.DataFrame]


def _frame(data: pa.Table | pa.RecordBatch | pl.DataFrame) -> pl.DataFrame:
    if isinstance(data, pl.DataFrame):
        return data
    out = pl.from_arrow(data)
    assert isinstance(out, pl.DataFrame)
    return out


_REASON_SEP = "; "


def _mandatory_reasons(a: pl.DataFrame) -> pl.DataFrame:
    """Each entry's distinct mandatory-hold reasons, sorted, joined by ``"; "``."""
    # Only the (few) lines with a reason are grouped: cheap on a million lines.
    return (
        a.filter(pl.col("mandatory_reason").is_not_null())
        .group_by("entry_number")
        .agg(pl.col("mandatory_reason").unique().sort().str.join(_REASON_SEP))
    )


_REASON_DTYPE = pl.List(
    pl.Struct({"points": pl.Float64, "contribution": pl.Float64, "text": pl.String})
)


def _first_risk_reason(reasons: pl.Expr) -> pl.Expr:
    """The text of the first reason that raises the risk (the core lists them by importance).

    Facilitation rules (negative points, e.g. "CTPAT Trade Compliance member") are listed too
    but never explain why an entry was held.
    """
    e = pl.element()
    raises = (e.struct.field("points").fill_null(0) > 0) | (
        e.struct.field("contribution").fill_null(0) > 0
    )
    return (
        reasons.str.json_decode(_REASON_DTYPE)
        .list.eval(e.filter(raises).struct.field("text"))
        .list.first()
    )


def entry_partials(assessments: pl.DataFrame) -> pl.DataFrame:
    """Aggregate a batch of line assessments per entry, in a form that can be combined again.

    The batch driver calls it on each chunk (an entry's lines may be spread over chunks) and
    keeps only these rows; :func:`finish_entry_scores` combines them.  Columns: ``score`` (max),
    ``revenue_at_risk_usd`` (sum), ``mandatory`` (any), ``mandatory_reason`` (its distinct
    reasons, sorted so that the result does not depend on line order), ``n_lines``,
    ``score_<pti>`` (max) and, from the highest-scoring line that the risk core explained,
    ``top_score``, ``top_line`` and ``top_reason`` (its first reason that raises the risk: the
    core lists reasons by importance, rules first).
    """
    # An all-null column arrives typed Null (e.g. no line was explained): give it its type.
    casts = {"reasons": pl.String, "mandatory_reason": pl.String, "mandatory": pl.Boolean}
    schema = assessments.schema
    fix = [pl.col(c).cast(t) for c, t in casts.items() if c in schema and schema[c] != t]
    a = assessments.with_columns(fix) if fix else assessments
    pti_cols = [c for c in PTI_SCORE_COLUMNS if c in a.columns]
    # A column absent or without a value contributes nothing: most batches have no mandatory reason and
    # no explained line, and skipping their (empty) joins gives the same columns, all null.
    no_reason = (
        "mandatory_reason" not in a.columns or a["mandatory_reason"].null_count() == a.height
    )
    agg = a.group_by("entry_number").agg(
        pl.col("score").max().alias("score"),
        pl.col("revenue_at_risk_usd").sum().alias("revenue_at_risk_usd"),
        pl.col("mandatory").fill_null(False).any().alias("mandatory"),
        pl.len().cast(pl.Int64).alias("n_lines"),
        *[pl.col(c).max().alias(c) for c in pti_cols],
        *([pl.col("exposure_rank").min()] if "exposure_rank" in a.columns else []),
        *[pl.col(c).cast(pl.Float64).sum() for c in SIZE_COLUMNS if c in a.columns],
        *([pl.lit(None, dtype=pl.String).alias("mandatory_reason")] if no_reason else []),
    )
    if not no_reason:
        agg = agg.join(_mandatory_reasons(a), on="entry_number", how="left")
    if "reasons" in a.columns and a["reasons"].null_count() < a.height:
        explained = (
            a.filter(pl.col("reasons").is_not_null())
            .sort(["score", "line_number"], descending=[True, False])
            .group_by("entry_number")
            .agg(
                pl.col("score").first().alias("top_score"),
                pl.col("line_number").first().cast(pl.Int32).alias("top_line"),
                pl.col("reasons").first(),
            )
            .with_columns(_first_risk_reason(pl.col("reasons")).alias("top_reason"))
            .drop("reasons")
        )
        return agg.join(explained, on="entry_number", how="left")
    return agg.with_columns(
        pl.lit(None, dtype=a.schema["score"] if "reasons" in a.columns else pl.Float64).alias(
            "top_score"
        ),
        pl.lit(None, dtype=pl.Int32).alias("top_line"),
        pl.lit(None, dtype=pl.String).alias("top_reason"),
    )


def finish_entry_scores(
    partials: pl.DataFrame, maybe_split: pl.Series | None = None
) -> pl.DataFrame:
    """Combine partial aggregates (one or more rows per entry) into one row per entry.

    Entry score = max line score (one bad line is enough to hold the shipment); revenue at risk
    = sum, rounded to cents (money is rounded at the edges; this also makes the result
    independent of line order); ``top_pti`` = the issue with the highest line score (null when
    every score is 0).  ``maybe_split``: the entries that may have several rows, when the caller
    knows them (the batch driver: the entries at the chunks' edges of a file in entry order),
    which spares hashing every entry number to find them; None: any entry may.
    """
    pti_cols = [c for c in PTI_SCORE_COLUMNS if c in partials.columns]
    keys = partials["entry_number"]
    dup = keys.is_duplicated() if maybe_split is None else keys.is_in(maybe_split.implode())
    if dup.any():
        # Only entries split over several chunks need combining (a few at chunk edges).
        single, split = partials.filter(~dup), partials.filter(dup)
        split = split.group_by("entry_number").agg(
            pl.col("score").max(),
            pl.col("revenue_at_risk_usd").sum(),
            pl.col("mandatory").any(),
            pl.col("mandatory_reason").drop_nulls().str.join(_REASON_SEP),
            pl.col("n_lines").sum(),
            *[pl.col(c).max() for c in pti_cols],
            *([pl.col("exposure_rank").min()] if "exposure_rank" in partials.columns else []),
            *[pl.col(c).sum() for c in SIZE_COLUMNS if c in partials.columns],
            pl.col("top_score").max(),
            pl.col("top_line")
            .sort_by(["top_score", "top_line"], descending=[True, False], nulls_last=True)
            .first(),
            pl.col("top_reason")
            .sort_by(["top_score", "top_line"], descending=[True, False], nulls_last=True)
            .first(),
        )
        # several partials may name the same reason: keep each once, in a stable order
        split = split.with_columns(
            pl.when(pl.col("mandatory_reason").str.len_chars() > 0).then(
                pl.col("mandatory_reason")
                .str.split(_REASON_SEP)
                .list.unique()
                .list.sort()
                .list.join(_REASON_SEP)
            )
        )
        partials = pl.concat([single, split.select(single.columns)], how="vertical_relaxed")
    # one step, as a with_columns then a drop would give (each frame operation costs more
    # than it computes on a batch): replaced columns in place, new ones at the end
    columns = {
        "score": pl.col("score").fill_null(0.0),
        "revenue_at_risk_usd": pl.col("revenue_at_risk_usd").round(2),
    }
    dropped = set(pti_cols)
    if "exposure_rank" in partials.columns:
        columns["pti_exposure"] = exposure_name(pl.col("exposure_rank"))
        dropped.add("exposure_rank")
    columns["top_pti"] = _top_pti(tuple(pti_cols))
    kept = [c for c in partials.columns if c not in dropped]
    return partials.select(
        *[columns[c].alias(c) if c in columns else pl.col(c) for c in kept],
        *[e.alias(c) for c, e in columns.items() if c not in kept],
    )


@functools.lru_cache(maxsize=8)
def _top_pti(pti_cols: tuple[str, ...]) -> pl.Expr:
    """The issue with the highest line score, null when every score is 0 (built once)."""
    if not pti_cols:
        return pl.lit(None, dtype=pl.String)
    # A when-chain over max_horizontal: an order of magnitude faster than list.arg_max.
    top = pl.max_horizontal(pti_cols)
    chain: Any = pl.when(top.is_null() | (top <= 0)).then(pl.lit(None, dtype=pl.String))
    for c in pti_cols:
        chain = chain.when(pl.col(c) == top).then(pl.lit(c.removeprefix("score_")))
    return chain.otherwise(None)  # type: ignore[no-any-return]


def entry_scores(assessments: pl.DataFrame) -> pl.DataFrame:
    """One row per entry from line assessments: ``finish_entry_scores(entry_partials(a))``."""
    return finish_entry_scores(entry_partials(assessments))


def _entry_context(entries: pl.DataFrame) -> pl.DataFrame:
    cols = ["entry_number", "port_code", "filed_at"]
    cols += [c for c in ("pti_exposure", *SIZE_COLUMNS) if c in entries.columns]
    trusted_col = next((c for c in ("trusted", "trusted_status") if c in entries.columns), None)
    trusted = (
        pl.col(trusted_col).cast(pl.String).fill_null("none").str.to_lowercase()
        if trusted_col
        else pl.lit("none")
    )
    ctx = entries.select(*cols, trusted.alias("trusted"))
    # the context is joined on its entry number: rows already unique (an API batch) stay
    if ctx["entry_number"].n_unique() < ctx.height:
        return ctx.unique("entry_number", keep="first")
    return ctx


def assign_lanes(
    assessments: pa.Table | pa.RecordBatch | pl.DataFrame,
    entries: pa.Table | pa.RecordBatch | pl.DataFrame,
    policy: LanePolicy,
    *,
    seed: int,
    decided_at: datetime | None = None,
    used: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Send every assessed entry to a lane and say why; one row per entry (``LANE_COLUMNS``).

    ``assessments``: the risk core's line output (``entry_number``, ``line_number``, ``score``,
    ``revenue_at_risk_usd``, ``mandatory``, ``mandatory_reason``, ``score_<pti>``, ``reasons``).
    ``entries``: ``entry_number``, ``port_code``, ``filed_at``, ``trusted`` (none | ctpat |
    ctpat_tc; ``trusted_status`` is accepted too; absent or null means none) and optionally
    ``pti_exposure`` for the sample strata.  ``used`` (``port_code, decision_day, exams,
    reviews``): holds already decided on those port-days (the API deciding one entry at a time
    passes what the system of record has), which the capacities lose.  ``seed`` fixes the
    random sample; ``decided_at`` defaults to now (UTC, naive).  Rows come in queue order:
    by port, day and descending priority (``score / trusted multiplier``), whatever the input
    order.

    Raises ``ValidationFailed`` listing assessed entries that ``entries`` does not describe.

    >>> # lanes = assign_lanes(score_batch(frame, bundle), entries, LanePolicy(), seed=2026)
    """
    return assign_entry_lanes(
        entry_scores(_frame(assessments)),
        entries,
        policy,
        seed=seed,
        decided_at=decided_at,
        used=used,
    )


@functools.lru_cache(maxsize=16)
def _priority_exprs(key: ExprKey) -> tuple[pl.Expr, ...]:
    """Decision day, trusted multiplier, priority and eligibility: one step, for these policy
    values (built once).  The multiplier is spelled out where it is used, not read back."""
    mult = pl.col("trusted").replace_strict(
        dict(key.trusted_multiplier), default=1.0, return_dtype=pl.Float64
    )
    return (
        pl.col("filed_at").dt.date().alias("decision_day"),
        mult.alias("multiplier"),
        pl.col("revenue_at_risk_usd").fill_null(0.0),
        (pl.col("score") / mult).alias("priority"),
        (pl.col("score") >= key.exam_threshold * mult).alias("exam_eligible"),
        (pl.col("score") >= key.review_threshold * mult).alias("review_eligible"),
    )


def assign_entry_lanes(
    scores: pl.DataFrame,
    entries: pa.Table | pa.RecordBatch | pl.DataFrame,
    policy: LanePolicy,
    *,
    seed: int,
    decided_at: datetime | None = None,
    explain: Explainer | None = None,
    used: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``assign_lanes`` from entry scores already combined (``finish_entry_scores``).

    ``explain``: called with entries (``entry_number``) and returns ``entry_number, top_line,
    top_reason`` for them; its answer replaces the reason the assessments carried for the
    entries held by targeting (mandatory, exam and review decisions; random picks are not
    selected by risk).  The batch driver uses it to compute model contributions only for what
    officers will open instead of for every line above a score.  It is called, in a worker
    thread, as soon as capacity has chosen the targeted holds, a superset of the held
    entries (a random pick may take a targeted review's place): those are decided by the
    entries that compete for capacity alone, so the explanations run while the whole frame's
    capacity, sample, lanes and reasons are computed.  Should a held entry be missing from
    that call, ``explain`` is called again with the missing ones.
    """
    ctx = _entry_context(_frame(entries))
    when = decided_at or datetime.now(UTC).replace(tzinfo=None)
    both = [c for c in ("pti_exposure", *SIZE_COLUMNS) if c in scores.columns and c in ctx.columns]
    if both:
        scores = scores.drop(both)
    df = scores.join(ctx, on="entry_number", how="left")

    # (null counts are known without a pass over the data: most batches skip the filter)
    if df["port_code"].null_count() or df["filed_at"].null_count():
        missing = df.filter(pl.col("port_code").is_null() | pl.col("filed_at").is_null())
        c = IssueCollector()
        for en in missing["entry_number"].head(20).to_list():
            c.add(f"entries[{en}]", "assessed entry has no port_code/filed_at in entries", en)
        if missing.height > 20:
            c.add("entries", f"... and {missing.height - 20} more entries without context")
        c.raise_if_any(f"{missing.height} assessed entries lack entry data")

    df = df.with_columns(_priority_exprs(policy.expr_key()))
    if explain is None:
        return _lanes(df, policy, seed=seed, used=used).select(_lane_columns(when))
    targeted = targeted_holds(df, policy, used)
    with ThreadPoolExecutor(1, thread_name_prefix="tradeguard-explain") as pool:
        early = pool.submit(explain, targeted) if targeted.height else None
        df = _lanes(df, policy, seed=seed, used=used)
        rows = df.select(pl.col("reason_code").is_in(HELD_BY_TARGETING).arg_true()).to_series()
        got = [early.result()] if early is not None else []
    if rows.len():
        held = df[rows]
        late = held.select("entry_number").join(targeted, on="entry_number", how="anti")
        if late.height:
            got.append(explain(late))
        explained = _explained(held.drop("reason"), pl.concat(got, how="vertical_relaxed"))
        redone = add_reasons(explained, policy)
        # the held rows, in their order, take what the explanation changed
        df = df.with_columns(df[c].clone().scatter(rows, redone[c]) for c in _EXPLAINED)
    return df.select(_lane_columns(when))


def _lanes(
    df: pl.DataFrame, policy: LanePolicy, *, seed: int, used: pl.DataFrame | None
) -> pl.DataFrame:
    """Capacity, the random sample, the lane and its reason of every entry."""
    df = draw_sample(fill_capacity(df, policy, used), policy, seed=seed)
    return add_reasons(choose_lane(df, policy), policy)


def _lane_columns(when: datetime) -> list[pl.Expr]:
    return [pl.lit(when).alias(c) if c == "decided_at" else pl.col(c) for c in LANE_COLUMNS]


# what an explanation changes in a held entry's decision
_EXPLAINED = ["top_line", "top_reason", "reason"]


def _explained(held: pl.DataFrame, got: pl.DataFrame) -> pl.DataFrame:
    """The held entries with the top line and reason of their explanation (``got``:
    ``entry_number, top_line, top_reason``), where it gave one."""
    got = got.select(
        "entry_number",
        pl.col("top_line").cast(pl.Int32).alias("_line"),
        pl.col("top_reason").cast(pl.String).alias("_reason"),
    )
    return (
        held.join(got, on="entry_number", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_reason").is_not_null())
            .then(pl.col("_line"))
            .otherwise(pl.col("top_line"))
            .alias("top_line"),
            pl.coalesce("_reason", "top_reason").alias("top_reason"),
        )
        .drop("_line", "_reason")
    )
