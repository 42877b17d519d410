"""``tradeguard db``: bring the system of record's schema up to date and say where it stands."""

from __future__ import annotations

import typer

db_app = typer.Typer(
    help="Manage the system of record's schema (Alembic migrations packaged with tradeguard).",
    no_args_is_help=True,
)

URL_HELP = "SQLAlchemy database URL; default TRADEGUARD_DATABASE_URL or the SQLite path setting."


@db_app.command("upgrade")
def upgrade(
    database_url: str | None = typer.Option(None, "--database-url", help=URL_HELP),
    revision: str = typer.Option("head", help="Target revision (default: the newest)."),
) -> None:
    """Apply every pending migration to the database (safe to run again)."""
    from tradeguard import storage
    from tradeguard.errors import TradeguardError
    from tradeguard.storage.schema import describe

    try:
        before = storage.current(database_url)
        after = storage.migrate(database_url, revision)
    except TradeguardError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    where = describe(database_url)
    if before == after:
        typer.echo(f"{where}: already at {after}")
    else:
        typer.echo(f"{where}: upgraded {before or '(empty)'} -> {after}")


@db_app.command("current")
def current(
    database_url: str | None = typer.Option(None, "--database-url", help=URL_HELP),
) -> None:
    """Print the database's migration revision and the newest one tradeguard ships."""
    from tradeguard import storage
    from tradeguard.errors import TradeguardError
    from tradeguard.storage.schema import describe

    try:
        rev = storage.current(database_url)
    except TradeguardError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    head = storage.head()
    state = "up to date" if rev == head else f"behind (newest is {head})"
    typer.echo(f"{describe(database_url)}: {rev or '(empty)'} - {state}")
