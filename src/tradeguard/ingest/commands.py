"""``tradeguard ingest``: load generated or user files into the system of record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def ingest(
    path: Path = typer.Argument(
        ...,
        help="A directory written by `tradeguard generate` (entries, lines, parties, outcomes; "
        "truth files are never loaded) or one CSV/Parquet file of one of those tables.",
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="SQLAlchemy URL; default TRADEGUARD_DATABASE_URL or the SQLite path setting.",
    ),
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        help="CSV file for rejected rows with their reasons "
        "(default rejects-<UTC time>.csv here, written only if a row is rejected).",
    ),
    batch_size: int = typer.Option(20_000, help="Rows per transaction.", min=1),
    progress: bool = typer.Option(True, help="Show a progress bar per file."),
) -> None:
    """Load files in batches, idempotently: rows already stored with identical content are
    skipped, the same key with other content is rejected, and every rejected row goes to the
    reject file with all its reasons."""
    from rich.console import Console

    from tradeguard.errors import TradeguardError
    from tradeguard.ingest.loader import ingest as run_ingest
    from tradeguard.storage.schema import describe

    console = Console()
    try:
        summary = run_ingest(
            path, database_url, rejects=rejects, batch_size=batch_size, progress=progress
        )
    except TradeguardError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    console.print(summary_table(summary, f"ingest into {describe(database_url)}"))
    lines = summary.tables["lines"].read
    console.print(
        f"{len(summary.files)} file{'s' if len(summary.files) != 1 else ''} "
        f"in {summary.seconds:.1f} s"
        + (f" ({summary.rate('lines'):,.0f} lines/s)" if lines else "")
    )
    if summary.passed_over:
        names = ", ".join(p.name for p in summary.passed_over[:8])
        console.print(f"passed over (not loaded): {names}")
    if summary.rejects_path:
        console.print(
            f"[yellow]{summary.rejected:,} rejected rows written to {summary.rejects_path}"
        )


def summary_table(summary: Any, title: str) -> Any:
    """A Rich table of an ``IngestSummary``: rows read, loaded, skipped, rejected per table."""
    from rich.table import Table

    table = Table(title=title)
    for col in ("table", "read", "loaded", "skipped", "rejected"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for name, c in summary.tables.items():
        if c.read:
            table.add_row(name, f"{c.read:,}", f"{c.loaded:,}", f"{c.skipped:,}", f"{c.rejected:,}")
    return table
