"""Figures the pages compute from the whole system of record, kept between requests.

Two computations would cost every page view a scan of every line or outcome: the targeting
rules' statistics (``outcomes.rule_stats``: every rule hit joined to every outcome) and the
importers' peer table (``web.peer_groups``).  Each is cached per database:

- **rule statistics** are recomputed as soon as the data behind them change: the cache is keyed
  by a *data version*, the row count and highest id of each table they read (findings, rule
  hits, assessments, enforcement), a handful of index lookups per request.  A finding recorded
  a moment ago is counted on the next view of the rules page.
- **the peer table** is served while fresh (``PEER_TTL``) and, once older, still served while a
  background thread rebuilds it (stale-while-revalidate): peer rates move slowly, and no
  request waits for the scan except the very first.  The account's own figures are never
  cached (``web.pages_accounts`` reads them live).

:func:`warm_in_background` fills both, warms the revenue engine, and on SQLite refreshes the
query planner's statistics (``ANALYZE`` with a small ``analysis_limit``; without them SQLite
may scan every released entry for an empty audit queue), when the first visitor opens the
sign-in page.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Engine, Integer, func, select

from tradeguard.storage.base import metadata
from tradeguard.storage.entries import utcnow
from tradeguard.web.peer_groups import PeerTable, build_peer_table

log = logging.getLogger(__name__)
PEER_TTL = 600.0  # seconds before the peer table is rebuilt in the background
STATS_TTL = 300.0  # rule statistics older than this are recomputed even if nothing changed
# what the rule statistics read: a change in any of them means new figures
STATS_TABLES = ("findings", "rule_hits", "assessments", "seizures", "penalty_cases",
                "case_events", "liquidations", "decisions")  # fmt: skip


def data_version(conn: Connection, names: tuple[str, ...]) -> tuple[Any, ...]:
    """Row count and highest integer id of each named table (those that exist in the
    schema): cheap index lookups that change whenever rows are added or removed."""
    from tradeguard.storage.schema import load_tables

    load_tables()
    parts: list[Any] = []
    for name in names:
        table = metadata.tables.get(name)
        if table is None:
            continue
        cols: list[Any] = [func.count()]
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer):
            cols.append(func.max(pk[0]))
        parts.append((name, *conn.execute(select(*cols).select_from(table)).one()))
    return tuple(parts)


@dataclass
class _Entry:
    version: Any = None
    at: float = 0.0
    value: Any = None
    refreshing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class PortalCaches:
    """The caches of one app (one database)."""

    def __init__(self) -> None:
        self._stats = _Entry()
        self._peers = _Entry()
        self._warmed = False
        self._guard = threading.Lock()

    # rule statistics ---------------------------------------------------------------------
    def rule_statistics(self, engine: Engine, bundle: Any, settings: Any) -> dict[str, Any]:
        """The rule statistics, recomputed when the data version changed (pending rule hits
        of new assessments are recorded first, with ``bundle``, the bundle in force)."""
        from tradeguard.outcomes.rule_stats import (
            pending_entries,
            record_rule_hits,
            rule_statistics,
        )

        entry = self._stats
        thresholds = (settings.rule_review_min_inspections, settings.rule_review_min_yield)
        with engine.connect() as conn:
            version = (data_version(conn, STATS_TABLES), thresholds)
        if entry.version == version and time.monotonic() - entry.at < STATS_TTL:
            return entry.value  # type: ignore[no-any-return]
        with entry.lock:  # one computation at a time; the others wait and reuse it
            with engine.connect() as conn:
                version = (data_version(conn, STATS_TABLES), thresholds)
            if entry.version == version and time.monotonic() - entry.at < STATS_TTL:
                return entry.value  # type: ignore[no-any-return]
            with engine.begin() as conn:
                if bundle is not None and pending_entries(conn, limit=1):
                    record_rule_hits(conn, bundle)
            with engine.connect() as conn:
                stats = rule_statistics(
                    conn, min_inspections=thresholds[0], min_yield=thresholds[1]
                )
                entry.version = (data_version(conn, STATS_TABLES), thresholds)
            entry.value, entry.at = stats, time.monotonic()
            return stats

    # peer table --------------------------------------------------------------------------
    def peer_table(self, engine: Engine) -> PeerTable:
        """The peer table: built now if there is none, else served (and rebuilt in the
        background once older than ``PEER_TTL``)."""
        entry = self._peers
        if entry.value is None:
            with entry.lock:
                if entry.value is None:
                    self._rebuild_peers(engine)
            return cast(PeerTable, entry.value)  # set by _rebuild_peers
        if time.monotonic() - entry.at > PEER_TTL and not entry.refreshing:
            entry.refreshing = True
            threading.Thread(
                target=self._refresh_peers, args=(engine,), name="peer-table", daemon=True
            ).start()
        return cast(PeerTable, entry.value)

    def _rebuild_peers(self, engine: Engine) -> None:
        analyze_sqlite(engine)
        with engine.connect() as conn:
            table = build_peer_table(conn, utcnow())
        self._peers.value, self._peers.at = table, time.monotonic()

    def _refresh_peers(self, engine: Engine) -> None:
        try:
            with self._peers.lock:
                self._rebuild_peers(engine)
        except Exception:  # keep serving the old table; the next request tries again
            log.exception("rebuilding the peer table failed")
        finally:
            self._peers.refreshing = False

    # warming -----------------------------------------------------------------------------
    def warm(self, app: Any) -> None:
        """Fill both caches (called once per app, in a background thread)."""
        api = app.state.api
        engine = api.state.db.engine
        try:
            self.peer_table(engine)
            bundle = getattr(api.state.pipeline, "bundle", None)
            self.rule_statistics(engine, bundle, app.state.settings)
            _warm_pricing(engine, api.state.pipeline)
        except Exception:  # a page will compute (and report) it when asked
            log.exception("warming the portal caches failed")


def _warm_pricing(engine: Engine, pipeline: Any) -> None:
    """Price the newest entry once: the revenue engine's first call costs half a second
    (query plans, reference joins), which the first filer to open a page should not pay."""
    from tradeguard.storage.tables_foundation import entries
    from tradeguard.web.pages_filer import _priced

    with engine.connect() as conn:
        row = conn.execute(select(entries).order_by(entries.c.filed_at.desc()).limit(1))
        newest = [dict(r) for r in row.mappings()]
        if newest:
            _priced(conn, pipeline, newest)


def analyze_sqlite(engine: Engine) -> None:
    """Refresh SQLite's planner statistics (sampled: a few milliseconds); no-op elsewhere
    (PostgreSQL's autovacuum keeps its own)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit=400")
        conn.exec_driver_sql("ANALYZE")


_MAKING = threading.Lock()


def caches_of(app: Any) -> PortalCaches:
    """The :class:`PortalCaches` of ``app`` (made on first use)."""
    caches = getattr(app.state, "portal_caches", None)
    if caches is None:
        with _MAKING:
            caches = getattr(app.state, "portal_caches", None)
            if caches is None:
                caches = app.state.portal_caches = PortalCaches()
    return caches


def warm_in_background(app: Any) -> None:
    """Start filling ``app``'s caches in a daemon thread, the first time only."""
    caches = caches_of(app)
    with caches._guard:
        if caches._warmed:
            return
        caches._warmed = True
    threading.Thread(target=caches.warm, args=(app,), name="portal-warm", daemon=True).start()
