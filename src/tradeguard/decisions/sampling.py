"""The random compliance-measurement sample: stratified Poisson sampling, independent of risk.

Why this design:
- *Independent of the score.*  Whether an entry is drawn depends only on its entry number, the
  seed and its stratum's rate; never on a score, a rule or a capacity.  Estimates of the
  compliance rate and the revenue gap made from the sample are therefore unbiased, even while
  targeting changes.
- *Poisson sampling with known inclusion probabilities.*  Each entry of stratum ``h`` is drawn
  with probability ``pi_h``; its design weight is ``1 / pi_h`` (Horvitz-Thompson), so
  ``sum(weight * y)`` over the sample estimates the population total of ``y``.
- *A hash, not a stream of random numbers.*  The uniform draw of an entry is a seeded 64-bit
  hash (FNV-1a, then the splitmix64 finaliser) of its entry number.  It does not depend on the
  order or the batch the entry arrives in, so the one-entry API, the chunked batch CLI and a
  Spark job all draw exactly the same sample for the same seed, on any platform.
- *Strata.*  The key joins the policy's dimensions: ``port_group`` (the port's group from the
  capacity file, else its Schedule D district: the first two digits), ``pti_exposure`` (what
  the goods expose, from the line data, never from scores: see ``pti_exposure``),
  ``trusted`` and ``size_band``.  Per-stratum rates let an administration oversample, say,
  AD/CVD goods.
- *Size bands.*  Duties lost are concentrated in a few large entries (in generated trade the
  largest loss of a week is often half of all of it), and a sample that misses them cannot
  know they exist.  ``size_band`` puts an entry in ``s0`` .. ``s4`` by its declared duty plus a
  tenth of its declared value (``size_band_expr``; a tenth of the value stands for what an evasion
  could owe on duty-free goods) against ``LanePolicy.size_bands``, and its rate is multiplied
  by the band's ``size_multipliers`` entry: close to sampling proportionally to size, which
  is what makes the revenue gap estimable (``analytics.compliance.estimate_total``).  The
  columns are declared data, never scores; an entry without them is ``s-`` (multiplier 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from tradeguard.decisions.policy import LanePolicy

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_TEXTILE_CHAPTERS = {f"{c:02d}" for c in range(50, 64)}
_AGRI_CHAPTERS = {f"{c:02d}" for c in range(1, 25)}
# When an entry's lines expose it to several issues, the first of these names its stratum.
EXPOSURE_ORDER = ("adcvd", "textiles", "agriculture_quota", "general")


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: np.ndarray = x ^ (x >> np.uint64(31))
    return out


def uniform_draws(keys: pl.Series | pa.Array | pa.ChunkedArray, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per key, a pure function of (key, seed).

    >>> float(uniform_draws(pl.Series(["ABC-1234567-6"]), 7)[0]) == float(
    ...     uniform_draws(pl.Series(["XYZ-0000001-1", "ABC-1234567-6"]), 7)[1])
    True
    """
    if isinstance(keys, pl.Series) and keys.len() <= _FEW and not keys.null_count():
        # a few keys (an API batch): the same arithmetic on Python integers costs less than
        # the vectorised steps' fixed costs
        return np.array([_draw(k, seed) for k in keys.cast(pl.String).to_list()], np.float64)
    arr = keys.to_arrow() if isinstance(keys, pl.Series) else keys
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, np.uint8)
    )
    if data.size == 0:
        data = np.zeros(1, np.uint8)
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    h = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    # One vectorised step per character position (entry numbers are ~13 characters).
    for pos in range(int(lengths.max()) if n else 0):
        live = lengths > pos
        idx = np.minimum(starts + pos, data.size - 1)
        stepped = (h ^ data[idx].astype(np.uint64)) * _FNV_PRIME
        h = np.where(live, stepped, h)
    h = _splitmix64(h ^ _splitmix64(np.full(n, np.uint64(seed & 0xFFFFFFFFFFFFFFFF))))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


# Up to this many entries (an API batch) are drawn and stratified in Python.
_FEW = 256
_MASK = (1 << 64) - 1
_FNV_OFFSET_INT, _FNV_PRIME_INT = int(_FNV_OFFSET), int(_FNV_PRIME)


def _splitmix64_int(x: int) -> int:
    """:func:`_splitmix64` of one 64-bit value."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _draw(key: str, seed: int) -> float:
    """:func:`uniform_draws` of one key (FNV-1a of its UTF-8 bytes, then splitmix64)."""
    h = _FNV_OFFSET_INT
    for byte in key.encode():
        h = ((h ^ byte) * _FNV_PRIME_INT) & _MASK
    h = _splitmix64_int(h ^ _splitmix64_int(seed & _MASK))
    return float(h >> 11) * (1.0 / (1 << 53))


def exposure_rank(columns: list[str]) -> pl.Expr:
    """Per line, the position in ``EXPOSURE_ORDER`` of what it exposes the entry to (Int8).

    ``adcvd`` (the line declares an AD/CVD case), ``textiles`` (chapters 50-63),
    ``agriculture_quota`` (chapters 1-24), else ``general``; an entry takes the lowest rank of
    its lines.  Line data only, never scores, so that the strata are fixed before any risk is
    assessed.
    """
    chapter = pl.col("hts").cast(pl.String).str.slice(0, 2)
    rank: Any = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.Int8))
    if "adcvd_cases" in columns:
        rank = rank.when(pl.col("adcvd_cases").fill_null("").str.len_chars() > 0).then(
            pl.lit(0, dtype=pl.Int8)
        )
    out: pl.Expr = (
        rank.when(chapter.is_in(sorted(_TEXTILE_CHAPTERS)))
        .then(pl.lit(1, dtype=pl.Int8))
        .when(chapter.is_in(sorted(_AGRI_CHAPTERS)))
        .then(pl.lit(2, dtype=pl.Int8))
        .otherwise(pl.lit(3, dtype=pl.Int8))
        .alias("exposure_rank")
    )
    return out


def exposure_name(rank: pl.Expr) -> pl.Expr:
    """``exposure_rank`` back to its name (``adcvd``, ``textiles`` ...)."""
    return rank.replace_strict(dict(enumerate(EXPOSURE_ORDER)), return_dtype=pl.String)


def pti_exposure(lines: pl.DataFrame) -> pl.DataFrame:
    """What each entry's goods expose it to: ``entry_number``, ``pti_exposure``.

    See ``exposure_rank``; the first of ``EXPOSURE_ORDER`` that applies to any of its lines.
    """
    return (
        lines.select("entry_number", exposure_rank(lines.columns))
        .group_by("entry_number")
        .agg(pl.col("exposure_rank").min())
        .select("entry_number", exposure_name(pl.col("exposure_rank")).alias("pti_exposure"))
    )


def port_group_expr(ports: Mapping[str, str]) -> pl.Expr:
    """The port's group from the policy, else its Schedule D district (first two digits)."""
    district = pl.col("port_code").cast(pl.String).str.slice(0, 2)
    if not ports:
        return district
    return pl.col("port_code").replace_strict(dict(ports), default=district, return_dtype=pl.String)


SIZE_UNKNOWN = "s-"


def size_band_expr(columns: list[str], bands: tuple[float, ...]) -> pl.Expr:
    """An entry's size band: ``s<k>``, k = how many of ``bands`` its size reaches (``s-``
    when the entry carries neither ``declared_duty_usd`` nor ``value_usd``)."""
    duty = "declared_duty_usd" in columns
    value = "value_usd" in columns
    if not (duty or value):
        return pl.lit(SIZE_UNKNOWN)
    size: pl.Expr = pl.lit(0.0)
    if duty:
        size = size + pl.col("declared_duty_usd").cast(pl.Float64).fill_null(0.0)
    if value:
        size = size + 0.1 * pl.col("value_usd").cast(pl.Float64).fill_null(0.0)
    k: pl.Expr = pl.lit(0, dtype=pl.Int32)
    for edge in bands:
        k = k + (size >= edge).cast(pl.Int32)
    return pl.concat_str(pl.lit("s"), k.cast(pl.String))


def _match(stratum: list[str], rates: Mapping[str, float]) -> tuple[int, float, list[str]] | None:
    """The most specific pattern of ``rates`` matching ``stratum``: (specificity, rate, pattern)."""
    best: tuple[int, float, list[str]] | None = None
    for pattern, rate in rates.items():
        pat = pattern.split("|")
        if len(pat) != len(stratum):
            continue
        if all(p in ("*", v) for p, v in zip(pat, stratum, strict=True)):
            specificity = sum(p != "*" for p in pat)
            if best is None or specificity > best[0]:
                best = (specificity, float(rate), pat)
    return best


def stratum_rate(stratum: str, policy: LanePolicy) -> float:
    """The inclusion probability of a stratum: an exact key, else the most specific pattern.

    With the ``size_band`` dimension, a key or pattern naming the band gives the rate as is;
    otherwise the rate of the most specific pattern ignoring the band (a full-length one with
    ``*`` there, or one without the band component), else ``random_rate``, is multiplied by
    the band's ``size_multipliers`` entry, capped at 1.
    """
    if stratum in policy.stratum_rates:
        return float(policy.stratum_rates[stratum])
    parts = stratum.split("|")
    if "size_band" not in policy.strata or len(parts) != len(policy.strata):
        best = _match(parts, policy.stratum_rates)
        return best[1] if best else float(policy.random_rate)
    at = policy.strata.index("size_band")
    full = _match(parts, policy.stratum_rates)
    if full is not None and full[2][at] != "*":
        return full[1]
    short = _match(parts[:at] + parts[at + 1 :], policy.stratum_rates)
    found = [m for m in (full, short) if m is not None]
    base = max(found, key=lambda m: m[0])[1] if found else float(policy.random_rate)
    band = parts[at]
    if not band[1:].isdigit():  # s-: size unknown
        return base
    k = min(int(band[1:]), len(policy.size_multipliers) - 1)
    return min(1.0, base * policy.size_multipliers[k])


def draw_sample(entries: pl.DataFrame, policy: LanePolicy, *, seed: int) -> pl.DataFrame:
    """Add ``sample_stratum``, ``sample_probability``, ``random_sample`` and ``sample_weight``.

    ``entries`` needs ``entry_number``, ``port_code`` and ``trusted``; ``pti_exposure`` is used
    when present (else every entry is ``all``), and ``declared_duty_usd`` / ``value_usd`` (the
    entry's sums) for its size band (else ``s-``).  ``sample_weight`` is ``1 / probability`` for
    drawn entries and null for the others.
    """
    groups = {p: c.group for p, c in policy.ports.items() if c.group}
    if entries.height <= _FEW:
        few = _few_strata(entries, policy, groups)
        if few is not None:
            return _drawn(entries, few, policy, seed)
    parts: list[pl.Expr] = []
    for dim in policy.strata:
        if dim == "port_group":
            parts.append(port_group_expr(groups))
        elif dim == "pti_exposure":
            parts.append(
                pl.col("pti_exposure").fill_null("general")
                if "pti_exposure" in entries.columns
                else pl.lit("all")
            )
        elif dim == "size_band":
            parts.append(size_band_expr(entries.columns, policy.size_bands))
        else:
            parts.append(pl.col("trusted"))
    stratum = pl.concat_str(parts, separator="|") if parts else pl.lit("all")
    out = entries.with_columns(stratum.alias("sample_stratum"))
    rates = {s: stratum_rate(s, policy) for s in out["sample_stratum"].unique().to_list()}
    u = uniform_draws(out["entry_number"], seed)
    # one step for the probability, the draw and the weight (spelled out, not read back)
    probability = pl.col("sample_stratum").replace_strict(rates, return_dtype=pl.Float64)
    drawn = pl.lit(pl.Series("_u", u)) < probability
    return out.with_columns(
        probability.alias("sample_probability"),
        drawn.alias("random_sample"),
        pl.when(drawn).then(1.0 / probability).alias("sample_weight"),
    )


def _few_strata(
    entries: pl.DataFrame, policy: LanePolicy, groups: dict[str, str]
) -> list[str] | None:
    """The strata of a few entries, computed in Python as :func:`draw_sample`'s expressions
    do (one frame operation costs more than the whole on an API batch); None when an entry
    has no stratum (a null part), which the expressions then handle."""
    cols = entries.columns
    dims = {
        "port_group": pl.col("port_code").cast(pl.String),
        "pti_exposure": pl.col("pti_exposure").fill_null("general")
        if "pti_exposure" in cols
        else None,
        "trusted": pl.col("trusted").cast(pl.String),
        "duty": pl.col("declared_duty_usd").cast(pl.Float64).fill_null(0.0)
        if "declared_duty_usd" in cols
        else None,
        "value": pl.col("value_usd").cast(pl.Float64).fill_null(0.0)
        if "value_usd" in cols
        else None,
    }
    # only the columns the strata read (any other dimension reads ``trusted``)
    wanted = {name for dim in policy.strata for name in _READS.get(dim, ("trusted",))}
    picked = {k: e for k, e in dims.items() if e is not None and k in wanted}
    rows = entries.select(**picked).rows(named=True) if picked else [{}] * entries.height
    out: list[str] = []
    for r in rows:
        parts: list[Any] = []
        for dim in policy.strata:
            if dim == "port_group":
                port = r["port_group"]
                parts.append(None if port is None else groups.get(port, port[:2]))
            elif dim == "pti_exposure":
                parts.append(r["pti_exposure"] if "pti_exposure" in cols else "all")
            elif dim == "size_band":
                parts.append(_size_band(r.get("duty"), r.get("value"), policy))
            else:
                parts.append(r["trusted"])
        if any(part is None for part in parts):
            return None
        out.append("|".join(parts) if parts else "all")
    return out


# what each dimension of a stratum reads, as named in _few_strata
_READS = {
    "port_group": ("port_group",),
    "pti_exposure": ("pti_exposure",),
    "size_band": ("duty", "value"),
}


def _size_band(duty: float | None, value: float | None, policy: LanePolicy) -> str | None:
    """:func:`size_band_expr` of one entry (the same float operations, in the same order);
    ``duty`` / ``value`` are None when the frame lacks the column (``SIZE_UNKNOWN`` when it
    lacks both).  None for a NaN size (polars orders NaN above every number, Python below
    none)."""
    if duty is None and value is None:
        return SIZE_UNKNOWN
    size = 0.0
    if duty is not None:
        size = size + duty
    if value is not None:
        size = size + 0.1 * value
    if math.isnan(size):
        return None
    return f"s{sum(size >= edge for edge in policy.size_bands)}"


def _drawn(entries: pl.DataFrame, strata: list[str], policy: LanePolicy, seed: int) -> pl.DataFrame:
    """:func:`draw_sample`'s columns for a few entries whose ``strata`` are known."""
    rates = {s: stratum_rate(s, policy) for s in set(strata)}
    u = uniform_draws(entries["entry_number"], seed)
    probability = [rates[s] for s in strata]
    drawn = [bool(x < p) for x, p in zip(u.tolist(), probability, strict=True)]
    return entries.with_columns(
        pl.Series("sample_stratum", strata, dtype=pl.String),
        pl.Series("sample_probability", probability, dtype=pl.Float64),
        pl.Series("random_sample", drawn, dtype=pl.Boolean),
        pl.Series(
            "sample_weight",
            [1.0 / p if d else None for p, d in zip(probability, drawn, strict=True)],
            dtype=pl.Float64,
        ),
    )
