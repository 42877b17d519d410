"""The pipeline an accepted filing goes through, as the API drives it for one entry.

The API does not validate, compute duties, score or lane by itself: it hands a one-entry batch
to the same stage functions the batch CLI uses (``ingest.submission.validate_entry``,
``revenue``, ``risk.score_batch`` with a frozen ``ScoringBundle``, ``decisions.assign_lanes``).
:class:`StagePipeline` is that wiring; :class:`Pipeline` is the interface the routes see, so
tests can substitute a small deterministic pipeline through ``create_app(pipeline=...)``.

The batch methods of :class:`StagePipeline` (``accept_many``, ``score_many``, ``lanes_many``)
serve whole micro-batches: new filings are gathered and filed together by
:mod:`tradeguard.api.filing_batch` (one engine call per stage and one transaction per batch);
the one-entry methods batch concurrent callers through :mod:`tradeguard.api.batcher`.

Heavy objects (reference data, the scoring bundle) are loaded once, on first use, and shared
by every request: they are frozen values.  The bundle is the targeting in force
(:mod:`tradeguard.api.targeting`): recomposed when a rule is saved, a model promoted, a watch
list or an outcome recorded.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Protocol

import polars as pl
import pyarrow as pa

from tradeguard.api.batcher import Batcher, score_batcher
from tradeguard.config import Settings
from tradeguard.decisions.policy import LanePolicy
from tradeguard.ingest.wire import Charges, EntryCreate

# The random compliance sample must be reproducible per entry, not per process: assign_lanes
# draws from a hash of (seed, entry number), so one fixed seed gives every process the same picks.
LANE_SEED = 20260101


LaneItem = tuple[pa.Table, pa.Table, str, LanePolicy]  # assessments, entries, trusted, policy


def _frame(table: pa.Table) -> pl.DataFrame:
    # a batch's table is one chunk per filing: Arrow joins them far faster than polars does
    out = pl.from_arrow(table.combine_chunks())
    assert isinstance(out, pl.DataFrame)
    return out


class Pipeline(Protocol):
    """What the API needs from the stages, for one entry at a time."""

    def accept(self, entry: EntryCreate) -> tuple[Charges, dict[int, Charges]]:
        """Validate ``entry`` in full and price it: duties and fees of the entry and of each
        line.  Raises ``ValidationFailed`` listing every issue."""
        ...

    def charges(self, entry: EntryCreate) -> tuple[Charges, dict[int, Charges]]:
        """Duties and fees of an entry already stored (no validation)."""
        ...

    def score(self, entries: pa.Table, lines: pa.Table, trusted: str) -> pa.Table:
        """Line assessments per the risk contract (``score_<pti>``, ``score``, ``reasons``...)."""
        ...

    def lanes(
        self, assessments: pa.Table, entries: pa.Table, trusted: str, policy: LanePolicy
    ) -> dict[str, Any]:
        """The entry's decision row (``lane``, ``score``, ``reason``, ``reason_code``...)."""
        ...


class StagePipeline:
    """The real stages: reference data, revenue, the risk core and the lane decision."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._reference: Any = None
        self._targeting: Any = None
        self._acceptor: Batcher[EntryCreate, Any] = Batcher(
            self.accept_many, name="tradeguard-accept-batcher"
        )
        self._scorer = score_batcher(self.score_many)
        self._laner: Batcher[LaneItem, dict[str, Any]] = Batcher(
            self.lanes_many, name="tradeguard-lane-batcher"
        )

    # Loading is lazy and once: the first request pays it, the others share the frozen values.
    @property
    def reference(self) -> Any:
        if self._reference is None:
            with self._lock:
                if self._reference is None:
                    from tradeguard.reference import load_reference

                    self._reference = load_reference(self.settings)
        return self._reference

    @property
    def targeting(self) -> Any:
        """The targeting in force (``api.targeting.LiveTargeting``): model, stored rules,
        watch lists and history from the system of record."""
        if self._targeting is None:
            with self._lock:
                if self._targeting is None:
                    from tradeguard.api.targeting import LiveTargeting
                    from tradeguard.storage import engine_for

                    engine = engine_for(self.settings.effective_database_url)
                    self._targeting = LiveTargeting(self.settings, engine, self.reference)
        return self._targeting

    @property
    def bundle(self) -> Any:
        """The bundle to score with now (see ``api.targeting``)."""
        return self.targeting.bundle()

    def warm(self) -> None:
        """Load the reference data and compose the targeting now (a server start, not the
        first filer)."""
        self.targeting.refresh()

    def accept(self, entry: EntryCreate) -> tuple[Charges, dict[int, Charges]]:
        # concurrent filings are validated and priced together (see api/batcher.py)
        from tradeguard.errors import ValidationFailed

        accepted = self._acceptor.submit(entry)
        if isinstance(accepted, ValidationFailed):
            raise accepted
        return accepted.charges, accepted.line_charges

    def accept_many(self, entries: list[EntryCreate]) -> list[Any]:
        """Validate and price several filings in one call of the revenue engine; per filing,
        its ``Accepted`` or the ``ValidationFailed`` refusing it alone."""
        from tradeguard.ingest.submission import accept_entries

        return accept_entries(entries, self.reference)

    def charges(self, entry: EntryCreate) -> tuple[Charges, dict[int, Charges]]:
        from tradeguard.revenue import entry_charges

        # the same date accept_entry prices on: arrival, else today
        return entry_charges(entry, self.reference, on=entry.arrival_date)

    def score(self, entries: pa.Table, lines: pa.Table, trusted: str) -> pa.Table:
        # concurrent filings are scored together (see api/batcher.py)
        return self._scorer.submit((entries, lines, trusted))

    def score_many(self, entries: pa.Table, lines: pa.Table, trusted: dict[str, str]) -> pa.Table:
        """Score the lines of several entries in one call of the risk core."""
        from tradeguard.risk import score_batch
        from tradeguard.risk.frame import scoring_frame_polars

        # polars from end to end: the frame does not go through Arrow between the two calls.
        # The importers' statuses are known here: the column the parties' join would add
        # (``scoring_frame``) is set directly, without that join's frame operations.
        frame = scoring_frame_polars(entries, lines)
        status = [trusted.get(i) for i in frame["importer_id"].to_list()]
        frame = frame.with_columns(pl.Series("trusted_status", status, dtype=pl.String))
        return score_batch(frame, self.bundle)

    def lanes(
        self, assessments: pa.Table, entries: pa.Table, trusted: str, policy: LanePolicy
    ) -> dict[str, Any]:
        # concurrent filings are laned together (see api/batcher.py)
        return self._laner.submit((assessments, entries, trusted, policy))

    def lanes_many(self, items: list[LaneItem]) -> list[dict[str, Any]]:
        """Lane several entries in one ``assign_lanes`` call; one decision row per item.

        Each item carries the policy its filing read (the port's capacity left today); the
        batch uses the newest reading of every port it touches, and ``assign_lanes`` shares
        that capacity among the batch's entries by risk, as the batch CLI does.
        """
        from tradeguard.decisions import assign_lanes

        ports: dict[str, Any] = {}
        for _, _, _, pol in items:
            ports.update(pol.ports)
        base = items[-1][3]
        policy = replace(base, ports=ports) if len(items) > 1 else base
        assessments = _frame(
            pa.concat_tables([a for a, _, _, _ in items], promote_options="permissive")
        )
        # one conversion of the whole batch (a frame per entry costs more than the lanes),
        # the trusted statuses added on the Arrow side (a column there costs no frame operation)
        ent = _frame(
            pa.concat_tables(
                [e for _, e, _, _ in items], promote_options="permissive"
            ).append_column(
                "trusted",
                pa.array([t for _, e, t, _ in items for _ in range(e.num_rows)], pa.string()),
            )
        )
        out = assign_lanes(assessments, ent, policy, seed=LANE_SEED)
        rows = {r["entry_number"]: r for r in out.iter_rows(named=True)}
        return [rows[e.column("entry_number")[0].as_py()] for _, e, _, _ in items]
