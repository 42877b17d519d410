"""The targeting in force: what the service scores new filings with, as the system of record
says now.

A trained bundle is frozen (``risk.bundle``), but what a port targets with moves every day:
targeters save, edit and retire rules; a model is promoted; leads put parties on watch lists;
entity resolution links a renamed importer to its past; officers record findings that become
each party's history.  :class:`LiveTargeting` composes these into one ``ScoringBundle``:

* **model**: the promoted model's bundle, else ``Settings.bundle_dir``, else the starter rules
  alone (the order of ``outcomes.retrain.current_bundle``);
* **rules**: the model's rules overlaid by the stored ones (the newest version of each id: an
  active one replaces or adds the rule, a retired one removes it);
* **lists**: the rules' own lists, the starter lists and the watch lists;
* **history**: rebuilt from the outcomes, allegations and entity links of the system of record
  (as-of joins as ever: only what was known before a line was filed counts), once it records
  any outcome; until then the bundle's own.

A cheap stamp of those tables is read at most every ``targeting_check_seconds``.  Rule, list
and model changes apply at the next check; history, which costs a scan of the stored lines, is
rebuilt at most every ``history_refresh_seconds``, in a background thread, the previous history
serving meanwhile (the first build, at start, is done before the first score).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, case, func, select

from tradeguard.config import Settings
from tradeguard.errors import TradeguardError
from tradeguard.storage.frames import read_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stamp:
    """What the targeting in force depends on, summarised cheaply; equal stamps, same bundle."""

    model: tuple[Any, ...]
    rules: tuple[Any, ...]
    lists: tuple[Any, ...]
    outcomes: tuple[Any, ...]  # history inputs: findings, allegations, entity links

    @property
    def configuration(self) -> tuple[Any, ...]:
        return self.model, self.rules, self.lists


def read_stamp(conn: Connection) -> Stamp:
    """The stamp of the system of record now (a handful of aggregate queries)."""
    from tradeguard.storage.tables_api import allegations, models, rules
    from tradeguard.storage.tables_entities import entity_links, watch_list_entries
    from tradeguard.storage.tables_foundation import findings

    def one(*cols: Any) -> tuple[Any, ...]:
        row = conn.execute(select(*cols)).one()
        return tuple(row)

    promoted = conn.execute(select(models.c.id, models.c.path).where(models.c.promoted)).first()
    return Stamp(
        model=tuple(promoted) if promoted else (),
        rules=one(
            func.count(),
            func.max(rules.c.at),
            func.sum(case((rules.c.status == "retired", 1), else_=0)),
        ),
        lists=one(func.count(watch_list_entries.c.id), func.max(watch_list_entries.c.id)),
        outcomes=(
            *one(func.count(findings.c.id), func.max(findings.c.id)),
            *one(func.count(allegations.c.id), func.max(allegations.c.id)),
            *one(func.count(), func.max(entity_links.c.resolved_at)),
        ),
    )


# ---------------------------------------------------------------------------------------------
# the parts


def model_bundle(settings: Settings, promoted: tuple[Any, ...], reference: Any) -> Any:
    """The model part: the promoted model's directory, else ``bundle_dir``, else rules only."""
    from tradeguard.decisions.batch import rules_only_bundle
    from tradeguard.risk import ScoringBundle

    if promoted and promoted[1] and Path(promoted[1]).is_dir():
        return ScoringBundle.load(promoted[1])
    if promoted:
        log.warning("promoted model %s has no bundle at %r; not using it", *promoted)
    if settings.bundle_dir is not None:
        return ScoringBundle.load(settings.bundle_dir)
    return rules_only_bundle(reference=reference)


@lru_cache(maxsize=1)
def _starter_lists() -> Any:
    from tradeguard.risk.rules import load_starter

    return load_starter().lists


def rule_lists(conn: Connection, base: Any = None) -> dict[str, Any]:
    """The named lists a rule may use: the starter lists, ``base`` (the model's rule lists,
    default none) and the watch lists of the system of record, later ones winning."""
    from tradeguard.entities.leads import watch_lists
    from tradeguard.risk.rules.lists import merge

    return merge(_starter_lists(), base or {}, watch_lists(conn))


def stored_rules(conn: Connection) -> list[dict[str, Any]]:
    """The newest version of every stored rule, as ``{"status", "version", "body"}``."""
    from tradeguard.storage.tables_api import rules

    newest = (
        select(rules.c.id, func.max(rules.c.version).label("v")).group_by(rules.c.id).subquery()
    )
    q = select(rules.c.version, rules.c.status, rules.c.body).join(
        newest, (rules.c.id == newest.c.id) & (rules.c.version == newest.c.v)
    )
    return [
        {"version": v, "status": s, "body": json.loads(b)}
        for v, s, b in conn.execute(q.order_by(rules.c.id))
    ]


def rules_in_force(base: Any, stored: list[dict[str, Any]], lists: dict[str, Any]) -> Any:
    """``base`` (a ``RuleSet`` or None) overlaid by the ``stored`` rules, with ``lists``.

    A stored rule that no longer validates (say, its watch list was emptied) is left out and
    logged; it was valid when saved, so this is rare, and scoring must go on.
    """
    from tradeguard.risk.rules import RuleSet, parse_rule

    by_id = {r.id: r for r in (base.rules if base is not None else ())}
    for row in stored:
        rid = row["body"].get("id")
        if row["status"] == "retired":
            by_id.pop(rid, None)
            continue
        try:
            by_id[rid] = parse_rule({**row["body"], "version": row["version"]}, lists=lists)
        except TradeguardError as exc:
            log.warning("stored rule %s v%s is not in force: %s", rid, row["version"], exc)
    return RuleSet(tuple(by_id.values()), lists, source="system of record")


def with_rules_in_force(conn: Connection, model: Any) -> Any:
    """``model`` with the stored rules over its own and the lists in force."""
    base = model.rules
    lists = rule_lists(conn, base.lists if base is not None else None)
    rules = rules_in_force(base, stored_rules(conn), lists)
    return replace(model, rules=rules, rules_dir=None)


def bundle_in_force(conn: Connection, settings: Settings, reference: Any = None) -> tuple[str, Any]:
    """What the service scores with, less the live history: ``(name, bundle)``; the name is
    the promoted model's id, else the bundle directory, else ``rules-only``."""
    from tradeguard.storage.tables_api import models

    row = conn.execute(select(models.c.id, models.c.path).where(models.c.promoted)).first()
    promoted = tuple(row) if row else ()
    model = model_bundle(settings, promoted, reference)
    if promoted and promoted[1] and Path(promoted[1]).is_dir():
        name = str(promoted[0])
    elif settings.bundle_dir is not None:
        name = str(settings.bundle_dir)
    else:
        name = "rules-only"
    return name, with_rules_in_force(conn, model)


def _history_inputs(conn: Connection) -> dict[str, pl.DataFrame]:
    """Entries, lines, importers, outcomes and allegations, narrowly, for ``build_history``."""
    from tradeguard.domain.schema import ENTRIES, LINES
    from tradeguard.outcomes.labels import outcome_labels
    from tradeguard.storage.tables_api import allegations
    from tradeguard.storage.tables_foundation import entries, lines, parties

    def cols(table: Any, schema: Any, skip: tuple[str, ...] = ()) -> list[Any]:
        return [table.c[f.name] for f in schema if f.name in table.c and f.name not in skip]

    ent = read_frame(conn, select(*cols(entries, ENTRIES)))
    lin = read_frame(conn, select(*cols(lines, LINES, skip=("description",))))
    par = read_frame(
        conn,
        select(parties.c.party_id, parties.c.role, parties.c.first_seen, parties.c.trusted_status),
    )
    outcomes = pl.from_arrow(outcome_labels(conn))
    assert isinstance(outcomes, pl.DataFrame)
    alleg = read_frame(
        conn,
        select(allegations.c.target_id.label("party_id"), allegations.c.received_at).where(
            allegations.c.target_type.in_(("importer", "manufacturer"))
        ),
    ).rename({"received_at": "known_at"})
    return {"entries": ent, "lines": lin, "parties": par, "outcomes": outcomes, "alleg": alleg}


def live_history(conn: Connection) -> Any:
    """History tables of the whole system of record, keyed by resolved entity where resolved;
    None when it records no outcome yet (the bundle's own history is then kept)."""
    from tradeguard.entities.accounts import resolved_party_map
    from tradeguard.risk.frame import complete, scoring_frame
    from tradeguard.risk.history import build_history

    data = _history_inputs(conn)
    if data["outcomes"].height == 0:
        return None
    frame = pl.from_arrow(scoring_frame(data["entries"], data["lines"], data["parties"]))
    assert isinstance(frame, pl.DataFrame)
    return build_history(
        complete(frame),
        data["outcomes"],
        data["parties"],
        data["alleg"] if data["alleg"].height else None,
        resolved_party_map(conn),
    )


# ---------------------------------------------------------------------------------------------
# the composition


class LiveTargeting:
    """The bundle in force for the service, recomposed when the system of record changes."""

    def __init__(self, settings: Settings, engine: Any, reference: Any) -> None:
        self.settings = settings
        self.engine = engine
        self.reference = reference
        self._lock = threading.RLock()
        self._bundle: Any = None
        self._model: Any = None
        self._model_key: tuple[Any, ...] | None = None
        self._stamp: Stamp | None = None
        self._history: Any = None  # None: the model bundle's own
        self._history_stamp: tuple[Any, ...] | None = None
        self._history_built = 0.0
        self._history_thread: threading.Thread | None = None
        self._checked = 0.0

    def bundle(self) -> Any:
        """The bundle to score with now (checks the stamp at most every few seconds)."""
        now = time.monotonic()
        if self._bundle is not None and now - self._checked < self.settings.targeting_check_seconds:
            return self._bundle
        with self._lock:
            if self._bundle is None or now - self._checked >= self.settings.targeting_check_seconds:
                self._refresh(first=self._bundle is None)
                self._checked = time.monotonic()
        return self._bundle

    def refresh(self, *, history: bool = True) -> Any:
        """Recompose now, rebuilding the history in this thread if its inputs changed (tests,
        ``warm``); returns the bundle."""
        with self._lock:
            self._refresh(first=history)
            self._checked = time.monotonic()
            return self._bundle

    def _refresh(self, *, first: bool) -> None:
        with self.engine.connect() as conn:
            stamp = read_stamp(conn)
            if self._stamp is None or stamp.configuration != self._stamp.configuration:
                self._compose(conn, stamp)
        if stamp.outcomes != self._history_stamp:
            due = time.monotonic() - self._history_built >= self.settings.history_refresh_seconds
            if first:
                self._rebuild_history(stamp.outcomes)
            elif due:
                self._start_history(stamp.outcomes)
        self._stamp = stamp

    def _compose(self, conn: Connection, stamp: Stamp) -> None:
        if self._model is None or stamp.model != self._model_key:
            self._model = model_bundle(self.settings, stamp.model, self.reference)
            self._model_key = stamp.model
        self._bundle = self._assemble(with_rules_in_force(conn, self._model).rules)

    def _assemble(self, rules: Any) -> Any:
        bundle = replace(self._model, rules=rules)
        if self._history is not None:
            bundle = bundle.with_history(self._history)
        return bundle

    def _rebuild_history(self, key: tuple[Any, ...]) -> None:
        started = time.perf_counter()
        with self.engine.connect() as conn:
            history = live_history(conn)
        with self._lock:
            self._history, self._history_stamp = history, key
            self._history_built = time.monotonic()
            if self._bundle is not None:
                self._bundle = self._assemble(self._bundle.rules)
        log.info(
            "history rebuilt from the system of record in %.1f s", time.perf_counter() - started
        )

    def _start_history(self, key: tuple[Any, ...]) -> None:
        if self._history_thread is not None and self._history_thread.is_alive():
            return

        def run() -> None:
            try:
                self._rebuild_history(key)
            except Exception:  # a failed rebuild keeps the previous history serving
                log.exception("history rebuild failed; the previous history stays in force")
                self._history_built = time.monotonic()

        self._history_thread = threading.Thread(target=run, name="tradeguard-history", daemon=True)
        self._history_thread.start()

    def wait_history(self, timeout: float | None = None) -> None:
        """Wait for a background history rebuild to finish (tests, shutdown)."""
        thread = self._history_thread
        if thread is not None:
            thread.join(timeout)


__all__ = [
    "LiveTargeting",
    "Stamp",
    "bundle_in_force",
    "live_history",
    "read_stamp",
    "rule_lists",
    "rules_in_force",
    "with_rules_in_force",
]
