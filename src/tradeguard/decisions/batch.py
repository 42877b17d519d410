"""The batch driver of the targeting step: files in, risk core + lanes, files out.

This is the I/O side of ``tradeguard score`` (and of the throughput benchmark); the decisions
themselves stay in the pure ``assign_lanes``.  It

1. reads the lines in chunks (Parquet or CSV, one file or a directory of parts), joins each
   chunk to its entries and the importers' trusted status (``risk.scoring_frame``) and
   computes its features, in a worker thread one chunk ahead of the scoring;
2. scores each chunk with ``risk.score_parts`` (the model predicts in a thread while the rules
   run) and streams the line scores to ``line_scores.parquet`` (or ``.csv``) from another
   worker, keeping only a per-entry partial aggregate in memory (``lanes.entry_partials``) and
   the model/rule rows of the few candidate lines (``held_reasons.HeldReasons``), so memory
   grows with entries, not lines;
3. assigns every entry its lane once all chunks are in (capacity is per port and *day*, and a
   day's entries may be spread over several chunks), explains the held entries from the kept
   rows and writes ``lanes.parquet`` and ``line_reasons.parquet``.

Input layouts: a generator/factory directory (``lines``, ``entries`` and optionally
``parties``, each ``<name>.parquet``, ``<name>.csv`` or a ``<name>/`` folder of parts), or a
single file of lines that already carries the entry columns (``port_code``, ``filed_at``, ...),
optionally with ``--entries``/``--parties`` files beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from tradeguard.decisions.held_reasons import HeldReasons
from tradeguard.decisions.lanes import HELD_BY_TARGETING as HELD
from tradeguard.decisions.lanes import (
    assign_entry_lanes,
    entry_partials,
    finish_entry_scores,
)
from tradeguard.decisions.policy import LanePolicy
from tradeguard.decisions.sampling import exposure_rank
from tradeguard.domain.codes import PTI
from tradeguard.domain.schema import ENTRIES, LINES, PARTIES
from tradeguard.errors import NotFound, ValidationFailed

DEFAULT_CHUNK = 250_000
_KNOWN_TYPES: dict[str, pa.DataType] = {
    f.name: f.type for schema in (LINES, ENTRIES, PARTIES) for f in schema
}
_KNOWN_TYPES["trusted"] = pa.string()
# What the per-entry aggregation reads of the scored lines.
_PARTIAL_COLUMNS = [
    "entry_number",
    "line_number",
    "score",
    "revenue_at_risk_usd",
    "mandatory",
    "mandatory_reason",
    *[f"score_{p.value}" for p in PTI],
]


# ``line_reasons``: each held entry's explained lines
_LINE_REASONS = {
    "entry_number": pl.String,
    "line_number": pl.Int32,
    "score": pl.Float64,
    "reasons": pl.String,
}


def _csv_format() -> pads.CsvFileFormat:
    # Codes such as HTS numbers, ports and entry types must stay strings ("01", "0805..."),
    # and an empty cell is a missing value (a rule's "spi is null" must see it as such).
    return pads.CsvFileFormat(
        convert_options=pacsv.ConvertOptions(
            column_types=_KNOWN_TYPES, strings_can_be_null=True, quoted_strings_can_be_null=True
        )
    )


def find_table(directory: Path, name: str) -> Path | None:
    """``<name>.parquet``, ``<name>.csv`` or a ``<name>/`` folder of parts in ``directory``."""
    for candidate in (directory / f"{name}.parquet", directory / f"{name}.csv", directory / name):
        if candidate.exists():
            return candidate
    return None


def _files(path: Path) -> list[Path]:
    """The file ``path``, or the files of the folder ``path`` (any depth, sorted)."""
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def open_dataset(path: Path) -> pads.Dataset:
    """A Parquet or CSV file, or a folder of them, as an Arrow dataset (read lazily)."""
    if not path.exists():
        raise NotFound(f"{path}: no such file or directory")
    files = _files(path)
    fmt = "csv" if any(p.suffix.lower() == ".csv" for p in files) else "parquet"
    return pads.dataset(
        [str(p) for p in files if p.suffix.lower() in (".csv", ".parquet", ".pq")],
        format=_csv_format() if fmt == "csv" else "parquet",
    )


def read_table(path: Path) -> pl.DataFrame:
    """A whole table (entries, parties): polars' own reader for Parquet, Arrow's for CSV."""
    files = _parquet_files(path)
    if files is not None:
        return pl.read_parquet(files)
    frame = pl.from_arrow(open_dataset(path).to_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


@dataclass(frozen=True)
class ScoringInput:
    """Where the lines come from, and the entries and parties that describe them (if any)."""

    lines: Path
    entries: Path | None = None
    parties: Path | None = None

    @classmethod
    def resolve(
        cls, source: Path, entries: Path | None = None, parties: Path | None = None
    ) -> ScoringInput:
        if source.is_dir() and (lines := find_table(source, "lines")) is not None:
            return cls(
                lines=lines,
                entries=entries or find_table(source, "entries"),
                parties=parties or find_table(source, "parties"),
            )
        if not source.exists():
            raise NotFound(f"{source}: no such file or directory")
        return cls(lines=source, entries=entries, parties=parties)


@dataclass
class ScoringRun:
    """What a run wrote and measured."""

    lanes: pl.DataFrame
    n_lines: int
    paths: dict[str, Path]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def lines_per_second(self) -> float:
        return self.n_lines / self.seconds if self.seconds else 0.0


def _batches(dataset: pads.Dataset, chunk: int) -> Iterator[pa.Table]:
    """Tables of about ``chunk`` rows (Arrow batches are regrouped: CSV blocks vary in size)."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in dataset.to_batches(batch_size=chunk):
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        rows += batch.num_rows
        if rows >= chunk:
            yield pa.Table.from_batches(pending)
            pending, rows = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def _parquet_files(path: Path) -> list[str] | None:
    """The Parquet files of ``path`` (a file or a folder of parts), None if it holds CSV."""
    files = _files(path)
    if files and all(f.suffix.lower() in (".parquet", ".pq") for f in files):
        return [str(f) for f in files]
    return None


def count_lines(path: Path) -> int | None:
    """Rows of a Parquet input from its metadata (None for CSV: unknown until read)."""
    files = _parquet_files(path)
    if files is None:
        return None
    n = pl.scan_parquet(files).select(pl.len()).collect().item()
    return int(n)


# From this many lines a file's scoring saves more than compiling its boosters costs
# (``risk.compiled``: ~1 s a booster once, against ~1 CPU-s a booster per million lines).
COMPILE_MIN_LINES = 250_000
_CSV_BYTES_PER_LINE = 200  # a canonical line in CSV, roughly


def _large_input(path: Path) -> bool:
    """At least ``COMPILE_MIN_LINES`` lines (Parquet: counted; CSV: judged by size)."""
    n = count_lines(path)
    if n is None:
        n = sum(p.stat().st_size for p in _files(path)) // _CSV_BYTES_PER_LINE
    return n >= COMPILE_MIN_LINES


def read_chunks(path: Path, chunk: int) -> Iterator[pl.DataFrame]:
    """The lines of ``path`` as polars frames of ``chunk`` rows.

    Parquet is read by polars slice by slice (its reader is several times faster than
    converting Arrow batches); CSV goes through Arrow with the canonical column types.
    """
    files = _parquet_files(path)
    if files is None:
        for table in _batches(open_dataset(path), chunk):
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            yield frame
        return
    lazy = pl.scan_parquet(files)
    total = int(lazy.select(pl.len()).collect().item())
    for offset in range(0, total, chunk):
        yield lazy.slice(offset, chunk).collect()


def _importer_status(parties: pl.DataFrame) -> pl.DataFrame:
    return (
        parties.filter(pl.col("role") == "importer")
        .select(pl.col("party_id").alias("importer_id"), pl.col("trusted_status"))
        .unique("importer_id", keep="last")
    )


_ENTRY_COLUMNS = [f.name for f in ENTRIES] + ["trusted_status", "trusted"]


def _entry_columns(entries: pl.DataFrame, chunk: pl.DataFrame) -> list[str]:
    """The columns a chunk of lines takes from its entries (those the lines lack)."""
    return [c for c in entries.columns if c in _ENTRY_COLUMNS and c not in chunk.columns]


def _prepare(
    chunk: pl.DataFrame, entries: pl.DataFrame | None, status: pl.DataFrame | None
) -> pl.DataFrame:
    """The scoring frame of a chunk: lines + entry columns + the importer's trusted status.

    The same join as ``risk.scoring_frame``, kept in polars (the core accepts polars frames),
    which saves two Arrow conversions of every chunk.
    """
    frame = chunk
    if entries is not None:
        frame = chunk.join(
            entries.select(["entry_number", *_entry_columns(entries, chunk)]),
            on="entry_number",
            how="left",
            maintain_order="left",
        )
    has_status = "trusted_status" in frame.columns or "trusted" in frame.columns
    if status is not None and not has_status and "importer_id" in frame.columns:
        frame = frame.join(status, on="importer_id", how="left", maintain_order="left")
    return frame


class _EntriesInOrder:
    """``_prepare`` for the chunks of one file, in order, without hashing every entry again
    for every chunk.

    Files written by the generator or a factory list the entries in the order their lines
    come, so the entries of a chunk are the next rows of the entries table.  When the
    chunk's runs of entry numbers equal those rows (one comparison pass, no hashing) and the
    entries' numbers are distinct, the left join's answer is those rows repeated over each
    run, a gather; any other chunk takes the join.
    """

    def __init__(self, entries: pl.DataFrame | None, status: pl.DataFrame | None) -> None:
        self.entries, self.status = entries, status
        self.distinct: bool | None = None  # entry numbers distinct (checked on first use)
        self.next = 0  # the entries row where the next chunk's entries should begin
        # Every chunk so far came in order: an entry's lines are then contiguous in the file,
        # so only the entries at the chunks' edges can be split over two chunks.
        self.in_order = True
        self.edges: list[str] = []

    def prepare(self, chunk: pl.DataFrame) -> pl.DataFrame:
        rows = self._rows(chunk) if self.entries is not None and chunk.height else None
        if rows is None:
            self.in_order = self.in_order and not chunk.height
            return _prepare(chunk, self.entries, self.status)
        keys = chunk["entry_number"]
        self.edges += [keys[0], keys[-1]]
        return _prepare(chunk.hstack(rows.get_columns()), None, self.status)

    def split(self) -> pl.Series | None:
        """The entries that may be split over chunks, None when any may."""
        return pl.Series("entry_number", self.edges, pl.String) if self.in_order else None

    def _rows(self, chunk: pl.DataFrame) -> pl.DataFrame | None:
        """The entry columns of each line of ``chunk`` if its entries come next in order."""
        entries = self.entries
        assert entries is not None
        keys = chunk["entry_number"]
        if keys.dtype != pl.String or entries["entry_number"].dtype != pl.String:
            return None
        if self.distinct is None:
            self.distinct = entries["entry_number"].n_unique() == entries.height
        if not self.distinct:
            return None
        run = keys.rle_id()
        heads = keys.gather((run.diff().fill_null(1) != 0).arg_true())
        # an entry may continue from the previous chunk: its row is then the one before
        for first in (self.next - 1, self.next):
            if first < 0 or first + heads.len() > entries.height:
                continue
            ours = entries.slice(first, heads.len())
            if (ours["entry_number"] == heads).fill_null(False).all():
                self.next = first + heads.len()
                return ours.select(_entry_columns(ours, chunk))[run]
        return None


def strata_columns(features: pl.DataFrame) -> list[pl.Series]:
    """Per line of a feature frame (``risk.feature_frame``), what the random sample's strata
    need (``exposure_rank``, ``declared_duty_usd``, ``value_usd``), for
    ``lanes.entry_partials`` to aggregate."""
    cols = [features.select(exposure_rank(features.columns)).to_series(), _declared_duty(features)]
    if "value_usd" in features.columns:
        cols.append(features["value_usd"].cast(pl.Float64))
    return cols


def _declared_duty(features: pl.DataFrame) -> pl.Series:
    """Per line, the duty the declared facts owe at the rates the scoring features carry: the
    ad valorem rate of the declared HTS for the origin (``duty_rate``) plus the Chapter 99
    rate (``additional_duty_rate``), on the declared value; the random sample's size band.

    The API prices each entry in full anyway and uses its computed duty (``api.filing.sized``);
    here, pricing every line a second time would cost more than scoring it, and the band
    only needs a measure of the declared duty, never a score, for the weights to stay right.
    Null where the features carry no rate (the band then rests on the declared value).
    """
    if not {"duty_rate", "value_usd"} <= set(features.columns):
        from tradeguard.risk.frame import nulls

        return nulls("declared_duty_usd", features.height, pl.Float64)
    rate = pl.col("duty_rate").cast(pl.Float64)
    if "additional_duty_rate" in features.columns:
        rate = rate + pl.col("additional_duty_rate").cast(pl.Float64).fill_null(0.0)
    return features.select(
        (pl.col("value_usd").cast(pl.Float64) * rate).alias("declared_duty_usd")
    ).to_series()


def _entry_context(frame: pl.DataFrame) -> pl.DataFrame:
    """Per entry: port, filing time and trusted status, from a scoring frame chunk."""
    missing = [c for c in ("port_code", "filed_at") if c not in frame.columns]
    if missing:
        raise ValidationFailed(
            f"the lines carry no {' or '.join(missing)}: give --entries FILE or a directory "
            "with entries"
        )
    cols = ("entry_number", "port_code", "filed_at", "trusted_status", "trusted")
    return frame.select([c for c in cols if c in frame.columns]).unique(
        "entry_number", keep="first"
    )


def _writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter | pacsv.CSVWriter:
    if path.suffix == ".csv":
        return pacsv.CSVWriter(str(path), schema)
    # Scores are split into byte streams (smaller and faster to compress than plain doubles),
    # only what repeats is dictionary-encoded, and only the keys carry statistics.
    return pq.ParquetWriter(
        str(path),
        schema,
        compression="lz4",
        use_dictionary=["bundle_version", "mandatory_reason"],
        use_byte_stream_split=[f.name for f in schema if pa.types.is_floating(f.type)],
        write_statistics=["entry_number", "line_number"],
    )


def _write_frame(frame: pl.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path, compression="lz4")


def score_files(
    source: ScoringInput,
    out_dir: Path,
    bundle: Any,
    policy: LanePolicy,
    *,
    seed: int,
    chunk_size: int = DEFAULT_CHUNK,
    fmt: str = "parquet",
    on_chunk: Callable[[int], None] | None = None,
    decided_at: datetime | None = None,
    entity_map: pl.DataFrame | None = None,
) -> ScoringRun:
    """Score every line of ``source``, assign lanes, write ``line_scores``, ``lanes`` and
    ``line_reasons`` to ``out_dir``.

    Two passes: the first scores every line without model explanations, keeping the model
    and rule-hit rows of the few candidate lines; once the lanes are known, the second
    explains the best and mandatory lines of the entries held for exam or review (about 2-10%
    of them) from those rows (rules hit and TreeSHAP contributions),
    writing ``line_reasons`` and naming the top reason in each held entry's lane reason.  So
    explanation costs in proportion to what officers will open, not to the file.

    ``bundle`` is a ``risk.ScoringBundle``; ``on_chunk(rows)`` is called after each chunk (the
    progress bar).  ``entity_map`` (an entity resolution, ``risk.dataset.read_links``)
    replaces the resolution frozen into the bundle's history, so that records linked since
    training - a violator's new IOR - meet their entity's history; a party it does not know
    is its own entity.  Returns the lanes frame, the line count, the paths and the timings.
    """
    from tradeguard.risk.score import model_features, score_parts

    if fmt not in ("parquet", "csv"):
        raise ValidationFailed(f"unknown output format {fmt!r}: use parquet or csv")
    if entity_map is not None:
        bundle = bundle.with_history(bundle.history.with_entity_map(entity_map))
    started = time.perf_counter()
    # A large file repays compiling the boosters for this machine (once: it is cached).
    bundle.models.use_compiled(compile_missing=_large_input(source.lines))
    timings = {
        "read_prepare": 0.0,
        "score_batch": 0.0,
        "write_lines": 0.0,
        "lanes": 0.0,
        # in worker threads, overlapped: explaining (with ``lanes``), per-entry partials and
        # candidate rows, and writing the line scores (``write_lines`` is what the scoring
        # waited for)
        "explain": 0.0,
        "finish_chunks_worker": 0.0,
        "write_lines_worker": 0.0,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "line_scores": out_dir / f"line_scores.{fmt}",
        "lanes": out_dir / f"lanes.{fmt}",
        "line_reasons": out_dir / f"line_reasons.{fmt}",
    }

    t = time.perf_counter()
    entries = read_table(source.entries) if source.entries else None
    status = _importer_status(read_table(source.parties)) if source.parties else None
    if (
        entries is not None
        and status is not None
        and not {"trusted", "trusted_status"} & set(entries.columns)
    ):
        # one join per run instead of one per chunk
        entries = entries.join(status, on="importer_id", how="left")
    timings["read_prepare"] += time.perf_counter() - t

    counts = {"explained_lines": 0}
    writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
    partials: list[pl.DataFrame] = []
    contexts: list[pl.DataFrame] = []
    held_reasons = HeldReasons()
    n_lines = 0
    # I/O overlaps the scoring: one worker reads the next chunk and computes its features
    # (joins, history, model matrix) while this one is scored, another aggregates the previous
    # chunk's scores, and a third writes them (Arrow and polars release the GIL).  Aggregates
    # and writes each stay in order, one chunk at a time; the last chunk's write goes on while
    # the lanes are decided.  The timings of read and write are the time the scoring loop
    # spent waiting for them.
    io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tradeguard-io")
    writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradeguard-write")
    chunks = read_chunks(source.lines, chunk_size)
    joiner = _EntriesInOrder(entries, status)

    def next_frame() -> tuple[pl.DataFrame, tuple[pl.DataFrame, Any]] | None:
        chunk = next(chunks, None)
        if chunk is None:
            return None
        frame = joiner.prepare(chunk)
        return frame, model_features(frame, bundle)

    def write_chunk(writer: pq.ParquetWriter | pacsv.CSVWriter, table: pa.Table) -> None:
        t0 = time.perf_counter()
        writer.write_table(table)
        timings["write_lines_worker"] += time.perf_counter() - t0

    def finish_chunk(feats: pl.DataFrame, parts: Any) -> None:
        """Keep what the lanes and explanations need of a scored chunk."""
        t0 = time.perf_counter()
        keys = pl.from_arrow(parts.table.select(_PARTIAL_COLUMNS))
        assert isinstance(keys, pl.DataFrame)
        # the sampling strata's exposure and size, aggregated in the same pass (same row order)
        keys = keys.with_columns(strata_columns(feats))
        partials.append(entry_partials(keys))
        # Lines that may need explaining once lanes are known (see ``explain``): the
        # mandatory ones and those at or above the review threshold; a few percent.
        held_reasons.keep(
            keys,
            keys["mandatory"].fill_null(False) | (keys["score"] >= policy.review_threshold),
            parts,
        )
        timings["finish_chunks_worker"] += time.perf_counter() - t0

    explained: list[pl.DataFrame] = []

    def explain(held: pl.DataFrame) -> pl.DataFrame:
        """Pass two: explain the candidate lines of the given entries (capacity's targeted
        holds: ``assign_entry_lanes`` calls this before the lanes are final).

        Of the candidate lines of each entry, its best line (what sent it) and its mandatory
        lines (officers open the rest on request through the API, which explains a whole
        entry), from the model-matrix and rule-hit rows pass one kept (``HeldReasons``).
        """
        t0 = time.perf_counter()
        out = held_reasons.explain(bundle, held_reasons.select(held))
        explained.append(out.select("entry_number", "line_number", "score", "reasons"))
        timings["explain"] += time.perf_counter() - t0
        return HeldReasons.top_reasons(out)

    def decide() -> pl.DataFrame:
        """Every entry's lane once all chunks are in, written to ``lanes``, and the reasons
        of the held entries' explained lines to ``line_reasons``."""
        t = time.perf_counter()
        scores = finish_entry_scores(
            pl.concat(partials, how="vertical_relaxed"), maybe_split=joiner.split()
        )
        # (the entries carry the importers' status since they were read)
        context = entries if entries is not None else pl.concat(contexts).unique("entry_number")
        lanes = assign_entry_lanes(
            scores,
            context,
            policy,
            seed=seed,
            decided_at=decided_at or datetime.now(UTC).replace(tzinfo=None),
            explain=explain,
        )
        held = lanes.filter(pl.col("reason_code").is_in(HELD))["entry_number"]
        reasons = (
            pl.concat(explained, how="vertical_relaxed").filter(
                pl.col("entry_number").is_in(held.implode())
            )
            if explained
            else pl.DataFrame(schema=_LINE_REASONS)
        )
        counts["explained_lines"] = reasons.height
        _write_frame(reasons, paths["line_reasons"])
        _write_frame(lanes, paths["lanes"])
        timings["lanes"] += time.perf_counter() - t
        return lanes

    finishing: Future[None] | None = None
    written: list[Future[None]] = []
    try:
        t = time.perf_counter()
        reading = io.submit(next_frame)
        while (got := reading.result()) is not None:
            frame, features = got
            reading = io.submit(next_frame)
            if entries is None:
                contexts.append(_entry_context(frame))
            timings["read_prepare"] += time.perf_counter() - t

            t = time.perf_counter()
            parts = score_parts(frame, bundle, explain=False, features=features)
            scored = parts.table
            timings["score_batch"] += time.perf_counter() - t

            t = time.perf_counter()
            if writer is None:
                writer = _writer(paths["line_scores"], scored.schema)
            # one chunk's aggregation and one chunk's write pending at a time, in order
            if finishing is not None:
                finishing.result()
            finishing = io.submit(finish_chunk, features[0], parts)
            if written:
                written[-1].result()
            written.append(writes.submit(write_chunk, writer, scored))
            timings["write_lines"] += time.perf_counter() - t
            n_lines += frame.height
            if on_chunk is not None:
                on_chunk(frame.height)
            t = time.perf_counter()
        t = time.perf_counter()
        if finishing is not None:
            finishing.result()
        timings["write_lines"] += time.perf_counter() - t
        io.shutdown(wait=True)
        if not partials:
            raise ValidationFailed(f"{source.lines}: no lines to score")
        lanes = decide()  # while the last chunk's scores are written
    finally:
        io.shutdown(wait=True, cancel_futures=True)
        writes.shutdown(wait=True, cancel_futures=True)
        if writer is not None:
            writer.close()
    for f in written:
        f.result()  # a failed write fails the run
    return ScoringRun(
        lanes=lanes,
        n_lines=n_lines,
        paths=paths,
        seconds=time.perf_counter() - started,
        timings=timings,
        counts=counts | {"held_entries": int(lanes["reason_code"].is_in(HELD).sum())},
    )


# Rules-only scoring: rule points become a probability as 1 - exp(-points / scale).  With 100,
# one heavy rule (80 points) gives 0.55 (exam threshold 0.5), a 35-point rule 0.30 (review).
RULES_ONLY_SCALE = 100.0


def rules_only_bundle(rules_dir: Path | None = None, reference: Any = None) -> Any:
    """A scoring bundle without a learned model: the targeting rules alone.

    Used by ``tradeguard score`` when no ``--model`` is given (before any outcome has been
    learned, or to see what the rules alone select).  The model part of every score is 0, so
    the score is ``1 - exp(-rule points / RULES_ONLY_SCALE)`` per issue and overall, mandatory
    holds work as usual, and revenue at risk is 0 (nothing was learned about losses).  Rules:
    ``rules_dir``, else the packaged starter set; the reference snapshot is the packaged U.S.
    reference data (AD/CVD scopes for ``adcvd_case_missing``), or ``reference`` (the loaded
    ``tradeguard.reference`` tables, e.g. the user's own files of the settings).
    """
    import hashlib

    from tradeguard.risk.bundle import ScoringBundle
    from tradeguard.risk.features import FeatureSpec
    from tradeguard.risk.frame import complete
    from tradeguard.risk.history import build_history
    from tradeguard.risk.model import ModelSet
    from tradeguard.risk.rules.loader import load_rules, starter_dir
    from tradeguard.risk.snapshot_build import snapshot_from_reference

    path = rules_dir or starter_dir()
    rules = load_rules(path)
    digest = hashlib.sha256()
    files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
    for f in files:
        digest.update(f.read_bytes())
    spec = FeatureSpec()
    return ScoringBundle(
        version=f"rules-only-{digest.hexdigest()[:10]}",
        spec=spec,
        models=ModelSet(feature_names=spec.names, overall=None, rule_scale=RULES_ONLY_SCALE),
        snapshot=snapshot_from_reference(reference),
        # empty but complete history tables (no outcome known): history features are 0
        history=build_history(
            complete(pl.DataFrame({"entry_number": []}, {"entry_number": pl.String})), None
        ),
        rules=rules,
        rules_dir=path,
        info={"kind": "rules-only", "rule_scale": RULES_ONLY_SCALE},
    )
