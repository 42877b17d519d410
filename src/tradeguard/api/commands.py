"""``tradeguard serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option(
        "127.0.0.1", help="Address to bind; the default keeps the service on this machine."
    ),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port to listen on."),
    workers: int = typer.Option(
        1, min=1, help="Worker processes (each loads the reference data and scoring bundle)."
    ),
    log_level: str = typer.Option("warning", help="uvicorn log level: info, warning, error."),
) -> None:
    """Serve the API under /api/v1 (OpenAPI at /api/v1/openapi.json); migrates the database.

    Run one worker per core: a worker's Python code holds one core at most, and each worker
    gathers its own micro-batches (``benchmarks/api_load.py`` uses 2 on the 2-core machine).
    polars runs on one thread in the server (POLARS_MAX_THREADS=1 unless set, see cli.py): the
    API computes micro-batches of tens of lines, where handing each of a hundred small frame
    operations to a thread pool costs more CPU than it saves, and the workers keep the cores
    busy anyway.
    """
    import uvicorn

    from tradeguard.config import get_settings
    from tradeguard.storage.schema import migrate

    migrate(get_settings().effective_database_url)
    uvicorn.run(
        "tradeguard.api.app:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
    )
