"""``tradeguard entities``: resolve parties into entities, find evasion leads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from tradeguard.entities.store import Inputs

entities_app = typer.Typer(
    help="Entity resolution (one account per real importer and manufacturer) and evasion leads.",
    no_args_is_help=True,
)
URL_HELP = "SQLAlchemy database URL of the system of record (read, and written unless --data)."
DATA_HELP = "A `tradeguard generate` directory to read instead of the database."


def _inputs(database_url: str | None, data: Path | None) -> Inputs:
    from tradeguard.entities import store

    return store.read_directory(data) if data else store.read_database(database_url)


@entities_app.command("resolve")
def resolve(
    database_url: str | None = typer.Option(None, "--database-url", help=URL_HELP),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    out: Path | None = typer.Option(
        None, "--out", help="Directory for entity_links.parquet and entity_pairs.parquet."
    ),
    threshold: float = typer.Option(
        0.4, "--threshold", min=0.0, max=1.0, help="Match probability at which records link."
    ),
) -> None:
    """Link importer and manufacturer records of one real firm (Splink on DuckDB).

    Writes the clusters (party -> entity with match weights) to --out as Parquet and, when
    reading the database, to its entity_links table.  Deterministic: the same records give
    the same links.
    """
    import time

    from tradeguard.entities import store
    from tradeguard.entities.resolve import resolve as run
    from tradeguard.errors import TradeguardError

    try:
        inputs = _inputs(database_url, data)
        t0 = time.perf_counter()
        result = run(inputs.parties, inputs.entries, inputs.lines, threshold=threshold)
        secs = time.perf_counter() - t0
        if out:
            out.mkdir(parents=True, exist_ok=True)
            result.links.write_parquet(out / "entity_links.parquet")
            result.pairs.write_parquet(out / "entity_pairs.parquet")
        written = 0 if data else store.write_links(database_url, result.links)
    except TradeguardError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    links = result.links
    merged = links.filter(links["match_weight"].is_not_null()).height
    typer.echo(
        f"{links.height} parties -> {links['entity_id'].n_unique()} entities "
        f"({merged} records linked) in {secs:.1f} s"
        + (f"; {written} rows in entity_links" if written else "")
        + (f"; Parquet in {out}" if out else "")
    )


@entities_app.command("leads")
def leads(
    database_url: str | None = typer.Option(None, "--database-url", help=URL_HELP),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    links: Path | None = typer.Option(
        None,
        "--links",
        help="entity_links.parquet to re-key by (default: the database's entity_links; with "
        "--data, a resolution of the directory's parties made first).",
    ),
    out: Path | None = typer.Option(None, "--out", help="Write leads.parquet here."),
) -> None:
    """Find evasion leads (port shopping, false origin, AD/CVD evasion, undervaluation).

    Reads the resolved entities (entity_links, or --links; a --data directory without
    --links is resolved first), stores the leads in the leads table when reading the database
    (open leads are replaced; leads acted upon are kept).
    """
    import polars as pl

    from tradeguard.entities import store
    from tradeguard.entities.accounts import resolved_party_map
    from tradeguard.entities.patterns import find_leads, line_frame, remedy_scopes
    from tradeguard.errors import TradeguardError
    from tradeguard.reference import load_reference

    try:
        inputs = _inputs(database_url, data)
        if links:
            party_map = resolved_party_map(pl.read_parquet(links))
        elif data:
            from tradeguard.entities.resolve import resolve as run

            party_map = resolved_party_map(run(inputs.parties, inputs.entries, inputs.lines).links)
        else:
            from tradeguard.storage import engine_for

            party_map = resolved_party_map(engine_for(database_url))
        frame = line_frame(inputs.entries, inputs.lines, party_map)
        found = find_leads(frame, inputs.held, remedy_scopes(load_reference()))
        if out:
            out.mkdir(parents=True, exist_ok=True)
            found.write_parquet(out / "leads.parquet")
        written = 0 if data else store.write_leads(database_url, found)
    except TradeguardError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    counts = dict(found.group_by("pattern").len().sort("pattern").iter_rows())
    typer.echo(f"{found.height} leads {counts}" + (f"; {written} stored" if written else ""))
