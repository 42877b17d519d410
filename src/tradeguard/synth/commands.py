"""``tradeguard generate``: write days of synthetic trade with its ground truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer


def generate(
    out: Annotated[Path, typer.Option(help="Directory to write the tables to (created).")],
    days: Annotated[int, typer.Option(help="Number of calendar days to generate.", min=1)] = 1,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 0,
    scale: Annotated[
        float,
        typer.Option(
            help="Size relative to U.S. trade: 1 = 85,000 entries a business day and "
            "810,000 importers; 0.01 for a quick demo.",
            min=0.0001,
            max=10.0,
        ),
    ] = 1.0,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-07-01",
    fmt: Annotated[str, typer.Option("--format", help="File format: parquet or csv.")] = "parquet",
) -> None:
    """Generate synthetic entries, lines, parties, ground truth and past findings.

    Writes entries, lines, parties, truth (violation, priority trade issue and revenue loss
    per line), party_truth (which real-world entity each party is) and outcomes (findings of
    a simulated legacy selection) to OUT, one file per table, then prints the figures to
    compare with the calibration targets of design.md.
    """
    import time

    from rich.console import Console
    from rich.table import Table

    from tradeguard.synth import calibration as cal
    from tradeguard.synth.generator import generate as run
    from tradeguard.synth.writer import FORMATS, write_tables

    if fmt not in FORMATS:
        raise typer.BadParameter("must be parquet or csv", param_hint="--format")
    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter("expected YYYY-MM-DD", param_hint="--start") from None
    t0 = time.perf_counter()
    result = run(days=days, seed=seed, scale=scale, start=first)
    elapsed = time.perf_counter() - t0
    paths = write_tables(result.tables, out, fmt)
    s = result.summary
    b = s["business_day_equivalents"] * scale  # seeds' figures: per business day at scale 1
    adcvd = s["duties_usd"] - s["base_duties_usd"] - s["chapter99_duties_usd"]
    rows = [
        ("entries", f"{s['entries']:,}", f"{cal.ENTRIES_PER_BUSINESS_DAY * b:,.0f}"),
        ("lines", f"{s['lines']:,} ({s['lines_per_entry']} per entry)", ""),
        ("value", f"${s['value_usd']:,.0f}", f"${cal.VALUE_PER_BUSINESS_DAY_USD * b:,.0f}"),
        ("duties declared", f"${s['duties_usd']:,.0f} ({s['effective_duty_rate']:.2%})", ""),
        ("  base duties", f"${s['base_duties_usd']:,.0f}", f"${cal.DUTIES_PER_DAY_USD * b:,.0f}"),
        ("  Chapter 99 (sample)", f"${s['chapter99_duties_usd']:,.0f}", ""),
        ("  AD/CVD deposits", f"${adcvd:,.0f}", ""),
        ("fees (MPF + HMF)", f"${s['fees_usd']:,.0f}", ""),
        (
            "top five origins' value",
            f"{s['top5_origin_value_share']:.1%} ({', '.join(s['top5_origins'])})",
            "> 50% (CA, CN, MX, JP, DE)",
        ),
        (
            f"top {s['top_importers']:,} importers' value",
            f"{s['top_importers_value_share']:.1%}",
            f"{cal.TOP_IMPORTERS_VALUE_SHARE:.0%}",
        ),
        (
            f"top {s['top_importers']:,} importers' lines",
            f"{s['top_importers_lines_share']:.1%}",
            f"{cal.TOP_IMPORTERS_LINES_SHARE:.0%}",
        ),
        (
            "violating entries",
            f"{s['violating_entry_share']:.2%}",
            f"{cal.VIOLATING_ENTRY_SHARE:.0%}",
        ),
        ("revenue loss (truth)", f"${s['revenue_loss_usd']:,.0f}", ""),
        ("past findings", f"{s['findings']:,} on {s['entries_inspected']:,} entries inspected", ""),
        ("generation", f"{elapsed:.1f} s ({s['entries'] / max(elapsed, 1e-9):,.0f} entries/s)", ""),
    ]
    console = Console()
    table = Table(title=f"Synthetic trade: {days} day(s) from {first}, scale {scale}, seed {seed}")
    for name in ("figure", "generated", "seeds' figure"):
        table.add_column(name, justify="left" if name == "figure" else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for p in paths:
        console.print(f"wrote {p}")
