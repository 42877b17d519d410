"""What entity resolution compares: comparison levels, blocking rules, term frequencies.

Each role (importer, manufacturer) compares candidate pairs on name, place, succession and
trade (:data:`BY_ROLE`).  Candidates are records of the same country that share a key of one
of the blocking rules (:data:`BLOCKS`): a name key (``entities.normalise``), one of their main
trade partners, their premises, or their postal code and a broker (``entities.records``) -
the rules besides the name find a firm that re-registered under a name sharing nothing with
its old one, through what it kept.

A level carries its condition - SQL on the pair, or :class:`Shared` (at least n values in
common between two array columns: Splink's ``ArrayIntersectAtSizes``) - a label, its m (how
often one firm's two records agree so: documented from how re-registration comes about) and a
starting u (how often look-alike candidates do, before the data say; ``entities.scoring``
estimates u from the candidates).  ``entities.candidates`` turns all this into Splink
settings and runs them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BLOCKS",
    "BY_ROLE",
    "NAME",
    "SUCCESSION",
    "Comparison",
    "Level",
    "Shared",
    "PREFIX_LEVEL",
    "TF",
    "m_table",
]


@dataclass(frozen=True)
class Shared:
    """At least ``n`` values in common between the pair's ``column`` arrays."""

    column: str
    n: int

    def sql(self) -> str:
        """The condition as SQL on the pair (what Splink's array-intersect level writes)."""
        return f"len(list_intersect({self.column}_l, {self.column}_r)) >= {self.n}"


def _jw(col: str, t: float) -> str:
    return f"jaro_winkler_similarity({col}_l, {col}_r) >= {t}"


# both records show three trade partners or more: enough to share one if they were one firm
_BOTH_SEEN = "len(partners_l) >= 3 AND len(partners_r) >= 3"


Level = tuple[str | Shared, str, float, float]  # condition, label, m, starting u
Comparison = tuple[str, list[Level], str]  # name, levels (strongest first), column for null

_NAME_LEVELS = [
    ("name_sorted_l = name_sorted_r", "same words (any order, legal form aside)"),
    (
        "name_joined_l = name_joined_r OR list_has_all(tokens_l, tokens_r) OR "
        "list_has_all(tokens_r, tokens_l)",
        "one name's words within the other's, or the same letters",
    ),
    (
        "prefix_sorted_l = prefix_sorted_r OR skeleton_sorted_l = skeleton_sorted_r",
        "same word beginnings or consonants (abbreviation, slip)",
    ),
    (_jw("name_sorted", 0.9), "similar names"),
    (_jw("name_joined", 0.8), "somewhat similar names"),
]
_NAME_U0 = (0.1, 0.15, 0.05, 0.1, 0.2)


def _name(m: tuple[float, float, float, float, float]) -> Comparison:
    """The name comparison with the m of its levels (the else level: a new name)."""
    levels: list[Level] = [
        (c, label, mi, u0) for (c, label), mi, u0 in zip(_NAME_LEVELS, m, _NAME_U0, strict=True)
    ]
    return ("name", levels, "name_sorted")


# m: how often a true pair (one firm's records) agrees at each level, from how
# re-registration comes about (``synth.renames`` lists the kinds).  An importer's new name
# mostly keeps the old one's words (another legal form, capitals, punctuation, word order:
# four kinds in ten), else adds a word or runs words together (three), shortens or
# abbreviates a word or slips a letter (two or three) - or is new altogether (the else level).
NAME: Comparison = _name((0.36, 0.27, 0.22, 0.03, 0.02))
# A manufacturer's new name more often adds a word (the city in front, "Industrial", a word
# inserted) or runs words together (half), slips a letter or takes a plural (a quarter).
MFR_NAME: Comparison = _name((0.15, 0.45, 0.28, 0.06, 0.04))


def _after(old: str, new: str, when: str) -> str:
    """Either record's ``when`` column (its last filing or mention) before the other's
    registration, the later one registered lately."""
    return (
        f"({when}_{old} < first_seen_{new} AND recent_{new}) OR "
        f"({when}_{new} < first_seen_{old} AND recent_{old})"
    )


def _handover(old: str, new: str) -> str:
    """Either record's last filing at most :data:`HANDOVER_DAYS` before the other's
    registration."""
    return " OR ".join(
        f"(date_diff('day', last_filed_{a}, first_seen_{b}) BETWEEN 1 AND {HANDOVER_DAYS})"
        for a, b in ((old, new), (new, old))
    )


HANDOVER_DAYS = 3
# A re-registration is a succession: the old record stops filing when the new one appears -
# two times in three within days (a firm re-registers right after a penalty, having filed
# until it came).
# The old record may still be named after that (a customer quoting the number it knew), and
# one that never filed in the data can only be known to have been around first.
SUCCESSION: Comparison = (
    "succession",
    [
        (_handover("l", "r"), "one stopped filing days before the other appeared", 0.55, 0.003),
        (_after("l", "r", "last_filed"), "one stopped filing before the other, lately", 0.25, 0.01),
        (_after("l", "r", "last_active"), "one went quiet before the other, lately", 0.05, 0.01),
        (
            "(last_filed_l IS NULL AND first_seen_l < first_seen_r AND recent_r) OR "
            "(last_filed_r IS NULL AND first_seen_r < first_seen_l AND recent_l)",
            "one never filed and was there before the other, lately",
            0.1,
            0.1,
        ),
        (
            "last_active_l < first_seen_r OR last_active_r < first_seen_l",
            "one went quiet before the other appeared",
            0.02,
            0.05,
        ),
    ],
    "first_seen",
)


def _trade(column: str, sizes: list[tuple[int, str, float, float]]) -> Comparison:
    return (column, [(Shared(column, n), label, m, u) for n, label, m, u in sizes], column)


BY_ROLE: dict[str, list[Comparison]] = {
    # a re-registered importer sits at its old premises, in the same city or elsewhere; it
    # keeps buying the same goods from the same suppliers through the same ports and broker
    # (as far as the few entries of a small firm show it)
    "importer": [
        NAME,
        (
            "place",
            [
                (
                    "address_l = address_r AND postal_code_l = postal_code_r",
                    "same premises",
                    0.3,
                    0.001,
                ),
                ("postal_code_l = postal_code_r", "same ZIP code", 0.3, 0.01),
                ("city_l = city_r", "same city", 0.03, 0.05),
            ],
            "postal_code",
        ),  # fmt: skip
        SUCCESSION,
        # suppliers, goods and ports go together (a supplier's goods enter where the firm
        # imports): one comparison of all three, so that they are not counted thrice.  Four
        # times in five the two records share a supplier; most of those that do not show
        # too few entries to share anything (the else level: 0.13) - sharing nothing says
        # much only where both records show enough trade to share something
        (
            "partners",
            [
                (Shared("partners", 2), "two or more suppliers in common", 0.35, 0.001),
                (
                    f"{Shared('partners', 1).sql()} AND {Shared('goods', 1).sql()}",
                    "a supplier and goods (HTS-6) in common",
                    0.2,
                    0.001,
                ),
                (Shared("partners", 1), "a supplier in common", 0.2, 0.005),
                (Shared("goods", 1), "goods (HTS-6) in common", 0.05, 0.02),
                (Shared("ports", 1), "a port of entry in common", 0.05, 0.1),
                (
                    _BOTH_SEEN,
                    "nothing in common, though both show three suppliers or more",
                    0.02,
                    0.3,
                ),
            ],
            "partners",
        ),  # fmt: skip
        _trade("brokers", [(1, "a broker in common", 0.9, 0.1)]),
    ],
    # a re-registered manufacturer stays in its city four times in five and on its street
    # (another number) half of the time, and keeps its customers and its goods
    "manufacturer": [
        MFR_NAME,
        ("city", [("city_l = city_r", "same city", 0.8, 0.1)], "city"),
        (
            "address",
            [
                ("address_l = address_r", "same address", 0.01, 0.001),
                ("street_l = street_r", "same street", 0.5, 0.02),
                (_jw("address", 0.9), "similar address", 0.05, 0.002),
            ],
            "address",
        ),
        SUCCESSION,
        # a manufacturer's goods are largely its customers' goods: one comparison of both,
        # so that a shared customer and the goods it buys are not counted twice.  A maker of
        # several small customers' goods often shows different ones before and after its
        # switch in a short window (the two last levels: 0.38)
        (
            "partners",
            [
                (Shared("partners", 2), "two or more customers in common", 0.1, 0.001),
                (
                    f"{Shared('partners', 1).sql()} AND {Shared('goods', 1).sql()}",
                    "a customer and goods (HTS-6) in common",
                    0.3,
                    0.005,
                ),
                (Shared("partners", 1), "a customer in common", 0.17, 0.02),
                (Shared("goods", 2), "two or more HTS-6 in common", 0.02, 0.01),
                (Shared("goods", 1), "goods (HTS-6) in common", 0.03, 0.1),
                (
                    _BOTH_SEEN,
                    "nothing in common, though both show three customers or more",
                    0.05,
                    0.3,
                ),
            ],
            "partners",
        ),  # fmt: skip
    ],
}
# Levels whose u is adjusted by how common the agreeing value is (term frequency), with the
# column of ``comparison_vectors`` that says it: same words and one name within the other by
# the shorter name's words, same word beginnings by its beginnings (``name_tf``); a broker in
# common by the rarest broker the two share (``broker_tf``: a small broker's clients are few)
TF: dict[str, tuple[tuple[int, ...], str]] = {
    "name": ((5, 4, 3), "name_tf"),
    "brokers": ((1,), "broker_tf"),
}
PREFIX_LEVEL = 3  # the name level of word beginnings: its ``name_tf`` counts beginnings

# Blocking rules, in order: name, the records' array column of keys (two records sharing a
# key, in the same country, are compared), and per role the least level (gamma) the rule
# implies on some comparisons: records sharing a main trade partner share at least one
# partner (``entities.scoring`` takes m given that).
BLOCKS: list[tuple[str, str, dict[str, dict[str, int]]]] = [
    ("names", "block_keys", {}),
    ("trade", "trade_keys", {"importer": {"partners": 1}, "manufacturer": {"partners": 3}}),
    ("premises", "premises", {"importer": {"place": 3}}),
    ("neighbours", "zip_brokers", {"importer": {"place": 2, "brokers": 1}}),
]


def _gamma(levels: list[Level], level: int) -> int:
    """Splink's gamma of the ``level``-th level (0 = strongest): k for the strongest of k
    levels down to 1; 0 is the else level, -1 the null level."""
    return len(levels) - level


def m_table(levels: list[Level]) -> dict[int, tuple[float, str, float]]:
    """gamma -> (m, label, starting u) of a comparison's levels and its else level."""
    m_else = max(1e-3, 1 - sum(lv[2] for lv in levels))
    u_else = max(1e-3, 1 - sum(lv[3] for lv in levels))
    rows = [*[(m, label, u0) for _, label, m, u0 in levels], (m_else, "else", u_else)]
    return {_gamma(levels, i): row for i, row in enumerate(rows)}
