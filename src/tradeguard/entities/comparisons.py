"""What entity resolution compares, and Splink's part in it: blocking and comparison levels.

Each role (importer, manufacturer) compares candidate pairs - records sharing a blocking key
(``entities.normalise``) in the same country - on name, place, succession and trade.  A level
carries its SQL condition, a label, its m (how often one firm's records agree so: documented
from how re-registration comes about) and a starting u (how often look-alike candidates do,
before the data say; ``entities.resolve.score_pairs`` estimates u from the candidates).

:func:`comparison_vectors` runs Splink (DuckDB) to find the candidates and their levels
(``gamma_<comparison>``: k for the strongest of k levels down to 1, 0 for the else level, -1
when a side has no value).
"""

from __future__ import annotations

from typing import Any

import polars as pl

__all__ = ["BY_ROLE", "NAME", "SUCCESSION", "Comparison", "Level", "comparison_vectors", "m_table"]


def _jw(col: str, t: float) -> str:
    return f"jaro_winkler_similarity({col}_l, {col}_r) >= {t}"


def _shared(col: str, n: int) -> str:
    return f"len(list_intersect({col}_l, {col}_r)) >= {n}"


Level = tuple[str, str, float, float]  # SQL condition on the pair, label, m, starting u
Comparison = tuple[str, list[Level], str]  # name, levels (strongest first), column for null

# m: how often a true pair (one firm's records) agrees at each level, from how
# re-registration comes about.  A new name mostly keeps the old one's words (another legal
# form, capitals, punctuation, word order), else adds or runs words together, shortens a
# word or slips a letter.  Starting u: how often look-alike candidates agree, before the data
# say (they decide on a few hundred candidates or more; see ``score_pairs``).
NAME: Comparison = (
    "name",
    [
        ("name_sorted_l = name_sorted_r", "same words (any order, legal form aside)", 0.45, 0.1),
        (
            "name_joined_l = name_joined_r OR list_has_all(tokens_l, tokens_r) OR "
            "list_has_all(tokens_r, tokens_l)",
            "one name's words within the other's, or the same letters",
            0.2,
            0.15,
        ),
        (
            "prefix_sorted_l = prefix_sorted_r OR skeleton_sorted_l = skeleton_sorted_r",
            "same word beginnings or consonants (abbreviation, slip)",
            0.2,
            0.05,
        ),
        (_jw("name_sorted", 0.9), "similar names", 0.1, 0.1),
        (_jw("name_joined", 0.8), "somewhat similar names", 0.04, 0.2),
    ],
    "name_sorted",
)
# a re-registration is a succession: the old record goes quiet, the new one appears
QUIET_LATELY = (
    "(last_active_l < first_seen_r AND recent_r) OR (last_active_r < first_seen_l AND recent_l)"
)
SUCCESSION: Comparison = (
    "succession",
    [
        (QUIET_LATELY, "one record went quiet before the other appeared, lately", 0.85, 0.01),
        (
            "last_active_l < first_seen_r OR last_active_r < first_seen_l",
            "one record went quiet before the other appeared",
            0.05,
            0.01,
        ),
        (
            "last_filed_l < first_seen_r OR last_filed_r < first_seen_l",
            "one record stopped filing before the other appeared",
            0.05,
            0.2,
        ),
    ],
    "first_seen",
)
BY_ROLE: dict[str, list[Comparison]] = {
    # a re-registered importer usually moves (a new address is part of shedding the past),
    # keeps its suppliers and mostly its broker
    "importer": [
        NAME,
        (
            "address",
            [
                ("address_l = address_r", "same address", 0.05, 0.002),
                ("street_l = street_r", "same street", 0.02, 0.005),
                (_jw("address", 0.9), "similar address", 0.03, 0.002),
            ],
            "address",
        ),
        ("city", [("city_l = city_r", "same city", 0.15, 0.05)], "city"),
        (
            "postal_code",
            [("postal_code_l = postal_code_r", "same ZIP", 0.05, 0.005)],
            "postal_code",
        ),
        SUCCESSION,
        (
            "suppliers",
            [
                (_shared("partners", 2), "two or more suppliers in common", 0.55, 0.001),
                (_shared("partners", 1), "a supplier in common", 0.25, 0.01),
            ],
            "partners",
        ),
        ("broker", [(_shared("brokers", 1), "a broker in common", 0.8, 0.1)], "brokers"),
    ],
    # a re-registered manufacturer stays in its city, often on its street, and keeps its
    # customers
    "manufacturer": [
        NAME,
        ("city", [("city_l = city_r", "same city", 0.8, 0.1)], "city"),
        (
            "address",
            [
                ("address_l = address_r", "same address", 0.1, 0.001),
                ("street_l = street_r", "same street", 0.35, 0.02),
                (_jw("address", 0.9), "similar address", 0.05, 0.002),
            ],
            "address",
        ),
        SUCCESSION,
        (
            "customers",
            [
                (_shared("partners", 2), "two or more customers in common", 0.45, 0.001),
                (_shared("partners", 1), "a customer in common", 0.35, 0.02),
            ],
            "partners",
        ),
    ],
}
COLUMNS = ["unique_id", "party_id", "role", "tokens", "name_sorted", "name_joined",
            "prefix_sorted", "skeleton_sorted", "block_keys", "address", "street", "city",
            "postal_code", "country", "first_seen", "recent", "last_active", "last_filed",
            "partners", "brokers"]  # fmt: skip


def _gamma(levels: list[Level], level: int) -> int:
    """Splink's gamma of the ``level``-th level (0 = strongest): k for the strongest of k
    levels down to 1; 0 is the else level, -1 the null level."""
    return len(levels) - level


def _settings(role: str) -> Any:
    """Splink settings: blocking (a shared key in the same country) and the comparisons, whose
    gamma values :func:`score_pairs` turns into match weights."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    comparisons: list[Any] = [
        cl.CustomComparison(
            output_column_name=name,
            comparison_levels=[
                cll.CustomLevel(f"{null}_l IS NULL OR {null}_r IS NULL", "missing").configure(
                    is_null_level=True
                ),
                *[
                    cll.CustomLevel(sql, label).configure(m_probability=m, u_probability=u0)
                    for sql, label, m, u0 in levels
                ],
                cll.ElseLevel().configure(m_probability=0.5, u_probability=0.5),
            ],
        )
        for name, levels, null in BY_ROLE[role]
    ]
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on("block_keys", "country", arrays_to_explode=["block_keys"])
        ],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )


def comparison_vectors(records: pl.DataFrame, role: str) -> pl.DataFrame:
    """The candidate pairs of one role with their comparison levels (``gamma_<name>``) and
    ``name_tf``: the share of the role's records that bear the shorter name of the two (its
    normalised words), for the term-frequency adjustment of :func:`score_pairs`."""
    from splink import DuckDBAPI, Linker

    rec = records.filter(pl.col("role") == role).select(COLUMNS)
    gammas = [f"gamma_{name}" for name, _, _ in BY_ROLE[role]]
    if rec.height < 2:
        return pl.DataFrame(
            schema={"unique_id_l": pl.String, "unique_id_r": pl.String,
                    **dict.fromkeys(gammas, pl.Int32), "name_tf": pl.Float64}
        )  # fmt: skip
    linker = Linker(DuckDBAPI().register(rec.to_arrow()), _settings(role), log_level=None)
    out = pl.from_arrow(linker.inference.predict().as_pyarrow_table())  # type: ignore[no-untyped-call]
    assert isinstance(out, pl.DataFrame)
    tf = rec.group_by("name_sorted").agg((pl.len() / rec.height).alias("tf"))
    shorter = (
        pl.when(pl.col("tokens_l").list.len() <= pl.col("tokens_r").list.len())
        .then(pl.col("name_sorted_l"))
        .otherwise(pl.col("name_sorted_r"))
    )
    return (
        out.with_columns(shorter.alias("name_sorted"))
        .join(tf, on="name_sorted", how="left")
        .select(
            pl.col("unique_id_l").cast(pl.String),
            pl.col("unique_id_r").cast(pl.String),
            *[pl.col(g).cast(pl.Int32) for g in gammas],
            pl.col("tf").fill_null(1.0 / rec.height).alias("name_tf"),
        )
        .sort("unique_id_l", "unique_id_r")  # DuckDB's order varies: fix it, and the sums
    )


def m_table(levels: list[Level]) -> dict[int, tuple[float, str, float]]:
    """gamma -> (m, label, starting u) of a comparison's levels and its else level."""
    m_else = max(1e-3, 1 - sum(lv[2] for lv in levels))
    u_else = max(1e-3, 1 - sum(lv[3] for lv in levels))
    rows = [*[(m, label, u0) for _, label, m, u0 in levels], (m_else, "else", u_else)]
    return {_gamma(levels, i): row for i, row in enumerate(rows)}
