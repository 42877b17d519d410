"""``tradeguard score``: the whole targeting step on a file, with a progress bar and a summary.

Heavy imports stay inside the function so that ``tradeguard --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["score"]


def score(
    source: Path = typer.Argument(
        ...,
        help="Lines to score: a CSV/Parquet file of lines carrying their entry columns "
        "(port_code, filed_at, ...), or a directory with lines, entries and parties "
        "(<name>.parquet, <name>.csv or <name>/ parts), as `tradeguard generate` writes.",
    ),
    out: Path = typer.Option(
        ..., "--out", help="Output directory: line_scores.<fmt> and lanes.<fmt> are written there."
    ),
    model: Path | None = typer.Option(
        None,
        "--model",
        help="Model directory written by `tradeguard train`. Without it a rules-only bundle is "
        "used: the starter rules (or --rules), no learned model, revenue at risk 0.",
    ),
    rules: Path | None = typer.Option(
        None, "--rules", help="Targeting rules directory (or file) replacing the bundle's rules."
    ),
    entries: Path | None = typer.Option(
        None, "--entries", help="Entries file (CSV/Parquet) when SOURCE is a file of lines only."
    ),
    parties: Path | None = typer.Option(
        None, "--parties", help="Parties file giving importers' trusted status (CTPAT)."
    ),
    links: Path | None = typer.Option(
        None,
        "--links",
        help="entity_links.parquet of `tradeguard entities resolve --out`: history follows the "
        "resolved entity (replaces the resolution frozen into the model).",
    ),
    capacity: Path | None = typer.Option(
        None,
        "--capacity",
        help="YAML/CSV of per-port daily exam/review capacity (default: the "
        "TRADEGUARD_LANE_CAPACITY_FILE setting).",
    ),
    seed: int = typer.Option(
        2026, "--seed", help="Seed of the random compliance-measurement sample."
    ),
    chunk_size: int = typer.Option(
        250_000, "--chunk-size", min=1, help="Lines scored per chunk (bounds memory)."
    ),
    fmt: str = typer.Option("parquet", "--format", help="Output format: parquet or csv."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar and no lane summary."),
) -> None:
    """Score lines for risk, send each entry to a lane under port capacity, and say why.

    Writes every line's scores and reasons and every entry's lane and reason, then prints the
    lanes chosen (counts, random sample, top reasons, examples).
    """
    from dataclasses import replace

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tradeguard.config import get_settings
    from tradeguard.decisions.batch import (
        ScoringInput,
        count_lines,
        rules_only_bundle,
        score_files,
    )
    from tradeguard.decisions.policy import LanePolicy, load_port_capacities
    from tradeguard.decisions.summary import describe_lanes
    from tradeguard.errors import TradeguardError

    console = Console(stderr=True)
    try:
        source_in = ScoringInput.resolve(source, entries, parties)
        if model is not None:
            from tradeguard.risk.bundle import ScoringBundle

            bundle = ScoringBundle.load(model, rules_dir=rules)
        else:
            bundle = rules_only_bundle(rules)
        entity_map = None
        if links is not None:
            from tradeguard.risk.dataset import read_links

            entity_map = read_links(links)
        policy = LanePolicy.from_settings(get_settings())
        if capacity is not None:
            policy = replace(policy, ports=load_port_capacities(capacity))
        total = count_lines(source_in.lines) if not quiet else None
        with Progress(
            TextColumn("scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("lines"),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
        ) as progress:
            task = progress.add_task("score", total=total)
            run = score_files(
                source_in,
                out,
                bundle,
                policy,
                seed=seed,
                chunk_size=chunk_size,
                fmt=fmt,
                on_chunk=lambda n: progress.advance(task, n),
                entity_map=entity_map,
            )
    except TradeguardError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(
        f"Scored {run.n_lines:,} lines of {run.lanes.height:,} entries in {run.seconds:.1f} s "
        f"({run.lines_per_second:,.0f} lines/s) with bundle {bundle.version}"
    )
    typer.echo("Wrote " + ", ".join(str(p) for p in run.paths.values() if p.exists()))
    if not quiet:
        typer.echo(describe_lanes(run.lanes))
