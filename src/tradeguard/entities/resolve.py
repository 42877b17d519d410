"""Entity resolution: one account per real importer and manufacturer, with Splink on DuckDB.

A *party* is a record (an IOR number or MID with a name and address); an *entity* is the
real-world firm behind it.  Violators shed their history by re-registering, sometimes more
than once: a new IOR number or MID, a varied name - now and then a new one altogether -,
perhaps another address.  What survives is what the firm does: the *trade* (the same
suppliers, goods, ports and broker; a manufacturer's customers), the *succession* (the old
record stops filing when the new one appears, often within days) and mostly the name's
substance and the premises.

Pipeline (:func:`resolve`):

1. :func:`~tradeguard.entities.records.party_records` builds one comparison record per party:
   generic name normalisation and keys (``entities.normalise``), place, registration and
   activity, and the record's trade profile from the entries and lines it filed;
2. Splink (DuckDB) finds the candidate pairs - records of one country sharing a name key, a
   main trade partner, their premises, or their postal code and broker
   (``comparisons.BLOCKS``) - and compares them on name, place, succession and trade
   (``entities.comparisons``); a Fellegi-Sunter model per role and blocking rule scores them
   (``entities.scoring``): m from how re-registration comes about, u and the prior learnt by
   expectation maximisation among the rule's candidates, rare names and brokers counting more;
3. Splink clusters the pairs at ``threshold`` (connected components), and a *chaining guard*
   splits a cluster of three or more records unless every two of its records hold together -
   a likely pair themselves (match probability at least ``support``) or one record following
   the other - so that a look-alike honest firm linked to one end of a re-registration cannot
   drag a third party into the entity.  The guard drops the cluster's weakest link until
   every part holds together;
4. each cluster's ``entity_id`` is the party id of its *original* record (the earliest
   registered, then the smallest id), so a firm keeps its id when it re-registers again, and
   a party alone - or first seen after the resolution - is simply its own entity.

The result is a polars frame ``party_id, role, entity_id, match_weight, match_probability``
(the strongest link of the party within its cluster; parties alone carry nulls).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl

from tradeguard.entities.candidates import comparison_vectors
from tradeguard.entities.records import RESOLVED_ROLES, party_records
from tradeguard.entities.scoring import SCORED_PAIRS, score_pairs

__all__ = ["ResolveResult", "resolve", "pairwise_scores", "guard_clusters", "LINK_COLUMNS"]

LINK_COLUMNS = ["party_id", "role", "entity_id", "match_weight", "match_probability"]
DEFAULT_THRESHOLD = 0.4
DEFAULT_SUPPORT = 0.1


@dataclass(frozen=True)
class ResolveResult:
    """Links (one row per resolved party) and the scored candidate pairs behind them."""

    links: pl.DataFrame
    pairs: pl.DataFrame


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
    frames = [pl.DataFrame(schema=SCORED_PAIRS)]
    for role in RESOLVED_ROLES:
        with _quiet_splink():
            vectors = comparison_vectors(records, role)
        scored, _ = score_pairs(vectors, role)
        frames.append(
            scored.filter(pl.col("match_probability") >= 0.01).select(
                [pl.col(c).cast(t) for c, t in SCORED_PAIRS.items()]
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


Span = tuple[dt.date | None, dt.date | None]  # (registered or first seen, last filing)


def _successive(a: Span, b: Span) -> bool:
    """Whether one record stopped filing before the other was registered (or first seen)."""
    return any(
        last is not None and first is not None and last < first
        for last, first in ((a[1], b[0]), (b[1], a[0]))
    )


def guard_clusters(
    pairs: pl.DataFrame,
    threshold: float = DEFAULT_THRESHOLD,
    support: float = DEFAULT_SUPPORT,
    spans: Mapping[str, Span] | None = None,
) -> dict[str, str]:
    """Clusters of the pairs at ``threshold`` with the chaining guard: ``unique_id -> cluster``.

    Splink clusters the links at or above ``threshold`` (connected components); a cluster of
    three or more records is kept only when every two of its records hold together - score
    at least ``support`` between themselves, or (given their ``spans``) follow one another,
    as the records of a firm that re-registered twice do, the first and the last sharing
    little more than the handover - else its weakest link is dropped and the parts are
    checked again.  Records without a link are left out (each is its own cluster).
    """

    def together(a: str, b: str) -> bool:
        if prob.get((a, b) if a < b else (b, a), 0.0) >= support:
            return True
        return spans is not None and a in spans and b in spans and _successive(spans[a], spans[b])

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
                together(a, b) for i, a in enumerate(group) for b in group[i + 1 :]
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
    spans = {
        uid: (first, last)
        for uid, first, last in records.select("unique_id", "first_seen", "last_filed").iter_rows()
    }
    cluster = guard_clusters(pairs, threshold, support, spans)
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
