"""The warehouse as a long-running reader (the portal) uses it: brought up to date on demand.

``Warehouse(directory, url)`` is one process's handle on a warehouse directory
(``TRADEGUARD_WAREHOUSE_DIR``) exported from the system of record at ``url``:

- ``refresh()`` compares the database's ``warehouse.signature`` (the largest ids of the
  append-only tables: a few index look-ups) with the one the last export saved; when they
  differ it runs the incremental ``export_warehouse`` (only the months whose fingerprint
  changed are rewritten) and says so.  A warehouse never built is **not** built here (a first
  export of a large system of record takes minutes, not a page view): ``Freshness.missing``
  tells the page to say how to build it.
- ``run(fn)`` calls ``fn(con)`` with a DuckDB connection over the warehouse
  (``report_cards.connect``), kept open between calls and reopened after an export.

One lock per directory serialises exports and queries within the process (a DuckDB connection
is not shared between threads, and a query must not read a partition while it is swapped);
the export swaps whole partition directories (``warehouse._replace_dir``), so another process
reading meanwhile sees the old month or the new one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tradeguard.analytics.warehouse import export_warehouse, read_state, signature

T = TypeVar("T")


@dataclass(frozen=True)
class Freshness:
    """What the reader knows of the warehouse after ``refresh``."""

    directory: Path
    missing: bool  # never exported (or by an older format): nothing to read yet
    exported_at: str | None
    refreshed: bool  # this call ran an incremental export
    seconds: float  # time spent checking and exporting
    months: tuple[str, ...] = ()  # months rewritten by this call (any table)
    error: str | None = None  # the export failed: the data shown are the previous export's


class Warehouse:
    """One warehouse directory exported from one database (see the module docstring)."""

    def __init__(self, directory: Path, url: str) -> None:
        self.directory = Path(directory)
        self.url = url
        self.lock = threading.Lock()
        self._con: Any = None

    def refresh(self) -> Freshness:
        """Export the changes since the last export, if there are any (see the module)."""
        from tradeguard.errors import TradeguardError
        from tradeguard.storage import engine_for, translated

        t0 = time.perf_counter()
        with self.lock:
            state = read_state(self.directory)
            if not state:
                return Freshness(self.directory, True, None, False, time.perf_counter() - t0)
            try:
                with translated(), engine_for(self.url).connect() as conn:
                    current = signature(conn)
                if current == state.get("signature"):
                    return Freshness(
                        self.directory, False, state.get("exported_at"), False,
                        time.perf_counter() - t0,
                    )  # fmt: skip
                report = export_warehouse(self.url, self.directory)
            except (TradeguardError, OSError) as e:
                return Freshness(
                    self.directory, False, state.get("exported_at"), False,
                    time.perf_counter() - t0, error=str(e),
                )  # fmt: skip
            self._close()
            months = sorted({m for r in report for m in r.get("months", [])})
            return Freshness(
                self.directory, False, read_state(self.directory).get("exported_at"), True,
                time.perf_counter() - t0, tuple(months),
            )  # fmt: skip

    def run(self, fn: Callable[[Any], T]) -> T:
        """``fn(con)`` with this warehouse's DuckDB connection, under the directory's lock."""
        from tradeguard.analytics.report_cards import connect

        with self.lock:
            if self._con is None:
                self._con = connect(self.directory)
            return fn(self._con)

    def _close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


_REGISTRY: dict[tuple[str, str], Warehouse] = {}
_REGISTRY_LOCK = threading.Lock()


def warehouse_for(directory: Path, url: str) -> Warehouse:
    """The process's handle on ``directory`` exported from ``url`` (one per pair)."""
    key = (str(Path(directory).resolve()), url)
    with _REGISTRY_LOCK:
        if key not in _REGISTRY:
            _REGISTRY[key] = Warehouse(Path(directory), url)
        return _REGISTRY[key]


def build_command(directory: Path) -> str:
    """The command that builds the warehouse, as a page shows it."""
    return f"tradeguard warehouse export --out {directory}"
