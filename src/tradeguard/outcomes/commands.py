"""``tradeguard retrain``, ``tradeguard models``, ``tradeguard liquidate`` and
``tradeguard rule-stats``: the outcome loop from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer

URL_HELP = "SQLAlchemy database URL; default TRADEGUARD_DATABASE_URL or the SQLite path setting."

models_app = typer.Typer(
    help="Learned models in the system of record: list candidates, promote one.",
    no_args_is_help=True,
)


def _fail(e: Exception) -> None:
    typer.echo(f"error: {e}", err=True)
    raise typer.Exit(1) from e


def retrain(
    database_url: str | None = typer.Option(None, "--database-url", help=URL_HELP),
    out: Path = typer.Option(
        Path("models"), "--out", help="Directory under which the new bundle is saved."
    ),
    actor: str = typer.Option("cli", help="Who retrains (written to the audit log)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full summary as JSON."),
) -> None:
    """Train a candidate model on the outcomes in the system of record, evaluate it beside
    the current one (random sample and most recent outcomes), register it unpromoted."""
    from tradeguard.errors import TradeguardError
    from tradeguard.outcomes.retrain import retrain as run

    try:
        summary = run(database_url, actor, out_dir=out)
    except TradeguardError as e:
        _fail(e)
        return
    if as_json:
        typer.echo(json.dumps(summary, default=str, indent=2))
        return
    typer.echo(
        f"candidate {summary['id']}: {summary['labelled_lines']} labelled lines "
        f"({summary['positives']} with a violation), trained in {summary['train_seconds']} s"
    )
    for which in ("recent", "random"):
        for name in ("new", "current"):
            m = summary[name].get(which)
            if not m or not m.get("lines"):
                typer.echo(f"  {which:6} {name:7}: no held-out outcomes")
                continue
            at = m["at"]
            typer.echo(
                f"  {which:6} {name:7}: AUC {m['auc']:.3f}  precision@5% "
                f"{at['5%']['precision']:.3f}  revenue@5% {at['5%']['revenue_captured']:.3f}  "
                f"({m['lines']} lines)"
            )
    typer.echo(f"not promoted; promote with: tradeguard models promote {summary['id']}")


@models_app.command("promote")
def promote(
    model_id: str = typer.Argument(..., help="The model id (see tradeguard models list)."),
    database_url: str | None = typer.Option(None, "--database-url", help=URL_HELP),
    actor: str = typer.Option("cli", help="Who promotes (written to the audit log)."),
) -> None:
    """Promote a model (the previous one is demoted); the promotion is audited."""
    from tradeguard.errors import TradeguardError
    from tradeguard.outcomes.retrain import promote as run

    try:
        row = run(database_url, model_id, actor)
    except TradeguardError as e:
        _fail(e)
        return
    typer.echo(f"promoted {row['id']} ({row['path']})")


@models_app.command("list")
def list_models(
    database_url: str | None = typer.Option(None, "--database-url", help=URL_HELP),
) -> None:
    """List the registered models, newest first, with their headline metrics."""
    from sqlalchemy import select

    from tradeguard.storage import engine_for
    from tradeguard.storage.tables_api import models

    with engine_for(database_url).connect() as conn:
        rows = conn.execute(select(models).order_by(models.c.created_at.desc())).mappings()
        for r in rows:
            m = r["metrics"] or {}
            mark = "*" if r["promoted"] else " "
            typer.echo(
                f"{mark} {r['id']}  {r['created_at']:%Y-%m-%d %H:%M}  "
                f"AUC recent {m.get('auc_recent', '-')}  random {m.get('auc_random', '-')}"
            )


def liquidate(
    as_of: str = typer.Option(..., "--as-of", help="Liquidation date, YYYY-MM-DD."),
    database_url: str | None = typer.Option(None, "--database-url", help=URL_HELP),
    limit: int = typer.Option(10_000, min=1, help="At most this many entries per run."),
) -> None:
    """Liquidate released entries filed 314 days or more before --as-of (final duties =
    declared + revenue found; protest deadline 180 days later)."""
    from datetime import date

    from tradeguard.outcomes.liquidation import liquidate_due
    from tradeguard.storage import engine_for

    day = date.fromisoformat(as_of)
    done = 0
    with engine_for(database_url).begin() as conn:
        while done < limit:
            rows = liquidate_due(conn, day, limit=min(900, limit - done))
            done += len(rows)
            if not rows:
                break
    typer.echo(f"liquidated {done} entries as of {day}")


def rule_stats(
    database_url: str | None = typer.Option(None, "--database-url", help=URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Per rule: hits, inspected entries, findings, yield, revenue found, last hit, and the
    rules flagged for review (low yield)."""
    from tradeguard.outcomes.rule_stats import refresh_and_compute

    stats = refresh_and_compute(database_url)
    if as_json:
        typer.echo(json.dumps(stats, default=str, indent=2))
        return
    b = stats["baseline"]
    base = "-" if b["yield"] is None else f"{b['yield']:.1%}"
    typer.echo(f"random-sample yield {base} over {b['random_inspected']} entries")
    for r in stats["rules"]:
        y = "-" if r["yield"] is None else f"{r['yield']:.1%}"
        flag = "  REVIEW: " + "; ".join(r["review_reasons"]) if r["review"] else ""
        typer.echo(
            f"{r['rule_id']:32} hits {r['hits']:6}  inspected {r['inspected']:5}  "
            f"findings {r['findings']:4}  yield {y:>6}  revenue ${r['revenue_found_usd']:,.0f}"
            f"{flag}"
        )
