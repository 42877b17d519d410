"""``tradeguard duty``: price one line from the command line."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer


def duty(
    hts: Annotated[str, typer.Option(help="10-digit HTS number, dots optional (6109.10.0012).")],
    origin: Annotated[str, typer.Option(help="Country of origin, ISO alpha-2 (VN).")],
    value: Annotated[float, typer.Option(help="Entered value in USD.", min=0)],
    quantity: Annotated[
        float | None, typer.Option(help="Quantity, needed by specific rates (per kg, per doz.).")
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option(
            help="Unit of --quantity (kg, liters, doz., No.); default: the line's first unit."
        ),
    ] = None,
    spi: Annotated[
        str | None, typer.Option(help="Special Program Indicator claimed (AU, S, KR, P ...).")
    ] = None,
    date: Annotated[
        str | None, typer.Option(help="Date of entry, YYYY-MM-DD; default today (UTC).")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="Mode of transport: vessel, air, truck or rail.")
    ] = "vessel",
    entry_type: Annotated[
        str, typer.Option(help="Entry type (01 consumption, 03 AD/CVD, 11 informal ...).")
    ] = "01",
    adcvd_case: Annotated[
        list[str] | None,
        typer.Option(help="AD/CVD case number declared (A570909001); repeat for several."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Compute duty, additional duties, AD/CVD deposit, MPF, HMF and total for one line.

    Uses the configured reference data (packaged files or TRADEGUARD_*_FILE settings).
    Refusals (unknown HTS, a heading, an ineligible SPI, a missing quantity, a formula rate)
    print the reasons and exit with status 2.
    """
    from tradeguard.errors import TradeguardError
    from tradeguard.reference import load_reference, normalize_hts
    from tradeguard.revenue.entry import LineInput, price_entry

    if mode not in ("vessel", "air", "truck", "rail"):
        raise typer.BadParameter("must be vessel, air, truck or rail", param_hint="--mode")
    try:
        on = dt.date.fromisoformat(date) if date else dt.datetime.now(dt.UTC).date()
    except ValueError:
        raise typer.BadParameter("expected YYYY-MM-DD", param_hint="--date") from None
    try:
        ref = load_reference()
        if quantity is not None and unit is None and ref.hts.is_valid(hts):
            unit = ref.hts.line(hts).unit1
        line = LineInput(
            hts=normalize_hts(hts),
            origin=origin.upper(),
            value_usd=value,
            quantity1=quantity,
            unit1=unit,
            spi=spi.upper() if spi else None,
            adcvd_cases=tuple(c.upper() for c in adcvd_case or ()),
        )
        result = price_entry([line], ref, date=on, mode=mode, entry_type=entry_type.zfill(2))
    except TradeguardError as exc:
        lines = [i.message for i in exc.issues] or [exc.message]
        for msg in lines:
            typer.echo(f"refused: {msg}", err=True)
        if not exc.issues and date is None:  # e.g. today's fiscal year has no fee values yet
            typer.echo(f"(priced as of today, {on}; use --date for another date)", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        return
    _print_table(result, ref.version)


def _print_table(result: object, version: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from tradeguard.revenue.entry import EntryDuties

    assert isinstance(result, EntryDuties)
    ln = result.lines[0]
    column = {"general": "General", "special": "Special", "column2": "Column 2"}[ln.rate_column]
    table = Table(
        title=f"HTS {ln.hts} from {ln.origin}, ${ln.value_usd:,.2f}, {result.date}, {result.mode}",
        caption=f"fiscal year {result.fee_year} fees"
        + (" (PROVISIONAL)" if result.fee_provisional else "")
        + f"; reference {version}",
    )
    table.add_column("charge")
    table.add_column("basis")
    table.add_column("USD", justify="right")
    table.add_row("duty", f"{ln.rate_text} ({column} column)", f"{ln.base_duty:,.2f}")
    extra = ", ".join(ln.additional_headings) or "none"
    table.add_row("additional duties", f"Chapter 99: {extra}", f"{ln.additional_duty:,.2f}")
    cases = ", ".join(ln.adcvd_applied) or "no order in scope"
    table.add_row("AD/CVD deposit", cases, f"{ln.adcvd_deposit:,.2f}")
    table.add_row("MPF", f"entry type {result.entry_type}", f"{ln.mpf:,.2f}")
    table.add_row("HMF", "vessel only", f"{ln.hmf:,.2f}")
    table.add_row("total", "", f"{ln.total:,.2f}", style="bold")
    Console().print(table)
    if result.fee_notice:
        typer.echo(f"warning: {result.fee_notice}", err=True)
