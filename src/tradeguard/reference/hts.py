"""The Harmonized Tariff Schedule: the USITC CSV export read into one row per 10-digit line.

Rates stand on the 8-digit line and are inherited by its 10-digit statistical children, which
carry their own units of quantity; a 10-digit line that carries its own General rate (about
8,000 do, e.g. ``0101.30.00.00``) keeps its own General, Special and Column 2 rates.

Two views of the same data:
- :attr:`HtsSchedule.lines`, a polars DataFrame, one row per 10-digit line, with the rates
  parsed into numeric columns, for the vectorized revenue engine, the risk core and the
  generator (see :data:`LINE_COLUMNS`);
- :attr:`HtsSchedule.special`, a long DataFrame ``(hts10, spi, rate ...)`` with one row per
  SPI listed in a line's Special rate, which batch code joins on ``(hts10, spi)``;
- lookups for one line (:meth:`HtsSchedule.line`), the 10-digit children of a heading
  (:meth:`HtsSchedule.children`) and validity (:meth:`HtsSchedule.is_valid`).

The whole 35,733-row file parses in about a third of a second; :func:`load_hts` caches the
result per file content, so a process parses it once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from tradeguard.errors import ReferenceDataMissing
from tradeguard.reference.rates import Rate, parse_rate, parse_special

__all__ = ["HtsLine", "HtsSchedule", "load_hts", "normalize_hts", "LINE_COLUMNS", "section_of"]

_COLS = {
    "HTS Number": "number",
    "Indent": "indent",
    "Description": "description",
    "Unit of Quantity": "units",
    "General Rate of Duty": "general",
    "Special Rate of Duty": "special",
    "Column 2 Rate of Duty": "column2",
}

# HTS sections by first chapter (Section I = chapters 1-5, ..., XXII = 98-99).
_SECTION_STARTS = [
    1,
    6,
    15,
    16,
    25,
    28,
    39,
    41,
    44,
    47,
    50,
    64,
    68,
    71,
    72,
    84,
    86,
    90,
    93,
    94,
    97,
    98,
]

LINE_COLUMNS = {
    "hts10": "10-digit statistical number, no dots",
    "hts8": "the 8-digit subheading (tariff line) it belongs to",
    "hts6": "the 6-digit HS subheading",
    "heading": "the 4-digit heading",
    "chapter": "chapter number 1-99 (int)",
    "section": "HTS section number 1-22 (int)",
    "description": "the line's own description",
    "description_full": "descriptions from the heading down to the line, joined by ' > '",
    "unit1": "first unit of quantity (e.g. kg, No., doz.), may be null",
    "unit2": "second unit of quantity, may be null",
    "general_text": "General rate as written",
    "general_ad_valorem": "ad valorem part as a fraction (16.5% -> 0.165)",
    "general_specific": "specific part in USD per general_unit (4.4¢/kg -> 0.044)",
    "general_unit": "unit of the specific part, as an HTS unit of quantity",
    "general_supported": "False for formula/qualified rates the engine cannot compute",
    "column2_*": "the same four columns for the Column 2 rate",
    "special_text": "Special rate as written",
    "special_spi": "list of SPI codes listed in the Special rate",
}


def normalize_hts(hts: str) -> str:
    """Digits of an HTS number: ``"6109.10.0012"`` -> ``"6109100012"``."""
    return "".join(ch for ch in str(hts) if ch.isdigit())


def section_of(chapter: int) -> int:
    """HTS section number (1-22) of a chapter."""
    sec = 0
    for i, start in enumerate(_SECTION_STARTS, start=1):
        if chapter >= start:
            sec = i
    return sec


def format_hts(hts: str) -> str:
    """Dotted form: ``6109100012`` -> ``6109.10.0012``, ``610910`` -> ``6109.10``."""
    d = normalize_hts(hts)
    if len(d) == 10:
        return f"{d[:4]}.{d[4:6]}.{d[6:]}"
    if len(d) in (6, 8):
        return ".".join([d[:4], *(d[i : i + 2] for i in range(4, len(d), 2))])
    return d


@dataclass(frozen=True)
class HtsLine:
    """One 10-digit statistical line with its (inherited) rates parsed."""

    hts10: str
    description: str
    unit1: str | None
    unit2: str | None
    general: Rate
    special: dict[str, Rate]
    column2: Rate

    @property
    def dotted(self) -> str:
        return format_hts(self.hts10)


def _rate_table(prefix: str, texts: list[str | None]) -> pl.DataFrame:
    """Parsed rate columns for each distinct rate text (parsing once per distinct text)."""
    rates = [parse_rate(t) or Rate("Free") for t in texts]
    return pl.DataFrame(
        {
            f"{prefix}_raw": texts,
            f"{prefix}_text": [r.text for r in rates],
            f"{prefix}_ad_valorem": [r.ad_valorem for r in rates],
            f"{prefix}_specific": [r.specific for r in rates],
            f"{prefix}_unit": [r.unit for r in rates],
            f"{prefix}_supported": [r.supported for r in rates],
        },
        schema_overrides={f"{prefix}_raw": pl.String, f"{prefix}_unit": pl.String},
    )


@dataclass(frozen=True)
class HtsSchedule:
    """The parsed schedule; build it with :func:`load_hts`."""

    lines: pl.DataFrame
    special: pl.DataFrame
    numbers: frozenset[str]  # every number in the file (4, 6, 8 and 10 digits), no dots
    source: str
    _index: dict[str, int] = field(repr=False, compare=False, default_factory=dict)

    def is_valid(self, hts: str) -> bool:
        """True if ``hts`` (dots allowed) is a 10-digit statistical line of this schedule."""
        return normalize_hts(hts) in self._index

    def children(self, prefix: str) -> list[str]:
        """10-digit lines under a heading/subheading prefix (4, 6 or 8 digits), in order."""
        p = normalize_hts(prefix)
        if not p:
            return []
        col = self.lines["hts10"]
        return col.filter(col.str.starts_with(p)).to_list()

    def line(self, hts: str) -> HtsLine:
        """The statistical line ``hts``; refuses unknown numbers and headings, naming children.

        Raises :class:`ReferenceDataMissing` with a message that lists up to 20 10-digit
        children when ``hts`` is a heading or subheading rather than a statistical line.
        """
        digits = normalize_hts(hts)
        i = self._index.get(digits)
        if i is None:
            kids = self.children(digits) if len(digits) < 10 else []
            if kids and (digits in self.numbers or len(digits) in (4, 6, 8)):
                shown = ", ".join(format_hts(k) for k in kids[:20])
                more = f" (and {len(kids) - 20} more)" if len(kids) > 20 else ""
                raise ReferenceDataMissing(
                    f"HTS {format_hts(digits)} is a heading rather than a statistical line; "
                    f"file one of its {len(kids)} 10-digit lines: {shown}{more}"
                )
            raise ReferenceDataMissing(f"unknown HTS number {hts!r} (not in {self.source})")
        row = self.lines.row(i, named=True)
        return HtsLine(
            hts10=row["hts10"],
            description=row["description"],
            unit1=row["unit1"],
            unit2=row["unit2"],
            general=parse_rate(row["general_text"]) or Rate("Free"),
            special=parse_special(row["special_text"]),
            column2=parse_rate(row["column2_text"]) or Rate("Free"),
        )


def _descriptions(raw: pl.DataFrame) -> list[str]:
    """Full description of each 10-digit row: the indented texts above it, heading first."""
    stack: list[str] = []
    full: list[str] = []
    for ind, desc, n in zip(raw["indent"], raw["description"], raw["ndigits"], strict=True):
        depth = int(ind) if ind and ind.isdigit() else 0
        del stack[depth:]
        stack.append(" ".join((desc or "").split()).rstrip(":"))
        if n == 10:
            full.append(" > ".join(x for x in stack if x))
    return full


def _parse(path: Path) -> HtsSchedule:
    raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy").rename(
        lambda c: _COLS.get(c.lstrip("\ufeff").strip(), c)
    )
    missing = [c for c in _COLS.values() if c not in raw.columns]
    if missing:
        raise ReferenceDataMissing(f"{path}: not a USITC HTS CSV export, missing columns {missing}")
    raw = raw.with_columns(
        digits=pl.col("number").fill_null("").str.replace_all(r"\D", ""),
        has_rate=pl.col("general").fill_null("").str.strip_chars() != "",
        description=pl.col("description")
        .fill_null("")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars(),
    ).with_columns(ndigits=pl.col("digits").str.len_chars())
    full = _descriptions(raw)

    rated8 = raw.filter((pl.col("ndigits") == 8) & pl.col("has_rate")).select(
        pl.col("digits").alias("hts8"), g8="general", s8="special", c8="column2"
    )
    ten = (
        raw.filter(pl.col("ndigits") == 10)
        .with_columns(hts8=pl.col("digits").str.slice(0, 8), description_full=pl.Series(full))
        .join(rated8, on="hts8", how="left", maintain_order="left")
        .with_columns(
            # a 10-digit row with its own General rate keeps its own three rates
            g=pl.when("has_rate").then("general").otherwise("g8"),
            s=pl.when("has_rate").then("special").otherwise("s8"),
            c=pl.when("has_rate").then("column2").otherwise("c8"),
            units=pl.when(pl.col("units").str.starts_with("["))
            .then("units")
            .otherwise(pl.lit("[]"))
            .str.json_decode(pl.List(pl.String))
            .list.eval(pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != "")),
        )
        .with_columns(pl.col("s").replace("", None))
    )
    if ten["digits"].n_unique() != ten.height:
        raise ReferenceDataMissing(f"{path}: duplicate 10-digit HTS numbers")
    gen = _rate_table("general", ten["g"].unique().to_list())
    col2 = _rate_table("column2", ten["c"].unique().to_list())
    lines = (
        ten.select(
            hts10="digits",
            hts8="hts8",
            hts6=pl.col("digits").str.slice(0, 6),
            heading=pl.col("digits").str.slice(0, 4),
            chapter=pl.col("digits").str.slice(0, 2).cast(pl.Int16),
            description="description",
            description_full="description_full",
            unit1=pl.col("units").list.get(0, null_on_oob=True),
            unit2=pl.col("units").list.get(1, null_on_oob=True),
            general_raw="g",
            column2_raw="c",
            special_text="s",
        )
        .join(gen, on="general_raw", how="left", nulls_equal=True, maintain_order="left")
        .join(col2, on="column2_raw", how="left", nulls_equal=True, maintain_order="left")
    )
    # Special: parse each distinct cell once, then one long row per (line, SPI).
    sp_texts = [t for t in lines["special_text"].unique().to_list() if t]
    sp_map: dict[str, list[object]] = {
        k: []
        for k in ("special_text", "spi", "text", "ad_valorem", "specific", "unit", "supported")
    }
    spi_lists: dict[str, list[str]] = {}
    for t in sp_texts:
        parsed = parse_special(t)
        spi_lists[t] = list(parsed)
        for code, r in parsed.items():
            for k, v in (
                ("special_text", t),
                ("spi", code),
                ("text", r.text),
                ("ad_valorem", r.ad_valorem),
                ("specific", r.specific),
                ("unit", r.unit),
                ("supported", r.supported),
            ):
                sp_map[k].append(v)
    sp_schema = {
        "special_text": pl.String,
        "spi": pl.String,
        "text": pl.String,
        "ad_valorem": pl.Float64,
        "specific": pl.Float64,
        "unit": pl.String,
        "supported": pl.Boolean,
    }
    sp_df = pl.DataFrame(sp_map, schema=sp_schema)
    special = (
        lines.select("hts10", "special_text")
        .join(sp_df, on="special_text", maintain_order="left_right")
        .drop("special_text")
    )
    lines = lines.with_columns(
        section=pl.col("chapter").replace_strict(
            {c: section_of(c) for c in range(1, 100)}, return_dtype=pl.Int16
        ),
        special_spi=pl.col("special_text").replace_strict(
            spi_lists, default=[], return_dtype=pl.List(pl.String)
        ),
    ).select(
        "hts10",
        "hts8",
        "hts6",
        "heading",
        "chapter",
        "section",
        "description",
        "description_full",
        "unit1",
        "unit2",
        *[
            f"{p}_{k}"
            for p in ("general", "column2")
            for k in ("text", "ad_valorem", "specific", "unit", "supported")
        ],
        "special_text",
        "special_spi",
    )
    hts10 = lines["hts10"].to_list()
    numbers = frozenset(raw.filter(pl.col("ndigits") > 0)["digits"].to_list())
    return HtsSchedule(lines, special, numbers, path.name, {h: i for i, h in enumerate(hts10)})


@lru_cache(maxsize=4)
def _load_cached(path: str, digest: str) -> HtsSchedule:
    return _parse(Path(path))


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (hex); the cache and the reference version key on it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_hts(path: Path) -> HtsSchedule:
    """Parse a USITC HTS CSV export once per process (cached by path and content hash)."""
    if not path.is_file():
        raise ReferenceDataMissing(f"HTS file not found: {path}")
    return _load_cached(str(path.resolve()), file_digest(path))
