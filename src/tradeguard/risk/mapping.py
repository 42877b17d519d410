"""Mapping another administration's declarations onto tradeguard's fields (YAML).

A customs administration that is not CBP has its own declaration columns: a declaration id,
a date, an importer TIN, a declarant, an office, a 6-digit HS code, values in its own
currency, a fraud flag set after inspection.  A mapping file says which column is which, so
``tradeguard train`` and ``tradeguard evaluate`` run on such a file directly (see
``docs/mapping.md`` for the format with an example).  Anything may be left out: HTS features
degrade to the digits present, rules that need an absent field do not fire, and without
8-digit codes the reference duty rates give way to the file's own tax-rate column.

Every row of a mapped file is treated as an inspected declaration item whose outcome (the
label) became known ``label_lag_days`` after its date; history features only use labels
known before a line's date, exactly as for generated data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from tradeguard.errors import IssueCollector, ValidationFailed
from tradeguard.risk.dataset import Dataset
from tradeguard.risk.frame import complete

__all__ = ["Mapping", "load_mapping", "apply_mapping", "read_mapped", "FIELDS"]

# mapping key -> canonical scoring-frame column
FIELDS: dict[str, str] = {
    "identifier": "entry_number",
    "line": "line_number",
    "date": "filed_at",
    "importer": "importer_id",
    "declarant": "filer_code",
    "manufacturer": "manufacturer_id",
    "office": "port_code",
    "hs_code": "hts",
    "origin": "origin",
    "export_country": "export_country",
    "value": "value_usd",
    "quantity": "quantity1",
    "mass": "gross_weight_kg",
    "tax_rate": "tax_rate",
    "mode": "mode",
    "entry_type": "entry_type",
    "spi": "spi",
}
_REQUIRED = ("identifier", "date")
_TOP_KEYS = {"name", "fields", "currency", "labels", "features", "modes", "date_format",
             "tax_rate_percent", "label_lag_days"}  # fmt: skip


@dataclass(frozen=True)
class Mapping:
    """A validated mapping (see the module docstring and ``docs/mapping.md``)."""

    fields: dict[str, str]  # mapping key -> source column
    currency_column: str | None = None
    currency_factor: float = 1.0
    fraud: str | None = None
    revenue: str | None = None
    categorical: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)
    modes: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    tax_rate_percent: bool = False
    label_lag_days: float = 30.0
    name: str = ""

    def columns(self) -> list[str]:
        """Every source column the mapping names."""
        cols = list(self.fields.values()) + self.categorical + self.numeric
        cols += [c for c in (self.currency_column, self.fraud, self.revenue) if c]
        return cols


def load_mapping(path: Path | str) -> Mapping:
    """Read and validate a mapping YAML; every problem is reported at once."""
    p = Path(path)
    issues = IssueCollector()
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationFailed(f"mapping {p} unreadable: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValidationFailed(f"mapping {p}: expected a mapping with a 'fields' key")
    for k in sorted(set(raw) - _TOP_KEYS):
        issues.add(k, f"unknown key (expected one of {', '.join(sorted(_TOP_KEYS))})")
    fields = raw.get("fields") or {}
    if not isinstance(fields, dict):
        issues.add("fields", "must map tradeguard field names to column names")
        fields = {}
    for k, v in fields.items():
        if k not in FIELDS:
            issues.add(f"fields.{k}", f"unknown field (expected one of {', '.join(FIELDS)})")
        if not isinstance(v, str) or not v:
            issues.add(f"fields.{k}", "must name a column", v)
    for k in _REQUIRED:
        if k not in fields:
            issues.add(f"fields.{k}", "required")
    cur = raw.get("currency") or {}
    factor, col = 1.0, None
    if isinstance(cur, dict):
        col = cur.get("rate_column")
        f = cur.get("factor", 1.0)
        if not isinstance(f, int | float) or f <= 0:
            issues.add("currency.factor", "must be a positive number", f)
        else:
            factor = float(f)
    else:
        issues.add("currency", "must be a mapping with rate_column and/or factor")
    labels = raw.get("labels") or {}
    if not isinstance(labels, dict) or "fraud" not in labels:
        issues.add("labels.fraud", "required: the column that flags a violation (1/0, true/false)")
        labels = labels if isinstance(labels, dict) else {}
    feats = raw.get("features") or {}
    cats, nums = list(feats.get("categorical") or []), list(feats.get("numeric") or [])
    issues.raise_if_any(f"mapping {p} refused")
    return Mapping(
        fields={k: str(v) for k, v in fields.items()},
        currency_column=col,
        currency_factor=factor,
        fraud=labels.get("fraud"),
        revenue=labels.get("revenue"),
        categorical=[str(c) for c in cats],
        numeric=[str(c) for c in nums],
        modes={str(k): str(v) for k, v in (raw.get("modes") or {}).items()},
        date_format=raw.get("date_format"),
        tax_rate_percent=bool(raw.get("tax_rate_percent", False)),
        label_lag_days=float(raw.get("label_lag_days", 30)),
        name=str(raw.get("name", p.stem)),
    )


def _truthy(col: str) -> pl.Expr:
    s = pl.col(col).cast(pl.String).str.to_lowercase().str.strip_chars()
    return s.is_in(["1", "1.0", "true", "yes", "y", "t"])


def apply_mapping(df: pl.DataFrame, m: Mapping, source: str = "") -> Dataset:
    """Turn a foreign declaration table into a :class:`Dataset` (frame + outcomes)."""
    issues = IssueCollector()
    for c in m.columns():
        if c not in df.columns:
            issues.add(c, "column named in the mapping is not in the file")
    issues.raise_if_any(f"{source}: file does not match mapping {m.name}")
    f = m.fields
    conv = pl.lit(m.currency_factor)
    if m.currency_column:
        conv = conv * pl.col(m.currency_column).cast(pl.Float64)
    out: list[pl.Expr] = []
    for key, src in f.items():
        target = FIELDS[key]
        col = pl.col(src)
        if key == "date":
            s = col.cast(pl.String)
            e = (
                s.str.to_datetime(m.date_format, strict=False)
                if m.date_format
                else s.str.to_datetime(strict=False)
            )
            out.append(e.cast(pl.Datetime("us")).alias(target))
        elif key == "hs_code":
            out.append(
                col.cast(pl.String).str.replace_all(r"[^0-9]", "").str.slice(0, 10).alias(target)
            )
        elif key == "value":
            out.append((col.cast(pl.Float64) * conv).alias(target))
        elif key == "tax_rate":
            r = col.cast(pl.Float64)
            out.append((r / 100.0 if m.tax_rate_percent else r).alias(target))
        elif key in ("quantity", "mass"):
            out.append(col.cast(pl.Float64).alias(target))
        elif key == "line":
            out.append(col.cast(pl.Int32).alias(target))
        elif key == "mode" and m.modes:
            out.append(col.cast(pl.String).replace(m.modes).alias(target))
        else:
            out.append(col.cast(pl.String).alias(target))
    for c in m.categorical:
        out.append(pl.col(c).cast(pl.String).alias(f"x_{c}"))
    for c in m.numeric:
        out.append(pl.col(c).cast(pl.Float64).alias(f"x_{c}"))
    frame = df.select(out)
    if "line" not in f:
        frame = frame.with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("entry_number").alias("line_number")
        )
    frame = complete(frame)
    flag = _truthy(m.fraud) if m.fraud else pl.lit(False)
    rev = (pl.col(m.revenue).cast(pl.Float64).fill_null(0.0) * conv) if m.revenue else pl.lit(0.0)
    labels = df.select(flag.alias("y"), rev.alias("rev"))
    lag = timedelta(days=m.label_lag_days)
    outcomes = pl.DataFrame(
        {
            "entry_number": frame["entry_number"],
            "line_number": frame["line_number"],
            "kind": pl.repeat("document_review", frame.height, eager=True),
            "selected_by": pl.repeat("targeted", frame.height, eager=True),
            "discrepancy": labels["y"],
            "revenue_found_usd": labels["rev"],
            "known_at": frame["filed_at"] + lag,
        }
    ).with_columns(
        pl.when(pl.col("discrepancy")).then(pl.lit("fraud")).alias("violation"),
        pl.lit(None, pl.String).alias("pti"),
    )
    return Dataset(
        frame=frame,
        outcomes=outcomes,
        extra_numeric=[f"x_{c}" for c in m.numeric],
        extra_categorical=[f"x_{c}" for c in m.categorical],
        source=source,
    )


def read_mapped(path: Path | str, mapping: Mapping) -> Dataset:
    """Read a CSV or Parquet file of foreign declarations through ``mapping``."""
    p = Path(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        df = pl.read_parquet(p)
    else:
        df = pl.read_csv(p, infer_schema_length=0)  # all text: the mapping casts each column
    return apply_mapping(df, mapping, source=str(p))


def describe(m: Mapping) -> dict[str, Any]:
    """A JSON-able summary (for ``--json`` outputs)."""
    return {"name": m.name, "fields": m.fields, "features": m.categorical + m.numeric}
