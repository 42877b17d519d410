"""Line features: what a line says about itself, set against its norms and the reference data.

Two steps, both vectorised polars (no per-row Python):

1. :func:`add_line_features` adds the derived columns targeting rules and the model read
   (names as in :data:`tradeguard.risk.rules.fields.FEATURES`): HTS prefixes, unit value and
   its ratio to the norm for the same HTS-6 x origin, duty rate, Chapter 99 additional duty,
   SPI claim and eligibility, AD/CVD scope and missing case, trusted status, origin differing
   from the export country, entry size.
2. :func:`model_matrix` turns the feature frame into the numeric matrix LightGBM reads.

Everything learned from data - value norms, category vocabularies, frequency encodings - is
learned once by :func:`fit_spec` on the training lines and frozen into a :class:`FeatureSpec`
inside the bundle.  Encodings never look at labels (frequency and vocabulary only), so they
cannot leak the target; history, which does carry outcomes, is handled time-aware in
:mod:`tradeguard.risk.history`.

Unit values are compared on a log scale with robust statistics (median, MAD): declared values
span six orders of magnitude and a few absurd lines must not move the norm.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from tradeguard.frozen import derived, rows_for
from tradeguard.risk.history import EVASION_FEATURES, HISTORY_FEATURES
from tradeguard.risk.snapshot import ReferenceSnapshot
from tradeguard.risk.tariff import tariff_columns

__all__ = [
    "FeatureSpec",
    "fit_spec",
    "add_line_features",
    "model_matrix",
    "absent_columns",
    "LINE_NUMERIC",
]

_MIN_NORM_N = 5  # lines needed before an HTS-6 x origin norm is trusted over the HTS-4 one
_MAD_FLOOR = 0.1  # log units; keeps z-scores finite for products sold at one price

# Numeric features computed from the line itself (history and encodings are appended).
LINE_NUMERIC: list[str] = [
    "log_value",
    "log_quantity",
    "log_weight",
    "unit_value_ratio",
    "unit_value_z",
    "weight_value_ratio",
    "weight_value_z",
    "duty_rate",
    "specific_duty",
    "additional_duty_rate",
    "ch99_missing",
    "spi_claimed",
    "spi_eligible",
    "adcvd_in_scope",
    "adcvd_hts_any_origin",
    "adcvd_case_missing",
    "adcvd_declared",
    "origin_export_mismatch",
    "lading_mismatch",
    "related_party",
    "trusted_level",
    "is_formal",
    "entry_lines",
    "log_entry_value",
]
_CATEGORICAL_CAPS: dict[str, int] = {
    "hts2": 100,
    "hts4": 300,
    "origin": 80,
    "export_country": 80,
    "port_code": 100,
    "mode": 10,
    "entry_type": 20,
    "spi": 30,
    "trusted_status": 5,
}
_FREQUENCY_COLS = [
    "importer_id",
    "manufacturer_id",
    "filer_code",
    "hts6",
    "hts8",
    "hts",
    "port_code",
]
_HTS_LEVEL = {"hts2": 2, "hts4": 4, "hts6": 6, "hts8": 8, "hts": 10}


@dataclass(frozen=True)
class FeatureSpec:
    """What :func:`fit_spec` learned: which features exist and their frozen encodings."""

    hts_digits: int = 10
    use_reference: bool = True
    use_tax_rate: bool = False
    vocab: dict[str, list[str]] = field(default_factory=dict)  # categorical col -> levels
    frequency: dict[str, pl.DataFrame] = field(default_factory=dict)  # col -> (key, freq)
    norms: dict[str, pl.DataFrame] = field(default_factory=dict)  # "6"/"4": value norms
    extra_numeric: list[str] = field(default_factory=list)
    extra_categorical: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # columns the training data never had
    # time-aware evasion features the model reads (``risk.evasion``); bundles trained before
    # them have none, so their matrices keep their width
    evasion: list[str] = field(default_factory=list)

    @property
    def numeric(self) -> list[str]:
        return [
            *LINE_NUMERIC,
            *HISTORY_FEATURES,
            *self.evasion,
            *[f"freq_{c}" for c in self.frequency],
            *self.extra_numeric,
        ]

    @property
    def categorical(self) -> list[str]:
        return [f"cat_{c}" for c in self.vocab]

    @property
    def names(self) -> list[str]:
        """Model feature names in matrix column order (numeric first, then categorical)."""
        return [*self.numeric, *self.categorical]

    def to_json(self) -> dict[str, Any]:
        return {
            "hts_digits": self.hts_digits,
            "use_reference": self.use_reference,
            "use_tax_rate": self.use_tax_rate,
            "vocab": self.vocab,
            "extra_numeric": self.extra_numeric,
            "extra_categorical": self.extra_categorical,
            "absent": self.absent,
            "evasion": self.evasion,
        }


def _prefix_exprs(hts_digits: int) -> list[pl.Expr]:
    h = pl.col("hts")
    return [
        (h.str.slice(0, n) if n <= hts_digits else pl.lit(None, pl.String)).alias(f"hts{n}")
        for n in (2, 4, 6, 8)
    ]


def _log_pos(e: pl.Expr) -> pl.Expr:
    return pl.when(e > 0).then(e.log()).otherwise(None)


def _value_columns() -> list[pl.Expr]:
    v = pl.col("value_usd").cast(pl.Float64)
    q = pl.col("quantity1")
    w = pl.col("gross_weight_kg")
    return [
        pl.when(q > 0).then(v / q).otherwise(None).alias("unit_value"),
        pl.when(w > 0).then(v / w).otherwise(None).alias("value_per_kg"),
        _log_pos(v).alias("log_value"),
        _log_pos(q).alias("log_quantity"),
        _log_pos(w).alias("log_weight"),
        pl.concat_str([pl.col("hts").str.slice(0, 6), pl.col("origin")], separator="|").alias(
            "__k6"
        ),
        pl.col("hts").str.slice(0, 4).alias("__k4"),
    ]


def fit_spec(
    frame: pl.DataFrame,
    snapshot: ReferenceSnapshot,
    *,
    extra_numeric: list[str] | None = None,
    extra_categorical: list[str] | None = None,
) -> FeatureSpec:
    """Learn norms, vocabularies and frequencies from the (completed) training frame."""
    lengths = frame["hts"].drop_nulls().str.len_chars()
    hts_digits = int(lengths.min()) if lengths.len() else 0  # type: ignore[arg-type]
    hts_digits = max(0, min(hts_digits, 10))
    df = frame.with_columns(*_prefix_exprs(hts_digits), *_value_columns())
    df = df.with_columns(
        _log_pos(pl.col("unit_value")).alias("__luv"),
        _log_pos(pl.col("value_per_kg")).alias("__lwv"),
    )
    norms: dict[str, pl.DataFrame] = {}
    for lvl, key in (("6", "__k6"), ("4", "__k4")):
        stats = []
        for name, col in (("uv", "__luv"), ("wv", "__lwv")):
            x = pl.col(col)
            med = x.median()
            ok = x.count() >= _MIN_NORM_N
            stats += [
                pl.when(ok).then(med).alias(f"{name}_med"),
                pl.when(ok).then((x - med).abs().median() * 1.4826).alias(f"{name}_mad"),
            ]
        norms[lvl] = (
            df.drop_nulls(key)
            .group_by(pl.col(key).alias("key"))
            .agg(stats)
            .filter(pl.col("uv_med").is_not_null() | pl.col("wv_med").is_not_null())
        )
    vocab: dict[str, list[str]] = {}
    cats = dict(_CATEGORICAL_CAPS)
    for c in extra_categorical or []:
        cats[c] = 100
    for c, cap in cats.items():
        if c in _HTS_LEVEL and _HTS_LEVEL[c] > hts_digits:
            continue
        if c not in df.columns:
            continue
        counts = df[c].drop_nulls().cast(pl.String).value_counts(sort=True).head(cap)
        if counts.height:
            vocab[c] = sorted(counts[c].to_list())
    frequency: dict[str, pl.DataFrame] = {}
    n = max(df.height, 1)
    for c in _FREQUENCY_COLS:
        if c in _HTS_LEVEL and _HTS_LEVEL[c] > hts_digits:
            continue
        s = df[c].drop_nulls()
        if s.len() == 0:
            continue
        frequency[c] = s.value_counts().select(
            pl.col(c).alias("key"), (pl.col("count") / n).cast(pl.Float64).alias("freq")
        )
    use_tax = "tax_rate" in frame.columns and frame["tax_rate"].null_count() < frame.height
    return FeatureSpec(
        hts_digits=hts_digits,
        use_reference=hts_digits >= 8 and snapshot.hts.height > 0,
        use_tax_rate=use_tax,
        vocab=vocab,
        frequency=frequency,
        norms=norms,
        extra_numeric=list(extra_numeric or []),
        extra_categorical=[c for c in (extra_categorical or []) if c in vocab],
        evasion=list(EVASION_FEATURES),
    )


def _norm_join(df: pl.DataFrame, spec: FeatureSpec) -> tuple[pl.DataFrame, dict[str, pl.Expr]]:
    """Join the HTS-6 x origin and HTS-4 value norms; ``uv_med/uv_mad/wv_med/wv_mad`` as
    expressions over the joined columns (the HTS-6 norm, else the HTS-4 one), which the
    caller evaluates in its own step."""
    stats = ["uv_med", "uv_mad", "wv_med", "wv_mad"]
    t6, t4 = spec.norms.get("6"), spec.norms.get("4")
    if t6 is None or t4 is None:
        return df, {c: pl.lit(None, pl.Float64) for c in stats}
    a = derived(
        t6,
        "norm6",
        lambda: t6.select(pl.col("key").alias("__k6"), *[pl.col(c).alias(f"{c}6") for c in stats]),
    )
    b = derived(
        t4,
        "norm4",
        lambda: t4.select(pl.col("key").alias("__k4"), *[pl.col(c).alias(f"{c}4") for c in stats]),
    )
    a, b = rows_for(a, "__k6", df["__k6"]), rows_for(b, "__k4", df["__k4"])
    df = df.join(a, on="__k6", how="left", maintain_order="left").join(
        b, on="__k4", how="left", maintain_order="left"
    )
    out = {}
    for name in ("uv", "wv"):
        use6 = pl.col(f"{name}_med6").is_not_null()
        out[f"{name}_med"] = (
            pl.when(use6).then(pl.col(f"{name}_med6")).otherwise(pl.col(f"{name}_med4"))
        )
        out[f"{name}_mad"] = pl.max_horizontal(
            pl.when(use6).then(pl.col(f"{name}_mad6")).otherwise(pl.col(f"{name}_mad4")),
            pl.lit(_MAD_FLOOR),
        )
    return df, out


_NORM_JOINED = [f"{c}{lvl}" for c in ("uv_med", "uv_mad", "wv_med", "wv_mad") for lvl in "64"]


@functools.lru_cache(maxsize=16)
def _line_columns(hts_digits: int) -> list[pl.Expr]:
    """The features a line derives from its own columns, in one step (built once per HTS
    precision: the expressions cost more to build than to run on an API batch)."""
    status = pl.col("trusted_status").fill_null("none")
    lading_country = pl.col("lading_port").str.slice(0, 2)
    return [
        *_prefix_exprs(hts_digits),
        *_value_columns(),
        pl.col("filed_at").cast(pl.Date).alias("filed_date"),
        lading_country.alias("lading_country"),
        (pl.col("export_country").is_not_null() & (pl.col("export_country") != pl.col("origin")))
        .fill_null(False)
        .alias("origin_export_mismatch"),
        status.is_in(["ctpat", "ctpat_tc"]).alias("trusted"),
        status.replace_strict(
            ["none", "ctpat", "ctpat_tc"], [0.0, 1.0, 2.0], default=0.0, return_dtype=pl.Float64
        ).alias("trusted_level"),
        (~pl.col("entry_type").is_in(["11", "86"])).fill_null(True).alias("is_formal"),
        pl.len().over("entry_number").cast(pl.Float64).alias("entry_lines"),
        pl.col("value_usd").sum().over("entry_number").log1p().alias("log_entry_value"),
        (
            lading_country.is_not_null()
            & pl.col("export_country").is_not_null()
            & (lading_country != pl.col("export_country"))
        )
        .fill_null(False)
        .alias("lading_mismatch"),
    ]


def add_line_features(
    frame: pl.DataFrame, spec: FeatureSpec, snapshot: ReferenceSnapshot
) -> pl.DataFrame:
    """Add the line-level derived features to a completed scoring frame (same rows, order)."""
    df = frame.with_columns(_line_columns(spec.hts_digits))
    df, norm = _norm_join(df, spec)
    luv, lwv = _log_pos(pl.col("unit_value")), _log_pos(pl.col("value_per_kg"))
    uv_med, uv_mad, wv_med, wv_mad = norm["uv_med"], norm["uv_mad"], norm["wv_med"], norm["wv_mad"]
    df = df.with_columns(
        uv_med.exp().alias("unit_value_norm"),
        (luv - uv_med).exp().alias("unit_value_ratio"),
        ((luv - uv_med) / uv_mad).alias("unit_value_z"),
        (lwv - wv_med).exp().alias("weight_value_ratio"),
        ((lwv - wv_med) / wv_mad).alias("weight_value_z"),
    ).drop("__k6", "__k4", *[c for c in _NORM_JOINED if c in df.columns])
    return tariff_columns(df, spec, snapshot)


def model_matrix(df: pl.DataFrame, spec: FeatureSpec) -> np.ndarray:
    """The float32 matrix LightGBM reads, columns in ``spec.names`` order (nulls -> NaN).

    Frequencies and categorical codes are looked up here from the frozen tables; an unseen
    category gets NaN (LightGBM's "missing"), an unseen party a frequency of 0.
    """
    exprs: list[pl.Expr] = []
    for c in spec.numeric:
        if c.startswith("freq_") and c[5:] in df.columns:
            src = c[5:]
            # only the keys present: a party table holds tens of thousands (tradeguard.frozen)
            t = rows_for(spec.frequency[src], "key", df[src])
            exprs.append(
                pl.col(src)
                .replace_strict(t["key"], t["freq"], default=0.0, return_dtype=pl.Float32)
                .alias(c)
            )
        elif c in df.columns:
            exprs.append(pl.col(c).cast(pl.Float32).alias(c))
        else:
            exprs.append(pl.lit(None, pl.Float32).alias(c))
    for c in spec.vocab:
        if c not in df.columns:  # an extra column the scored file lacks: all missing
            exprs.append(pl.lit(None, pl.Float32).alias(f"cat_{c}"))
            continue
        exprs.append(_category_codes(pl.col(c).cast(pl.String), spec, c).alias(f"cat_{c}"))
    out = df.select(exprs).to_numpy(order="c")  # row-major: what LightGBM reads fastest
    return out if out.dtype == np.float32 else out.astype(np.float32)


def _category_codes(col: pl.Expr, spec: FeatureSpec, name: str) -> pl.Expr:
    """The float code of each value of ``col`` in the vocabulary ``spec.vocab[name]``: its
    position among the levels (sorted, distinct), null - LightGBM's missing - when it is not
    one of them.  A cast to an Enum of the levels finds the position (its physical code) in
    one pass, at about half what a general value mapping costs.
    """
    enum = derived(spec, ("enum", name), lambda: pl.Enum(spec.vocab[name]))
    return col.cast(enum, strict=False).to_physical().cast(pl.Float32)


# base column -> derived features that mean nothing when the data never has that column
_DEPENDS: dict[str, list[str]] = {
    "spi": ["spi_claimed", "spi_eligible"],
    "trusted_status": ["trusted", "trusted_level"],
    "export_country": ["origin_export_mismatch", "lading_mismatch"],
    "lading_port": ["lading_country", "lading_mismatch"],
    "adcvd_cases": ["adcvd_case_missing", "adcvd_declared"],
    "chapter99": ["ch99_missing"],
    "entry_type": ["is_formal"],
    "related_party": [],
}


def absent_columns(feats: pl.DataFrame) -> list[str]:
    """Columns of a training feature frame that carry nothing: all null, or derived from an
    input column that is all null.  Rules needing them are skipped instead of firing on nulls.
    """
    nulls = feats.null_count().row(0, named=True)
    gone = {c for c, k in nulls.items() if k == feats.height and not c.startswith("__")}
    for base, dependent in _DEPENDS.items():
        if base in gone:
            gone.update(dependent)
    return sorted(gone)
