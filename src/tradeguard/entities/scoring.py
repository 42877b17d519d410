"""Match weights of candidate pairs: Fellegi-Sunter with fixed m and u learnt per blocking rule.

A pair's match weight is the sum over the comparisons of log2(m / u) of the level it reaches
(``entities.comparisons``), plus the prior log-odds; its match probability the logistic of it
(base 2).

* m (how often one firm's two records agree so) is fixed: it comes from how re-registration
  comes about and is documented beside each level.  Where a blocking rule already implies a
  level (records found through a shared trade partner share at least one), m is taken
  *given* that: renormalised over the levels the rule lets through.
* u (how often two different firms' records agree so) is the frequency of each level among
  the candidates that are not links, and the prior the share of links among them - both
  estimated by expectation maximisation with m held fixed, *separately for the candidates
  of each blocking rule* (``block``: the first rule that found the pair).  Candidates found
  by a name key already look alike, so u measures how often look-alike firms also agree on
  place, succession and trade; candidates found by a shared supplier already trade alike,
  so there u measures how often such firms also bear like names.  One u over both would
  treat name and trade as independent among candidates when the blocking made them anything
  but.  u and the prior are smoothed towards their starting values (the levels' starting u,
  a prior of :data:`PRIOR0`) with the weight of :data:`PSEUDO` candidates: a small data set
  leans on them, a large one decides for itself.
* A rare value agreeing counts more than a common one (term frequency): at the levels of
  ``comparisons.TF`` - the name's, and a shared broker - u is scaled by how common the agreeing
  value is (the shorter name, the rarest broker the two share) against the level's average.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from tradeguard.entities.comparisons import BLOCKS, BY_ROLE, TF, m_table

__all__ = ["PRIOR0", "PSEUDO", "SCORED_PAIRS", "score_pairs", "level_m"]

EM_ITERATIONS = 8
PSEUDO = 100.0  # weight, in candidates, of the starting u and prior
PRIOR0 = 0.01
# the columns of a scored candidate pair, as score_pairs returns them
SCORED_PAIRS = {
    "unique_id_l": pl.String,
    "unique_id_r": pl.String,
    "match_weight": pl.Float64,
    "match_probability": pl.Float64,
}


def level_m(role: str, block: int) -> dict[str, dict[int, float]]:
    """m of every level of the role's comparisons for the candidates of blocking rule
    ``block``: as documented, or - for the comparison the rule implies agreement on - given
    that agreement (levels below it get 0, the others are renormalised)."""
    implied = BLOCKS[block][2].get(role, {})
    out: dict[str, dict[int, float]] = {}
    for name, levels, _ in BY_ROLE[role]:
        m = {g: row[0] for g, row in m_table(levels).items()}
        if name in implied:
            least = implied[name]
            kept = sum(v for g, v in m.items() if g >= least)
            m = {g: (v / kept if g >= least else 0.0) for g, v in m.items()}
        out[name] = m
    return out


def _weights(
    role: str,
    m: dict[str, dict[int, float]],
    u: dict[str, dict[int, float]],
    tf: dict[tuple[str, int], float],
) -> pl.Expr:
    """Sum over the comparisons of log2(m / u) of each pair's level (0 for a null level, and
    for a level the pair's blocking rule rules out); at a level of :data:`comparisons.TF`, u
    scaled by how common the agreeing value is against the level's average ``tf``."""
    total = pl.lit(0.0)
    for name, _, _ in BY_ROLE[role]:
        g = pl.col(f"gamma_{name}")
        for gamma, m_level in m[name].items():
            if m_level <= 0.0:
                continue
            w = pl.lit(math.log2(m_level / u[name][gamma]))
            if (name, gamma) in tf:
                w = w + (tf[name, gamma] / pl.col(TF[name][1])).log(2)
            total = total + pl.when(g == gamma).then(w).otherwise(0.0)
    return total


def _probability(weight: pl.Expr) -> pl.Expr:
    return 1 / (1 + (-weight * math.log(2)).exp())


def _score_block(
    vectors: pl.DataFrame, role: str, block: int, iterations: int
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Weights of the candidates of one blocking rule, and its model (see the module
    docstring)."""
    m = level_m(role, block)
    gammas = {name: vectors[f"gamma_{name}"] for name, _, _ in BY_ROLE[role]}
    p_link = pl.Series([0.0] * vectors.height, dtype=pl.Float64)
    u: dict[str, dict[int, float]] = {}
    tf: dict[tuple[str, int], float] = {}
    for name, (tf_levels, column) in TF.items():
        if name not in gammas:
            continue
        for gamma in tf_levels:
            at = vectors.filter(pl.col(f"gamma_{name}") == gamma)[column]
            tf[name, gamma] = float(at.mean()) if at.len() else 1.0  # type: ignore[arg-type]
    prior = PRIOR0
    for _ in range(max(iterations, 1)):
        non = 1.0 - p_link
        for name, levels, _ in BY_ROLE[role]:
            g = gammas[name]
            known = float((non * (g != -1)).sum())
            u[name] = {
                gamma: (float((non * (g == gamma)).sum()) + PSEUDO * u0) / (known + PSEUDO)
                for gamma, (_, _, u0) in m_table(levels).items()
            }
        total = _weights(role, m, u, tf) + math.log2(prior / (1 - prior))
        p_link = vectors.select(_probability(total)).to_series()
        prior = (float(p_link.sum()) + PSEUDO * PRIOR0) / (vectors.height + PSEUDO)
    total = _weights(role, m, u, tf) + math.log2(prior / (1 - prior))
    scored = vectors.select(
        "unique_id_l",
        "unique_id_r",
        total.alias("match_weight"),
        _probability(total).alias("match_probability"),
    )
    model = {
        "candidates": vectors.height,
        "prior": prior,
        "comparisons": {
            name: {g: (label, m[name][g], u[name][g]) for g, (_, label, _) in m_table(lv).items()}
            for name, lv, _ in BY_ROLE[role]
        },
    }
    return scored, model


def score_pairs(
    vectors: pl.DataFrame, role: str, iterations: int = EM_ITERATIONS
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Match weight and probability of each candidate pair of ``vectors``
    (``comparisons.comparison_vectors``), and the model: per blocking rule, its candidates,
    prior, and (label, m, u) of every level.  Deterministic for given vectors."""
    frames = [pl.DataFrame(schema=SCORED_PAIRS)]
    model: dict[str, Any] = {}
    for block, (rule, _, _) in enumerate(BLOCKS):
        mine = vectors.filter(pl.col("block") == block)
        if mine.is_empty():
            continue
        scored, model[rule] = _score_block(mine, role, block, iterations)
        frames.append(scored)
    return pl.concat(frames).sort("unique_id_l", "unique_id_r"), model
