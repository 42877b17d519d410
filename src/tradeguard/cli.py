"""The ``tradeguard`` command line; each command delegates to the stage that owns it.

Command functions live in ``<stage>/commands.py`` and import their heavy dependencies inside
the function body, so ``tradeguard --help`` stays fast.
"""

from __future__ import annotations

import typer

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
