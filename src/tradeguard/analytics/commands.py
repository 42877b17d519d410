"""``tradeguard warehouse export`` and ``tradeguard report``: the analytics commands."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

warehouse_app = typer.Typer(
    help="The analytics warehouse: the system of record as Parquet, partitioned by month.",
    no_args_is_help=True,
)
URL_HELP = "SQLAlchemy database URL; default TRADEGUARD_DATABASE_URL or the SQLite path setting."


@warehouse_app.command("export")
def export(
    database_url: str | None = typer.Option(None, "--database-url", help=URL_HELP),
    out: Path | None = typer.Option(
        None, "--out", help="Warehouse directory; default TRADEGUARD_WAREHOUSE_DIR (warehouse)."
    ),
) -> None:
    """Export the system of record to Parquet by month; a rerun rewrites only changed months."""
    from tradeguard.analytics.warehouse import export_warehouse
    from tradeguard.config import get_settings
    from tradeguard.errors import TradeguardError

    try:
        report = export_warehouse(database_url, out or get_settings().warehouse_dir)
    except TradeguardError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    for r in report:
        if "skipped" in r:
            typer.echo(f"{r['table']}: skipped ({r['skipped']})")
        else:
            months = ", ".join(r["months"]) or "-"
            gone = f"; months removed: {', '.join(r['removed'])}" if r.get("removed") else ""
            typer.echo(f"{r['table']}: {r['rows']:,} rows; months rewritten: {months}{gone}")


def _day(text: str, option: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except ValueError as e:
        raise typer.BadParameter(f"{text!r} is not YYYY-MM-DD", param_hint=option) from e


def report(
    start: str = typer.Option(..., "--from", help="First day of the window, YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last day of the window (included), YYYY-MM-DD."),
    out: Path = typer.Option(Path("report.html"), "--out", help="HTML file to write."),
    warehouse: Path | None = typer.Option(
        None, "--warehouse", help="Warehouse directory (from `warehouse export`) to read."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Export this database to a temporary warehouse first."
    ),
) -> None:
    """Write the compliance estimates, performance measures and report cards of a window as
    one self-contained HTML file (charts embedded, opens offline)."""
    import tempfile

    from tradeguard.analytics.report import write_report
    from tradeguard.analytics.warehouse import export_warehouse
    from tradeguard.errors import TradeguardError

    first, last = _day(start, "--from").date(), _day(end, "--to").date()
    if last < first:
        raise typer.BadParameter("must not be before --from", param_hint="--to")
    try:
        if warehouse is None:
            with tempfile.TemporaryDirectory() as tmp:
                export_warehouse(database_url, Path(tmp))
                rep = write_report(Path(tmp), first, last, out)
        else:
            if not warehouse.is_dir():
                raise typer.BadParameter(
                    f"{warehouse} is not a directory", param_hint="--warehouse"
                )
            rep = write_report(warehouse, first, last, out)
    except TradeguardError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    m = rep.compliance.mtd_rate
    if m.n_observed == 0:
        typer.echo(
            f"wrote {out}: no inspected random-sample entry among the {m.population} entries "
            "laned in the window, so no compliance estimate (performance measures and report "
            "cards are in the file)"
        )
        return
    typer.echo(
        f"wrote {out}: MTD rate {m.estimate:.2%} [{m.lower:.2%}, {m.upper:.2%}] "
        f"from {m.n_observed} sampled entries of {m.population} laned in the window"
    )
