"""The ``tradeguard`` command line; each command delegates to the stage that owns it.

Command functions live in ``<stage>/commands.py`` and import their heavy dependencies inside
the function body, so ``tradeguard --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

# The API server runs polars on one thread unless told otherwise (``tradeguard serve``, see
# api/commands.py).  polars reads POLARS_MAX_THREADS once, when it is imported, and the stage
# commands registered below import it: so the default is set here, before them.
if sys.argv[1:2] == ["serve"]:
    os.environ.setdefault("POLARS_MAX_THREADS", "1")

app = typer.Typer(
    help="tradeguard: trade facilitation and enforcement for customs administrations.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """tradeguard: trade facilitation and enforcement for customs administrations."""


@app.command()
def version() -> None:
    """Print tradeguard's version."""
    from tradeguard import __version__

    typer.echo(__version__)


# Stage commands are registered below, one line each.
from tradeguard.storage.commands import db_app  # noqa: E402

app.add_typer(db_app, name="db")
from tradeguard.entities.commands import entities_app  # noqa: E402

app.add_typer(entities_app, name="entities")
from tradeguard.ingest.commands import ingest  # noqa: E402

app.command()(ingest)
from tradeguard.revenue.commands import duty  # noqa: E402

app.command()(duty)
from tradeguard.risk.commands import evaluate, train  # noqa: E402

app.command()(train)
app.command()(evaluate)
from tradeguard.synth.commands import generate  # noqa: E402

app.command()(generate)
from tradeguard.decisions.commands import score  # noqa: E402

app.command()(score)
from tradeguard.risk.rules.commands import rules_app  # noqa: E402

app.add_typer(rules_app, name="rules")
from tradeguard.outcomes.commands import liquidate, models_app, retrain, rule_stats  # noqa: E402

app.command()(retrain)
app.command()(liquidate)
app.command("rule-stats")(rule_stats)
app.add_typer(models_app, name="models")
from tradeguard.api.commands import serve  # noqa: E402

app.command()(serve)
from tradeguard.analytics.commands import report, warehouse_app  # noqa: E402

app.add_typer(warehouse_app, name="warehouse")
app.command()(report)


@app.command()
def demo(
    directory: Path = typer.Option(
        Path("demo-data"), "--dir", help="Where the demo keeps its data."
    ),
    days: int = typer.Option(42, min=3, help="Days of synthetic trade, ending today."),
    scale: float = typer.Option(
        0.02, min=0.001, max=1.0, help="Share of U.S. volumes to generate."
    ),
    seed: int = typer.Option(7, help="Seed of the synthetic trade."),
    serve: bool = typer.Option(True, help="Serve the portal at the end (--no-serve to stop)."),
    host: str = typer.Option("127.0.0.1", help="Address the portal binds to."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port the portal listens on."),
) -> None:
    """The main job: generate trade, load it, train, score, lane, and serve the portal."""
    from tradeguard.demo import DemoPlan, run_demo

    run_demo(
        DemoPlan(directory, days=days, scale=scale, seed=seed), serve=serve, host=host, port=port
    )
