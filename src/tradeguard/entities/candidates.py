"""Splink's part in entity resolution: the candidate pairs of a role and their comparison levels.

:func:`comparison_vectors` builds Splink settings from ``entities.comparisons`` (blocking rules,
comparisons with their m and starting u), runs them on DuckDB and returns each candidate pair
with the blocking rule that found it, its levels (``gamma_<comparison>``: k for the strongest
of k levels down to 1, 0 for the else level, -1 when a side has no value) and the columns of
the term-frequency adjustment.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from tradeguard.entities.comparisons import (
    BLOCKS,
    BY_ROLE,
    PREFIX_LEVEL,
    Level,
    Shared,
)

__all__ = ["COLUMNS", "comparison_vectors"]

COLUMNS = ["unique_id", "party_id", "role", "tokens", "name_sorted", "name_joined",
           "prefix_sorted", "skeleton_sorted", "block_keys", "trade_keys", "address", "street",
           "city", "postal_code", "country", "first_seen", "recent", "last_active",
           "last_filed", "partners", "brokers", "goods", "ports", "premises", "zip_brokers"]  # fmt: skip


def _comparison(name: str, levels: list[Level], null: str) -> Any:
    """The Splink comparison of one entry of :data:`BY_ROLE`, with its m and starting u."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    m_else = max(1e-3, 1 - sum(lv[2] for lv in levels))
    u_else = max(1e-3, 1 - sum(lv[3] for lv in levels))
    shared = [lv[0] for lv in levels if isinstance(lv[0], Shared)]
    if len(shared) == len(levels) and {c.column for c in shared} == {name}:
        return cl.ArrayIntersectAtSizes(name, [c.n for c in shared]).configure(
            m_probabilities=[lv[2] for lv in levels] + [m_else],
            u_probabilities=[lv[3] for lv in levels] + [u_else],
        )
    return cl.CustomComparison(
        output_column_name=name,
        comparison_levels=[
            cll.CustomLevel(f"{null}_l IS NULL OR {null}_r IS NULL", "missing").configure(
                is_null_level=True
            ),
            *[
                cll.CustomLevel(cond.sql() if isinstance(cond, Shared) else cond, label).configure(
                    m_probability=m, u_probability=u0
                )
                for cond, label, m, u0 in levels
            ],
            cll.ElseLevel().configure(m_probability=m_else, u_probability=u_else),
        ],
    )


def _settings(role: str) -> Any:
    """Splink settings: blocking (a shared key of one of :data:`BLOCKS`, in the same country)
    and the comparisons, whose gamma values ``entities.scoring`` turns into weights."""
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[_comparison(*c) for c in BY_ROLE[role]],
        blocking_rules_to_generate_predictions=[
            block_on(keys, "country", arrays_to_explode=[keys]) for _, keys, _ in BLOCKS
        ],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )


def _name_tf(pairs: pl.DataFrame, rec: pl.DataFrame) -> pl.Expr:
    """``name_tf`` of each pair (see :func:`comparison_vectors`); ``pairs`` carries both
    records' ``name_sorted``, ``prefix_sorted`` and word counts ``n``."""
    left = pl.col("n") <= pl.col("n_r")
    out = {}
    for key in ("name_sorted", "prefix_sorted"):
        share = dict(rec.group_by(key).agg(pl.len() / rec.height).iter_rows())
        shorter = pl.when(left).then(pl.col(key)).otherwise(pl.col(f"{key}_r"))
        out[key] = shorter.replace_strict(share, default=None, return_dtype=pl.Float64)
    # at the word-beginnings level the beginnings are what agrees
    tf = pl.when(pl.col("gamma_name") == PREFIX_LEVEL).then(out["prefix_sorted"])
    return tf.otherwise(out["name_sorted"]).fill_null(1.0 / rec.height).alias("name_tf")


def _broker_tf(pairs: pl.DataFrame, rec: pl.DataFrame) -> pl.DataFrame:
    """``unique_id_l, unique_id_r, broker_tf``: the share of the role's records served by
    the rarest broker the two records share (pairs sharing one only)."""
    served = rec.select(b=pl.col("brokers")).explode("b").drop_nulls()
    share = served.group_by("b").agg(tf=pl.len() / rec.height)
    shared = pairs.select(
        "unique_id_l", "unique_id_r", b=pl.col("brokers").list.set_intersection("brokers_r")
    )
    return (
        shared.explode("b")
        .join(share, on="b", how="inner")
        .group_by("unique_id_l", "unique_id_r")
        .agg(broker_tf=pl.col("tf").min())
    )


def comparison_vectors(records: pl.DataFrame, role: str) -> pl.DataFrame:
    """The candidate pairs of one role with the blocking rule that found them (``block``: its
    index in :data:`BLOCKS`), their comparison levels (``gamma_<name>``) and the columns of
    the term-frequency adjustment (:data:`TF`): ``name_tf``, the share of the role's records
    that bear the shorter name of the two (its normalised words; at the word-beginnings
    level, its word beginnings), and ``broker_tf``, the share served by the rarest broker the
    two share (1 when they share none)."""
    from splink import DuckDBAPI, Linker

    rec = records.filter(pl.col("role") == role).select(COLUMNS)
    gammas = [f"gamma_{name}" for name, _, _ in BY_ROLE[role]]
    if rec.height < 2:
        return pl.DataFrame(
            schema={"unique_id_l": pl.String, "unique_id_r": pl.String, "block": pl.Int32,
                    **dict.fromkeys(gammas, pl.Int32), "name_tf": pl.Float64,
                    "broker_tf": pl.Float64}
        )  # fmt: skip
    linker = Linker(DuckDBAPI().register(rec.to_arrow()), _settings(role), log_level=None)
    out = pl.from_arrow(linker.inference.predict().as_pyarrow_table())  # type: ignore[no-untyped-call]
    assert isinstance(out, pl.DataFrame)
    side = rec.select(
        "unique_id", "name_sorted", "prefix_sorted", "brokers", n=pl.col("tokens").list.len()
    )
    pairs = (
        out.select(
            pl.col("unique_id_l").cast(pl.String),
            pl.col("unique_id_r").cast(pl.String),
            pl.col("match_key").cast(pl.Int32).alias("block"),
            *[pl.col(g).cast(pl.Int32) for g in gammas],
        )
        .join(side, left_on="unique_id_l", right_on="unique_id", how="left")
        .join(side, left_on="unique_id_r", right_on="unique_id", how="left", suffix="_r")
    )
    return (
        pairs.with_columns(_name_tf(pairs, rec))
        .join(_broker_tf(pairs, rec), on=["unique_id_l", "unique_id_r"], how="left")
        .select(
            "unique_id_l",
            "unique_id_r",
            "block",
            *gammas,
            "name_tf",
            pl.col("broker_tf").fill_null(1.0),
        )
        .sort("unique_id_l", "unique_id_r")  # DuckDB's order varies: fix it, and the sums
    )
