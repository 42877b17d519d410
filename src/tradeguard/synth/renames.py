"""How violators re-register: varied names, new addresses, new IOR numbers and new MIDs.

A re-registered importer (a *name changer*) files under a new IOR number with a varied name
from its switch date, some of them twice; a re-registered manufacturer ships under a new MID
(new name variant, often a new street, sometimes another city) from its own switch date.
Every choice is a hash of (seed salt, id, field), so a seed always gives the same names.

The variants are deliberately broader than any fixed normalisation, so that entity
resolution is measured on its ability to generalise, not on undoing a known list:

=============  ==============================================================================
importers      another legal form ("Pacific Trading Holdings LLC"), a typo anywhere in a word
               (a letter dropped, doubled or swapped), "New ..." in front, a word cut short
               ("Pac. Trading Corp"), capitals, words swapped, punctuated or spelled-out legal
               forms ("Pacific Trading, L.L.C."), a trade abbreviation ("Pacific Prods Inc"),
               a word added ("Pacific Global Trading LLC"), words run together - or, for
               one in twenty, a new name altogether ("Summit Crest Supply Inc")
manufacturers  another (spelled-out) legal form, the city in front ("Ningbo Sheng Metal Co
               Ltd"), a plural, typos, words run together, capitals, a word added
=============  ==============================================================================
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tradeguard.synth import calibration as cal
from tradeguard.synth.names import company_names, hashed, unit

__all__ = ["importer_name_variants", "manufacturer_variants", "mid_codes", "strip_legal_form"]

# one or more trailing legal forms, as written by the generator or by a previous renaming
_IMPORTER_FORMS = (
    r"(?i)(,? (LLC|Inc|Corp|Co|Ltd|Group|USA|International|Holdings|Enterprises|Incorporated|"
    r"Company|L\.L\.C\.|Inc\.|Corp\.|Co\.,? Ltd\.|Ltd\.))+$"
)
_NEW_FORMS = ("Holdings LLC", "Enterprises Inc", "Group Inc", "Co", "Corp", "Incorporated",
              "Company", "LLC", "Inc", "Ltd", "International Inc", "USA Corp")  # fmt: skip
_PUNCTUATED = (", L.L.C.", ", Inc.", " Corp.", " Co., Ltd.", ", Ltd.")
_INSERTED = ("Global", "Worldwide", "Direct", "Solutions", "America", "Plus", "Trade", "Source")
# trade abbreviations a filer may use (some of them no resolver's table will know)
_SHORT = {
    "International": "Intl", "Distribution": "Distrib", "Industries": "Inds",
    "Products": "Prods", "Merchandise": "Merch", "Electronics": "Elec", "Logistics": "Logist",
    "Wholesale": "Whsle", "Commerce": "Comm", "Continental": "Contl", "National": "Natl",
    "American": "Amer", "Hardware": "Hdwe", "Furniture": "Furn", "Lighting": "Ltg",
    "Outfitters": "Outfit", "Manufacturing": "Mfg", "Industrial": "Indl", "Textiles": "Tex",
    "Sourcing": "Src", "Partners": "Ptnrs", "Ventures": "Vent", "Brands": "Brnds",
}  # fmt: skip
_MFR_FORMS = r" (Co Ltd|Ltd|Manufacturing Co|Industrial Co Ltd|Corp|GmbH|SA de CV)$"
_MFR_NEW_FORMS = ("Co., Ltd.", "Company Limited", "Co Ltd", "Ltd", "Industrial Co Ltd",
                  "Group Co Ltd", "Manufacturing Co", "Corp", "Industry Co Ltd", "Limited")  # fmt: skip
_MFR_INSERTED = ("New", "Intl", "Tech", "Global", "Hi-Tech", "Sunrise")


def _pick(words: tuple[str, ...], keys: np.ndarray, salt: int, field: int) -> pl.Series:
    idx = (hashed(keys, salt, field) % np.uint64(len(words))).astype(np.int64)
    return pl.Series(list(words), dtype=pl.String).gather(idx)


def strip_legal_form(names: pl.Expr, pattern: str = _IMPORTER_FORMS) -> pl.Expr:
    """The name without its trailing legal form ("Pacific Trading LLC" -> "Pacific Trading")."""
    return names.str.replace(pattern, "")


def _typo(word: pl.Expr, u_pos: pl.Expr, u_op: pl.Expr) -> pl.Expr:
    """A typing slip at an inner position of ``word``: a letter dropped, doubled or swapped
    with the next one (words under four letters are left alone)."""
    n = word.str.len_chars()
    p = (1 + (u_pos * (n - 2).clip(lower_bound=1)).floor()).cast(pl.Int64)
    head, ch = word.str.slice(0, p), word.str.slice(p, 1)
    nxt, tail2 = word.str.slice(p + 1, 1), word.str.slice(p + 2)
    dropped = head + word.str.slice(p + 1)
    doubled = head + ch + ch + word.str.slice(p + 1)
    swapped = head + nxt + ch + tail2
    out = pl.when(u_op < 1 / 3).then(dropped).when(u_op < 2 / 3).then(doubled).otherwise(swapped)
    return pl.when(n >= 4).then(out).otherwise(word + word.str.slice(n - 1))


def importer_name_variants(
    names: pl.Series, keys: np.ndarray, salt: int, field: int = 9
) -> pl.Series:
    """A re-registered importer's new name (one of ten kinds of variant, or a new name; see
    the module docstring).

    ``field`` separates successive renamings of one firm (a second renaming varies the first
    variant again).  Never identical to the input.
    """
    n = len(keys)
    frame = pl.DataFrame(
        {
            "n": names,
            "k": (hashed(keys, salt, field) % np.uint64(10)).astype(np.int64),
            "form": _pick(_NEW_FORMS, keys, salt, field + 1),
            "punct": _pick(_PUNCTUATED, keys, salt, field + 2),
            "ins": _pick(_INSERTED, keys, salt, field + 3),
            "u1": unit(keys, salt, field + 4),
            "u2": unit(keys, salt, field + 5),
            "cut": (hashed(keys, salt, field + 6) % np.uint64(3)).astype(np.int64) + 3,
        }
    )
    if n == 0:
        return pl.Series(dtype=pl.String)
    base = strip_legal_form(pl.col("n"))
    words = base.str.split(" ")
    first, last = words.list.first(), words.list.slice(1).list.join(" ")
    old_form = pl.col("n").str.extract(r" (LLC|Inc|Corp|Co|Ltd|Group|USA Inc|International)$")
    can_cut = (first.str.len_chars() > pl.col("cut") + 1) & ~first.str.contains(r"\.")
    form_or_old = pl.coalesce(old_form, pl.col("form"))
    short = words.list.eval(pl.element().replace(_SHORT)).list.join(" ")
    out = (
        pl.when(pl.col("k") == 0)
        .then(base + " " + pl.col("form"))
        .when(pl.col("k") == 1)
        .then(_typo(first, pl.col("u1"), pl.col("u2")) + " " + last + " " + form_or_old)
        .when(pl.col("k") == 2)
        .then("New " + base + " " + pl.col("form"))
        .when((pl.col("k") == 3) & can_cut)
        .then(first.str.slice(0, pl.col("cut")) + ". " + last + " " + pl.col("form"))
        .when(pl.col("k") == 3)
        .then(base + " " + pl.col("form"))
        .when(pl.col("k") == 4)
        .then((base + " " + pl.col("form")).str.to_uppercase())
        .when(pl.col("k") == 5)
        .then(last + " " + first + " " + form_or_old)
        .when(pl.col("k") == 6)
        .then(base + pl.col("punct"))
        .when((pl.col("k") == 7) & (short != base))
        .then(short + " " + pl.col("form"))
        .when(pl.col("k") == 7)
        .then(first + " " + _typo(last, pl.col("u1"), pl.col("u2")) + " " + pl.col("form"))
        .when(pl.col("k") == 8)
        .then(first + " " + pl.col("ins") + " " + last + " " + form_or_old)
        .otherwise(first + last + " " + pl.col("form"))
        .str.strip_chars()
    )
    # one in twenty trades under a new name altogether: only its trade, premises and timing
    # tie it to the old one
    fresh = pl.Series(unit(keys, salt, field + 7) < cal.FRESH_NAME_SHARE)
    other = company_names(keys + 60_000_000 + field * 1_000_000, salt)
    chosen = pl.when(pl.lit(fresh)).then(pl.lit(other)).otherwise(out)
    return frame.select(
        pl.when(chosen == pl.col("n")).then(chosen + " Co").otherwise(chosen).alias("name")
    ).to_series()


def mid_codes(frame: pl.DataFrame, provinces: dict[str, str]) -> pl.Series:
    """CBP manufacturer IDs of ``frame`` (country, name, address, city): ISO country (the
    province code for Canada), the first three letters of the name's first two words, up to
    four digits of the street number, the first three letters of the city."""
    letters = pl.col("name").str.replace_all(r"[^A-Za-z ]", "").str.split(" ")
    province = pl.col("city").replace_strict(provinces, default="XO")
    return frame.select(
        pl.concat_str(
            [
                pl.when(pl.col("country") == "CA").then(province).otherwise(pl.col("country")),
                letters.list.get(0, null_on_oob=True)
                .fill_null("")
                .str.slice(0, 3)
                .str.to_uppercase(),
                letters.list.get(1, null_on_oob=True)
                .fill_null("")
                .str.slice(0, 3)
                .str.to_uppercase(),
                pl.col("address").str.extract(r"^(\d+)").fill_null("").str.slice(0, 4),
                pl.col("city").str.replace_all(" ", "").str.slice(0, 3).str.to_uppercase(),
            ]
        ).alias("mid")
    ).to_series()


def manufacturer_variants(
    frame: pl.DataFrame,
    keys: np.ndarray,
    salt: int,
    cities: dict[str, tuple[str, ...]],
    streets: tuple[str, ...],
    provinces: dict[str, str],
) -> pl.DataFrame:
    """The new record of re-registered manufacturers ``keys`` (rows of ``frame``: country,
    name, address, city): a name variant, a new street address (half of them on the same
    street), the same city four times in five, and the MID these give."""
    k = (hashed(keys, salt, 50) % np.uint64(8)).astype(np.int64)
    df = frame.select("country", "name", "address", "city").with_columns(
        k=pl.Series(k),
        form=_pick(_MFR_NEW_FORMS, keys, salt, 51),
        ins=_pick(_MFR_INSERTED, keys, salt, 52),
        u1=pl.Series(unit(keys, salt, 53)),
        u2=pl.Series(unit(keys, salt, 54)),
        num=pl.Series((hashed(keys, salt, 55) % np.uint64(2_999)).astype(np.int64) + 1),
        street=_pick(streets, keys, salt, 56),
        same_street=pl.Series(unit(keys, salt, 57) < 0.5),
        same_city=pl.Series(unit(keys, salt, 58) < 0.8),
        u_city=pl.Series(unit(keys, salt, 59)),
    )
    base = strip_legal_form(pl.col("name"), _MFR_FORMS)
    words = base.str.split(" ")
    first, rest = words.list.first(), words.list.slice(1).list.join(" ")
    old_form = pl.col("name").str.extract(_MFR_FORMS.removeprefix(" "))
    form_or_old = pl.coalesce(old_form, pl.col("form"))
    plural = pl.when(rest.str.ends_with("s")).then(rest).otherwise(rest + "s")
    name = (
        pl.when(pl.col("k") == 0)
        .then(base + " " + pl.col("form"))
        .when(pl.col("k") == 1)
        .then(pl.col("city") + " " + pl.col("name"))
        .when(pl.col("k") == 2)
        .then(first + " " + plural + " " + form_or_old)
        .when(pl.col("k") == 3)
        .then(_typo(first, pl.col("u1"), pl.col("u2")) + " " + rest + " " + pl.col("form"))
        .when(pl.col("k") == 4)
        .then(first + rest + " " + form_or_old)
        .when(pl.col("k") == 5)
        .then((base + " " + pl.col("form")).str.to_uppercase())
        .when(pl.col("k") == 6)
        .then(first + " " + pl.col("ins") + " " + rest + " " + form_or_old)
        .otherwise(first + " " + _typo(rest, pl.col("u1"), pl.col("u2")) + " " + form_or_old)
        .str.strip_chars()
    )
    street = pl.col("address").str.replace(r"^\d+ ", "")
    df = df.with_columns(
        name=pl.when(name == pl.col("name")).then(name + " Co").otherwise(name),
        address=pl.col("num").cast(pl.String)
        + " "
        + pl.when(pl.col("same_street")).then(street).otherwise(pl.col("street") + " Road"),
    )
    # another city of the same country for one in five
    city = df["city"].to_numpy().astype(object)
    country, u_city = df["country"].to_numpy(), df["u_city"].to_numpy()
    move = ~df["same_city"].to_numpy()
    for cc in np.unique(country[move]):  # a loop over countries, not rows
        pool = np.asarray(cities.get(str(cc), ()), dtype=object)
        m = move & (country == cc)
        if len(pool):
            city[m] = pool[(u_city[m] * len(pool)).astype(np.int64)]
    df = df.with_columns(city=pl.Series(city.astype(str), dtype=pl.String))
    return df.select("country", "name", "address", "city").with_columns(
        mid=mid_codes(df, provinces)
    )
