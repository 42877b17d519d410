"""Firm names reduced to what survives a re-registration: generic normalisation and keys.

Normalisation knows nothing of how any particular data set varies names; it applies what is
common to company names everywhere:

* case, accents and punctuation: "PACIFIC TRADING, L.L.C." and "Pacific Trading LLC" are the
  same words (dotted initialisms such as "L.L.C." or "U.S.A." and hyphenated words such as
  "Hi-Tech" are closed up first);
* legal forms and corporate designators of many jurisdictions (:data:`LEGAL_FORMS`:
  LLC, Inc, Corp, Co, Ltd, GmbH, S.A. de C.V., Pte, Sdn Bhd, Holdings, Group ...), dropped;
* common trade abbreviations (:data:`ABBREVIATIONS`: Intl, Mfg, Inds, Prods, Natl ...),
  expanded;
* token order: the sorted tokens compare "Trading Pacific" with "Pacific Trading".

What normalisation cannot undo - typing slips, a word cut short, a word added, words run
together - is left to the keys and the fuzzy comparisons: :func:`name_columns` also gives each
name's token prefixes, consonant skeletons and letters run together, and
:func:`blocking_keys` the keys that bring such variants into one comparison block (including
every two of its words, or the name with one word cut to its first two letters).
"""

from __future__ import annotations

import polars as pl

__all__ = ["LEGAL_FORMS", "ABBREVIATIONS", "name_columns", "blocking_keys"]

LEGAL_FORMS = frozenset(
    [
        "llc",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "cos",
        "company",
        "companies",
        "ltd",
        "limited",
        "plc",
        "lp",
        "llp",
        "lllp",
        "pllc",
        "pc",
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "ohg",
        "ug",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "sl",
        "sc",
        "sca",
        "bv",
        "nv",
        "vof",
        "oy",
        "oyj",
        "ab",
        "as",
        "asa",
        "aps",
        "kk",
        "pte",
        "pvt",
        "pty",
        "sdn",
        "bhd",
        "tbk",
        "pt",
        "de",
        "cv",
        "rl",
        "sapi",
        "ltda",
        "eirl",
        "jsc",
        "ojsc",
        "llc",
        "zao",
        "ooo",
        "group",
        "holdings",
        "holding",
        "enterprises",
        "enterprise",
        "international",
        "usa",
        "us",
        "the",
    ]
)
ABBREVIATIONS = {
    "intl": "international", "int": "international", "mfg": "manufacturing",
    "mfrs": "manufacturers", "mfr": "manufacturer", "manuf": "manufacturing",
    "inds": "industries", "indus": "industries", "ind": "industries", "indl": "industrial",
    "prod": "products", "prods": "products", "dist": "distribution",
    "distr": "distribution", "distrib": "distribution", "elec": "electronics",
    "elecs": "electronics", "natl": "national", "amer": "american", "svc": "services",
    "svcs": "services", "serv": "services", "tech": "technology", "techs": "technologies",
    "bros": "brothers", "assoc": "associates", "mgmt": "management", "whse": "warehouse",
    "whsl": "wholesale", "merch": "merchandise", "sys": "systems", "equip": "equipment",
    "mach": "machinery", "chem": "chemical", "pharm": "pharmaceutical", "logis": "logistics",
    "transp": "transport", "mtl": "metal", "mtls": "metals", "hldgs": "holdings",
    "grp": "group", "ctr": "center", "mkt": "market", "supp": "supply", "imp": "imports",
    "exp": "exports", "trdg": "trading", "textl": "textile", "auto": "automotive",
    "and": "and",
}  # fmt: skip
_VOWELS = "aeiouy"


def _skeleton(token: pl.Expr) -> pl.Expr:
    """Consonant skeleton of a token: its first letter, then its consonants with runs of one
    letter collapsed ("pacific" -> "pcfc"; "paacific", "pcaific" and "pacfiic" too)."""
    rest = token.str.slice(1).str.replace_all(f"[{_VOWELS}]", "")
    out = token.str.slice(0, 1) + rest
    for c in "bcdfghjklmnpqrstvwxz":
        out = out.str.replace_all(f"{c}{c}+", c)
    return out


def name_columns(name: pl.Expr) -> list[pl.Expr]:
    """Normalised name columns: ``tokens`` (list), ``name_norm`` (tokens in order),
    ``name_sorted``, ``name_joined`` (letters run together), ``prefix_sorted`` (sorted
    three-letter token prefixes), ``skeleton_sorted`` (sorted consonant skeletons)."""
    text = (
        name.fill_null("")
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all("&", " and ")
        .str.replace_all(r"'", "")
        .str.replace_all(r"\b([a-z0-9])\.", "${1}")  # "l.l.c." -> "llc", "u.s.a." -> "usa"
        .str.replace_all(r"(\w)-(\w)", "${1}${2}")  # "hi-tech" -> "hitech"
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )
    raw = text.str.split(" ").list.eval(pl.element().filter(pl.element() != ""))
    expanded = raw.list.eval(pl.element().replace(ABBREVIATIONS))
    kept = expanded.list.eval(pl.element().filter(~pl.element().is_in(list(LEGAL_FORMS))))
    # a name made of legal forms only ("The Company Ltd") keeps its words
    tokens = pl.when(kept.list.len() > 0).then(kept).otherwise(expanded)
    return [
        tokens.alias("tokens"),
        tokens.list.join(" ").alias("name_norm"),
        tokens.list.sort().list.join(" ").alias("name_sorted"),
        tokens.list.join("").alias("name_joined"),
        tokens.list.eval(pl.element().str.slice(0, 3))
        .list.sort()
        .list.join(" ")
        .alias("prefix_sorted"),
        tokens.list.eval(_skeleton(pl.element()))
        .list.sort()
        .list.join(" ")
        .alias("skeleton_sorted"),
    ]


def _variant_keys(tokens: tuple[str, ...]) -> list[str]:
    """Keys of the name's words with their letters sorted (two letters swapped, even at the
    start of a word: "Altas" meets "Atlas"), of every two words of a name (so that words added
    in front, in the middle or at the end - "New", a city, "Hi-Tech" - still meet the shorter
    name), and of the name with one word cut to its first two letters (a slip early in a
    word), on three-letter prefixes.
    """
    pre = sorted(t[:3] for t in tokens)
    # each word with its letters sorted: a swap of two letters leaves it as it was
    out = ["a:" + " ".join(sorted("".join(sorted(t)) for t in tokens))]
    out += [
        f"p:{a} {b}" for i, a in enumerate(pre) for b in pre[i + 1 :]
    ]  # sorted, so "a b" is the same key from both names
    if 2 <= len(pre) <= 4:
        out += [
            "i:" + " ".join(sorted(pre[:i] + [pre[i][:2] + "*"] + pre[i + 1 :]))
            for i in range(len(pre))
        ]
    return out


def blocking_keys(records: pl.DataFrame) -> pl.Series:
    """Comparison-block keys of each record of ``records`` (:func:`name_columns` columns), a
    list each: the sorted name, its token prefixes, consonant skeletons and letters run
    together, and the variant keys of :func:`_variant_keys`.  Two records sharing a key (in
    the same country: the blocking rule adds it) are compared."""
    tokens = records["tokens"].to_list()
    variants = {t: _variant_keys(t) for t in set(map(tuple, tokens))}  # unique names only
    var = pl.Series([variants[tuple(t)] for t in tokens], dtype=pl.List(pl.String))
    return records.select(
        pl.concat_list(
            pl.lit("s:") + pl.col("name_sorted"),
            pl.lit("p:") + pl.col("prefix_sorted"),
            pl.lit("k:") + pl.col("skeleton_sorted"),
            pl.lit("j:") + pl.col("name_joined"),
            pl.lit(var),
        )
        .list.eval(pl.element().filter(pl.element().str.len_chars() > 3))
        .list.unique(maintain_order=True)
        .alias("block_keys")
    ).to_series()
