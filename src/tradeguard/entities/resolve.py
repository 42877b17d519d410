"""Entity resolution: one account per real importer and manufacturer, with Splink on DuckDB.

A *party* is a record (an IOR number or MID with a name and address); an *entity* is the
real-world firm behind it.  Violators shed their history by re-registering, sometimes more
than once: a new IOR number or MID, a varied name, another address.  What survives is the
name's substance, the *succession* (the old record goes quiet when the new one appears) and
the *trade* (the same suppliers and broker, the same customers).

Pipeline (:func:`resolve`):

1. :func:`~tradeguard.entities.records.party_records` builds one comparison record per party:
   generic name normalisation and keys (``entities.normalise``), place, registration and
   activity, trade partners;
2. Splink (DuckDB) finds the candidate pairs - records sharing a blocking key in the same
   country - and compares them on name, place, succession and trade (``entities.comparisons``); a
   Fellegi-Sunter model per role scores them.  m comes from how re-registration comes about,
   documented beside each level.  u is the frequency of each level *among the candidate
   pairs that are not links* and the prior the share of links, estimated together by
   expectation maximisation with m fixed: candidates already share a name, so u measures
   how often look-alike firms also agree on place, succession and trade (random pairs would
   overrate that evidence, which is far from independent of the name).  A rare name agreeing
   counts more than a common one (term frequency);
3. Splink clusters the pairs at ``threshold`` (connected components), and a *chaining guard*
   splits a cluster of three or more records unless every two of its records are themselves
   a likely pair (match probability at least ``support``): a look-alike honest firm linked to
   one end of a re-registration cannot drag a third party into the entity.  The guard drops
   the cluster's weakest link until every part holds together;
4. each cluster's ``entity_id`` is the party id of its *original* record (the earliest
   registered, then the smallest id), so a firm keeps its id when it re-registers again, and
   a party alone - or first seen after the resolution - is simply its own entity.

The result is a polars frame ``party_id, role, entity_id, match_weight, match_probability``
(the strongest link of the party within its cluster; parties alone carry nulls).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import polars as pl

from tradeguard.entities.comparisons import (
    BY_ROLE,
    NAME,
    comparison_vectors,
    m_table,
)
from tradeguard.entities.records import RESOLVED_ROLES, party_records

__all__ = ["ResolveResult", "resolve", "pairwise_scores", "guard_clusters", "LINK_COLUMNS"]

LINK_COLUMNS = ["party_id", "role", "entity_id", "match_weight", "match_probability"]
DEFAULT_THRESHOLD = 0.4
DEFAULT_SUPPORT = 0.1
_PAIR_SCHEMA = {
    "unique_id_l": pl.String,
    "unique_id_r": pl.String,
    "match_weight": pl.Float64,
    "match_probability": pl.Float64,
}


@dataclass(frozen=True)
class ResolveResult:
    """Links (one row per resolved party) and the scored candidate pairs behind them."""

    links: pl.DataFrame
    pairs: pl.DataFrame


_EM_ITERATIONS = 8
_PSEUDO = 100.0  # weight, in candidates, of the starting u and prior
_PRIOR0 = 0.01
_TF_LEVELS = (len(NAME[1]), len(NAME[1]) - 1)  # same words; one name within the other


def _weights(
    vectors: pl.DataFrame, role: str, u: dict[str, dict[int, float]], tf: dict[int, float]
) -> pl.Expr:
    """Sum over the comparisons of log2(m / u) of each pair's level (0 for a null level); at
    the name levels of :data:`_TF_LEVELS`, u scaled by how common the (shorter) name is
    against the level's average (term frequency: a rare name agreeing says more)."""
    total = pl.lit(0.0)
    for name, levels, _ in BY_ROLE[role]:
        g = pl.col(f"gamma_{name}")
        for gamma, (m, _, _) in m_table(levels).items():
            w = pl.lit(math.log2(m / u[name][gamma]))
            if name == "name" and gamma in tf:
                w = w + (tf[gamma] / pl.col("name_tf")).log(2)
            total = total + pl.when(g == gamma).then(w).otherwise(0.0)
    return total


def score_pairs(
    vectors: pl.DataFrame, role: str, iterations: int = _EM_ITERATIONS
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Match weight and probability of each candidate pair, and the model (m, u, prior).

    m is fixed (``BY_ROLE``).  u of each level is its frequency among the candidates that
    are not links, and the prior the share of links among them, refined by expectation
    maximisation with m held fixed (so that the few true links do not inflate the u of the
    levels they dominate).  Both are smoothed towards their starting values (``BY_ROLE``'s u,
    a prior of :data:`_PRIOR0`) with the weight of :data:`_PSEUDO` candidates: a small data set
    leans on them, a large one decides for itself.
    """
    gammas = {name: vectors[f"gamma_{name}"] for name, _, _ in BY_ROLE[role]}
    p_link = pl.Series([0.0] * vectors.height, dtype=pl.Float64)
    u: dict[str, dict[int, float]] = {}
    tf: dict[int, float] = {}
    for gamma in _TF_LEVELS:
        at = vectors.filter(pl.col("gamma_name") == gamma)["name_tf"]
        tf[gamma] = float(at.mean()) if at.len() else 1.0  # type: ignore[arg-type]
    prior = _PRIOR0
    for _ in range(max(iterations, 1)):
        non = 1.0 - p_link
        for name, levels, _ in BY_ROLE[role]:
            g = gammas[name]
            known = float((non * (g != -1)).sum())
            u[name] = {
                gamma: (float((non * (g == gamma)).sum()) + _PSEUDO * u0) / (known + _PSEUDO)
                for gamma, (_, _, u0) in m_table(levels).items()
            }
        total = _weights(vectors, role, u, tf) + math.log2(prior / (1 - prior))
        p_link = vectors.select(1 / (1 + (-total * math.log(2)).exp())).to_series()
        prior = (float(p_link.sum()) + _PSEUDO * _PRIOR0) / (vectors.height + _PSEUDO)
    total = _weights(vectors, role, u, tf) + math.log2(prior / (1 - prior))
    scored = vectors.select(
        "unique_id_l",
        "unique_id_r",
        total.alias("match_weight"),
        (1 / (1 + (-total * math.log(2)).exp())).alias("match_probability"),
    )
    model = {
        "candidates": vectors.height,
        "prior": prior,
        "comparisons": {
            name: {g: (label, m, u[name][g]) for g, (m, label, _) in m_table(levels).items()}
            for name, levels, _ in BY_ROLE[role]
        },
    }
    return scored, model


@contextmanager
def _quiet_splink() -> Iterator[None]:
    """Splink reports every step at INFO; the caller reports what matters."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def pairwise_scores(records: pl.DataFrame) -> pl.DataFrame:
    """Score candidate pairs of every role: ``unique_id_l, unique_id_r, match_weight,
    match_probability`` (pairs under 1 % left out)."""
    frames = [pl.DataFrame(schema=_PAIR_SCHEMA)]
    for role in RESOLVED_ROLES:
        with _quiet_splink():
            vectors = comparison_vectors(records, role)
        scored, _ = score_pairs(vectors, role)
        frames.append(
            scored.filter(pl.col("match_probability") >= 0.01).select(
                [pl.col(c).cast(t) for c, t in _PAIR_SCHEMA.items()]
            )
        )
    return pl.concat(frames)


def _components(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, str]:
    """Connected components (union-find): node -> smallest node of its component."""
    parent = {n: n for n in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {n: find(n) for n in nodes}


def _splink_clusters(pairs: pl.DataFrame, threshold: float) -> dict[str, str]:
    """Splink's clustering of the linked records at ``threshold``: unique_id -> cluster id."""
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    edges = pairs.filter(pl.col("match_probability") >= threshold)
    if edges.is_empty():
        return {}
    nodes = pl.DataFrame(
        {"unique_id": pl.concat([edges["unique_id_l"], edges["unique_id_r"]]).unique().sort()}
    )
    with _quiet_splink():
        clusters = cluster_pairwise_predictions_at_threshold(
            nodes.to_arrow(),
            edges.select("unique_id_l", "unique_id_r", "match_probability").to_arrow(),
            DuckDBAPI(),
            node_id_column_name="unique_id",
            threshold_match_probability=threshold,
        )
    out = pl.from_arrow(clusters.as_pyarrow_table())  # type: ignore[no-untyped-call]
    assert isinstance(out, pl.DataFrame)
    return dict(out.select("unique_id", pl.col("cluster_id").cast(pl.String)).iter_rows())


def guard_clusters(
    pairs: pl.DataFrame, threshold: float = DEFAULT_THRESHOLD, support: float = DEFAULT_SUPPORT
) -> dict[str, str]:
    """Clusters of the pairs at ``threshold`` with the chaining guard: ``unique_id -> cluster``.

    Splink clusters the links at or above ``threshold`` (connected components); a cluster of
    three or more records is kept only when every two of its records score at least
    ``support`` between themselves, else its weakest link is dropped and the parts are
    checked again.  Records without a link are left out (each is its own cluster).
    """
    prob = {
        (a, b) if a < b else (b, a): p
        for a, b, p in pairs.select("unique_id_l", "unique_id_r", "match_probability").iter_rows()
    }
    found = _splink_clusters(pairs, threshold)
    members: dict[str, list[str]] = {}
    for node, cluster in found.items():
        members.setdefault(cluster, []).append(node)
    out: dict[str, str] = {}
    pending = []
    for group in members.values():
        if len(group) <= 2:
            out.update(dict.fromkeys(group, min(group)))
            continue
        inside = set(group)
        edges = sorted(
            ((p, a, b) for (a, b), p in prob.items() if p >= threshold and a in inside),
            key=lambda x: (-x[0], x[1:]),
        )
        pending.append([e for e in edges if e[2] in inside])
    while pending:  # the chaining guard, on the few larger clusters
        edges = pending.pop()
        nodes = sorted({n for _, a, b in edges for n in (a, b)})
        comp = _components(nodes, [(a, b) for _, a, b in edges])
        groups: dict[str, list[str]] = {}
        for node, root in comp.items():
            groups.setdefault(root, []).append(node)
        for root, group in groups.items():
            cohesive = len(group) <= 2 or all(
                prob.get((a, b), 0.0) >= support
                for i, a in enumerate(group)
                for b in group[i + 1 :]
            )
            if cohesive:
                out.update(dict.fromkeys(group, root))
            else:  # drop the weakest link, check the parts again
                pending.append([e for e in edges if comp[e[1]] == root][:-1])
    return out


def resolve(
    parties: pl.DataFrame,
    entries: pl.DataFrame | None = None,
    lines: pl.DataFrame | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    support: float = DEFAULT_SUPPORT,
) -> ResolveResult:
    """Resolve importer and manufacturer parties into entities (see the module docstring).

    ``entries`` and ``lines`` (optional) give activity and trade partners; ``threshold`` is
    the match probability at which two records link, ``support`` the least probability every
    two records of a larger cluster must reach (the chaining guard).  Deterministic: the same
    inputs give the same links.
    """
    records = party_records(parties, entries, lines)
    pairs = pairwise_scores(records)
    cluster = guard_clusters(pairs, threshold, support)
    kept = pairs.filter(
        (pl.col("match_probability") >= threshold)
        & pl.col("unique_id_l")
        .replace_strict(cluster, default=None)
        .eq(pl.col("unique_id_r").replace_strict(cluster, default=None))
    )
    best = (
        pl.concat(
            [
                kept.select(unique_id="unique_id_l", w="match_weight", p="match_probability"),
                kept.select(unique_id="unique_id_r", w="match_weight", p="match_probability"),
            ]
        )
        .group_by("unique_id")
        .agg(match_weight=pl.col("w").max(), match_probability=pl.col("p").max())
    )
    clusters = pl.DataFrame(
        {"unique_id": list(cluster), "cluster": list(cluster.values())},
        schema={"unique_id": pl.String, "cluster": pl.String},
    )
    base = (
        records.select("unique_id", "party_id", "role", "first_seen")
        .join(clusters, on="unique_id", how="left")
        .with_columns(cluster=pl.coalesce("cluster", "unique_id"))
    )
    # the original record of each cluster: registered first, then the smallest id
    root = (
        base.sort(["first_seen", "party_id"], nulls_last=True)
        .group_by("cluster", maintain_order=True)
        .agg(entity_id=pl.col("party_id").first())
    )
    links = (
        base.join(root, on="cluster", how="left")
        .join(best, on="unique_id", how="left")
        .select(LINK_COLUMNS)
        .sort("role", "party_id")
    )
    return ResolveResult(links=links, pairs=pairs)
