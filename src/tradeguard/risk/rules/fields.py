"""The field catalogue: which names a rule condition may use, and what type each one has.

One place declares every field a targeting rule can test, so that a rule is checked once when
it is saved (an unknown or mistyped field is refused with a suggestion) and again when it is
compiled against the actual feature frame.

Three sources, merged in this order:

1. the canonical line and entry columns of :mod:`tradeguard.domain.schema` (``hts``, ``origin``,
   ``value_usd``, ``port_code``, ``filed_at`` ...), typed from their Arrow types;
2. the derived features the risk feature stage provides (``FEATURES`` below: ``unit_value``,
   ``adcvd_in_scope``, ``importer_age_days`` ...);
3. the columns of the frame actually being scored: :func:`catalogue_for_frame` types every column
   it finds from its polars dtype, so a new feature column is usable in rules as soon as it is in
   the frame.

To make a new feature available to rule *authors* (validation at save and load time), add one
line to ``FEATURES``; or pass ``FieldCatalogue.default().extend({...})`` as ``catalogue`` to
:func:`tradeguard.risk.rules.load_rules` / ``parse_rule``.

A few fields can be derived from base columns when the frame lacks them (``DERIVED``: the HTS
prefixes, ``unit_value``, ``origin_export_mismatch``, ``filed_date`` ...), so the starter rules
also work on plain canonical lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl
import pyarrow as pa

from tradeguard.domain import schema


class FieldType(StrEnum):
    """The four value types of the condition language."""

    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    DATE = "date"


@dataclass(frozen=True)
class FieldSpec:
    """One field: its name, value type, where it comes from and what it means."""

    name: str
    type: FieldType
    source: str = "feature"  # line | entry | feature | frame
    description: str = ""
    # The polars dtype when known from a real frame; the compiler adapts to it (datetimes are
    # compared as dates, categoricals as strings).
    dtype: pl.DataType | None = field(default=None, compare=False)


# Derived features the feature stage provides (tradeguard.risk features).  Ratios are plain
# numbers (1.0 = at the norm), rates are fractions (0.25 = 25 %), counts are numbers.
FEATURES: dict[str, tuple[FieldType, str]] = {
    "hts2": (FieldType.STRING, "HTS chapter (2 digits)"),
    "hts4": (FieldType.STRING, "HTS heading (4 digits)"),
    "hts6": (FieldType.STRING, "HTS subheading (6 digits, the HS level)"),
    "hts8": (FieldType.STRING, "HTS tariff line (8 digits, where rates live)"),
    "filed_date": (FieldType.DATE, "date the entry was filed (from filed_at)"),
    "lading_country": (FieldType.STRING, "country of the foreign port of lading (UN/LOCODE)"),
    "unit_value": (FieldType.NUMBER, "value_usd / quantity1"),
    "unit_value_norm": (FieldType.NUMBER, "norm (median) unit value for the same HTS x origin"),
    "unit_value_ratio": (FieldType.NUMBER, "unit_value / unit_value_norm"),
    "duty_rate": (FieldType.NUMBER, "ad valorem (equivalent) duty rate, fraction"),
    "additional_duty_rate": (FieldType.NUMBER, "Chapter 99 additional duties, fraction"),
    "spi_claimed": (FieldType.BOOL, "a special program indicator is claimed"),
    "spi_eligible": (FieldType.BOOL, "the claimed SPI is listed for the HTS and origin"),
    "adcvd_in_scope": (FieldType.BOOL, "HTS and origin fall under an AD/CVD order"),
    "adcvd_case_missing": (FieldType.BOOL, "in scope of an order but filed without its case"),
    "trusted": (FieldType.BOOL, "importer is a verified trusted partner (CTPAT / CTPAT TC)"),
    "trusted_status": (FieldType.STRING, "none | ctpat | ctpat_tc"),
    "importer_age_days": (FieldType.NUMBER, "days since the importer was first seen"),
    "importer_entries_365d": (FieldType.NUMBER, "entries filed by the importer in the last year"),
    "importer_value_365d": (FieldType.NUMBER, "value imported by the importer in the last year"),
    "importer_prior_exams": (FieldType.NUMBER, "importer's lines inspected before this filing"),
    "importer_prior_findings": (FieldType.NUMBER, "importer's discrepancies before this filing"),
    "importer_prior_revenue_found": (FieldType.NUMBER, "revenue found on the importer, USD"),
    "manufacturer_prior_findings": (FieldType.NUMBER, "manufacturer's prior discrepancies"),
    "hts_origin_prior_finding_rate": (FieldType.NUMBER, "finding rate of the HTS x origin pair"),
    "allegations_90d": (FieldType.NUMBER, "trade allegations on the importer in 90 days"),
    "origin_export_mismatch": (FieldType.BOOL, "country of export differs from origin"),
    "lading_mismatch": (FieldType.BOOL, "country of the port of lading differs from export"),
    "adcvd_hts_any_origin": (FieldType.BOOL, "HTS falls under an AD/CVD order of any country"),
    "adcvd_declared": (FieldType.BOOL, "an AD/CVD case number is declared on the line"),
    "unit_value_z": (FieldType.NUMBER, "robust z-score of log unit value vs the HTS x origin norm"),
    "value_per_kg": (FieldType.NUMBER, "value_usd / gross_weight_kg"),
    "weight_value_ratio": (FieldType.NUMBER, "value per kg / its norm for the HTS x origin"),
    "is_formal": (FieldType.BOOL, "formal entry (not type 11 informal or 86 low-value)"),
    "entry_lines": (FieldType.NUMBER, "number of lines on the entry"),
    "importer_prior_finding_rate": (FieldType.NUMBER, "importer's finding rate (shrunk)"),
    "manufacturer_prior_exams": (FieldType.NUMBER, "manufacturer's lines inspected before"),
    "manufacturer_prior_finding_rate": (FieldType.NUMBER, "manufacturer's finding rate"),
    "hts_origin_prior_exams": (FieldType.NUMBER, "HTS x origin lines inspected before"),
    "hts_origin_prior_findings": (FieldType.NUMBER, "HTS x origin discrepancies before"),
    "manufacturer_prior_revenue_found": (FieldType.NUMBER, "revenue found on the maker, USD"),
    "hts_origin_prior_revenue_found": (FieldType.NUMBER, "revenue found on the pair, USD"),
    "ch99_missing": (FieldType.BOOL, "additional duties apply but no Chapter 99 number filed"),
    "trusted_level": (FieldType.NUMBER, "0 none, 1 CTPAT, 2 CTPAT Trade Compliance"),
    "specific_duty": (FieldType.BOOL, "the duty rate has a specific (per-unit) part"),
    "log_value": (FieldType.NUMBER, "log(1 + value_usd)"),
    # evasion patterns, as known before filing, by resolved entity (risk.evasion)
    "port_shopping_holds_30d": (
        FieldType.NUMBER,
        "importer's holds of the same HTS-6 at another port in the last 30 days",
    ),
    "origin_switch_after_remedy": (
        FieldType.BOOL,
        "origin switched within a year after the importer paid a remedy on this HTS-6",
    ),
    "manufacturer_age_days": (FieldType.NUMBER, "days since the manufacturer was first seen"),
    "new_third_country_manufacturer": (
        FieldType.BOOL,
        "goods under another country's AD/CVD order from a maker first seen < 90 days ago",
    ),
    "importer_low_value_share": (
        FieldType.NUMBER,
        "share of the importer's earlier lines priced under half its peers' (shrunk)",
    ),
}


def _arrow_type(t: pa.DataType) -> FieldType:
    if pa.types.is_boolean(t):
        return FieldType.BOOL
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return FieldType.NUMBER
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return FieldType.DATE
    return FieldType.STRING


def polars_type(dtype: pl.DataType) -> FieldType | None:
    """The condition type of a polars dtype, or None for types rules cannot test (lists ...)."""
    if dtype == pl.Boolean:
        return FieldType.BOOL
    if dtype.is_numeric():
        return FieldType.NUMBER
    if dtype in (pl.Date, pl.Datetime) or isinstance(dtype, pl.Datetime):
        return FieldType.DATE
    if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        return FieldType.STRING
    return None


class FieldCatalogue(Mapping[str, FieldSpec]):
    """An immutable name -> :class:`FieldSpec` mapping with helpers to extend it."""

    def __init__(self, specs: Iterable[FieldSpec]) -> None:
        self._specs: dict[str, FieldSpec] = {s.name: s for s in specs}

    def __getitem__(self, name: str) -> FieldSpec:
        return self._specs[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    @classmethod
    def default(cls) -> FieldCatalogue:
        """The declared catalogue: canonical line and entry columns plus derived features."""
        return _DEFAULT

    def extend(self, more: Mapping[str, FieldType | str] | Iterable[FieldSpec]) -> FieldCatalogue:
        """A new catalogue with extra fields (later entries replace earlier ones)."""
        if isinstance(more, Mapping):
            extra = [FieldSpec(n, FieldType(t), "feature") for n, t in more.items()]
        else:
            extra = list(more)
        return FieldCatalogue([*self._specs.values(), *extra])


# What the canonical columns mean to a rule author (the schema comments, in words).
_COLUMN_NOTES = {
    "hts": "10-digit HTS number without dots (6109100012)",
    "origin": "country of origin, ISO alpha-2",
    "export_country": "country of export, ISO alpha-2",
    "manufacturer_id": "MID: country + name letters + street number + city letters",
    "value_usd": "entered value, USD",
    "quantity1": "first reporting quantity",
    "unit1": "unit of the first quantity (NO, KG, DOZ ...)",
    "spi": "special program indicator claimed (S, S+, A, ...)",
    "adcvd_cases": "AD/CVD case numbers declared, comma-separated",
    "chapter99": "Chapter 99 numbers declared, comma-separated",
    "related_party": "buyer and seller are related",
    "description": "goods description as filed",
    "entry_type": "01 consumption, 02 quota, 03 AD/CVD, 11 informal, 86 low value ...",
    "port_code": "port of entry, 4-digit Schedule D",
    "mode": "vessel | air | truck | rail",
    "importer_id": "importer of record number",
    "filer_code": "3-character filer (broker) code",
    "lading_port": "foreign port of lading, UN/LOCODE",
    "filed_at": "when the entry was filed (compared by day)",
}


def _default_catalogue() -> FieldCatalogue:
    specs: list[FieldSpec] = []
    for f in schema.ENTRIES:
        specs.append(FieldSpec(f.name, _arrow_type(f.type), "entry", _COLUMN_NOTES.get(f.name, "")))
    for f in schema.LINES:
        specs.append(FieldSpec(f.name, _arrow_type(f.type), "line", _COLUMN_NOTES.get(f.name, "")))
    for name, (t, doc) in FEATURES.items():
        specs.append(FieldSpec(name, t, "feature", doc))
    return FieldCatalogue(specs)


_DEFAULT = _default_catalogue()


def catalogue_for_frame(frame_schema: Mapping[str, pl.DataType]) -> FieldCatalogue:
    """The catalogue rules compile against for one frame: declared fields the frame can supply
    (present, or derivable from present columns) plus every other testable column it has.

    A frame column's own dtype wins over the declared type, so a feature stored as an integer
    is still a number and a timestamp still a date.
    """
    specs: list[FieldSpec] = []
    for name, dtype in frame_schema.items():
        declared = _DEFAULT.get(name)
        t = polars_type(dtype)
        if dtype == pl.Null and declared is not None:
            t = declared.type  # an all-null column: typed by the catalogue, never a hit
        if t is not None:
            specs.append(
                FieldSpec(
                    name,
                    t,
                    declared.source if declared else "frame",
                    declared.description if declared else "",
                    dtype,
                )
            )
    present = set(frame_schema)
    for name, d in DERIVED.items():
        if name not in present and all(dep in present for dep in d.needs):
            specs.append(FieldSpec(name, d.type, "derived", _DEFAULT[name].description))
    return FieldCatalogue(specs)


@dataclass(frozen=True)
class Derivation:
    """How to compute a declared field from base columns when the frame does not carry it."""

    type: FieldType
    needs: tuple[str, ...]
    build: Callable[[], pl.Expr]


def _hts_prefix(n: int) -> Derivation:
    return Derivation(FieldType.STRING, ("hts",), lambda: pl.col("hts").str.slice(0, n))


def _filed_date() -> pl.Expr:
    return pl.col("filed_at").cast(pl.Date)


def _unit_value() -> pl.Expr:
    q = pl.col("quantity1")
    return pl.when(q > 0).then(pl.col("value_usd") / q).otherwise(None)


def _mismatch() -> pl.Expr:
    return pl.col("export_country").is_not_null() & (pl.col("export_country") != pl.col("origin"))


DERIVED: dict[str, Derivation] = {
    "hts2": _hts_prefix(2),
    "hts4": _hts_prefix(4),
    "hts6": _hts_prefix(6),
    "hts8": _hts_prefix(8),
    "filed_date": Derivation(FieldType.DATE, ("filed_at",), _filed_date),
    "unit_value": Derivation(FieldType.NUMBER, ("value_usd", "quantity1"), _unit_value),
    "origin_export_mismatch": Derivation(FieldType.BOOL, ("origin", "export_country"), _mismatch),
    "spi_claimed": Derivation(FieldType.BOOL, ("spi",), lambda: pl.col("spi").is_not_null()),
    "lading_country": Derivation(
        FieldType.STRING, ("lading_port",), lambda: pl.col("lading_port").str.slice(0, 2)
    ),
}


_POLARS = {
    FieldType.STRING: pl.String,
    FieldType.NUMBER: pl.Float64,
    FieldType.BOOL: pl.Boolean,
    FieldType.DATE: pl.Date,
}


def field_expr(spec: FieldSpec) -> pl.Expr:
    """The polars expression that reads field ``spec`` from a frame: its column (timestamps cut
    to their day, categoricals read as strings) or its derivation from base columns."""
    if spec.source == "derived":
        return DERIVED[spec.name].build()
    expr = pl.col(spec.name)
    if spec.dtype is not None:
        if spec.dtype == pl.Null:
            expr = expr.cast(_POLARS[spec.type])
        elif spec.type is FieldType.DATE and spec.dtype != pl.Date:
            expr = expr.cast(pl.Date)
        elif spec.type is FieldType.STRING and spec.dtype != pl.String:
            expr = expr.cast(pl.String)
    return expr
