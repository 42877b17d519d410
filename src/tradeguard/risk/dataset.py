"""Training and evaluation data: a generator output directory, or a mapped foreign file.

A :class:`Dataset` is the scoring frame of every line plus what is known about them:
``outcomes`` (OUTCOMES rows: the lines examined, reviewed, audited or randomly sampled, with
what was found and when it became known - the only labels training may use) and, for
synthetic data, ``truth`` (the generator's god's view of every line, used by offline
evaluation only).  :func:`load_dataset` reads a directory written by ``tradeguard generate``
(``<table>.parquet`` or ``<table>/*.parquet``); :mod:`tradeguard.risk.mapping` builds one from
another administration's declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import polars as pl

from tradeguard.errors import NotFound, ValidationFailed
from tradeguard.risk.frame import complete, scoring_frame

__all__ = ["Dataset", "load_dataset", "read_table", "read_links", "split_by_time"]


@dataclass(frozen=True)
class Dataset:
    """A scoring frame with its outcomes (labels) and, for synthetic data, the truth."""

    frame: pl.DataFrame
    outcomes: pl.DataFrame | None = None
    truth: pl.DataFrame | None = None
    parties: pl.DataFrame | None = None
    allegations: pl.DataFrame | None = None
    extra_numeric: list[str] = field(default_factory=list)
    extra_categorical: list[str] = field(default_factory=list)
    source: str = ""
    # party -> resolved entity (``party_id, role, entity_id``; ``entities.resolve``): history
    # follows the entity, so a re-registered importer keeps its past
    entity_map: pl.DataFrame | None = None

    @property
    def labels_source(self) -> str:
        return "truth" if self.truth is not None else "outcomes"

    def eval_labels(self) -> pl.DataFrame:
        """``entry_number, line_number, y (0/1), revenue`` for every line of the frame.

        From ``truth`` when present (the generator's god's view: fine for offline
        evaluation, never for training), else from the outcomes (a mapped file's labels).
        """
        keys = self.frame.select("entry_number", pl.col("line_number").cast(pl.Int32))
        if self.truth is not None:
            lab = self.truth.select(
                "entry_number",
                pl.col("line_number").cast(pl.Int32),
                pl.col("violation").is_not_null().cast(pl.Int8).alias("y"),
                pl.col("revenue_loss_usd").fill_null(0.0).alias("revenue"),
            )
        elif self.outcomes is not None:
            lab = line_labels(self.outcomes).select("entry_number", "line_number", "y", "revenue")
        else:
            raise ValidationFailed(f"{self.source}: no labels (neither truth nor outcomes)")
        return keys.join(lab, on=["entry_number", "line_number"], how="left").with_columns(
            pl.col("y").fill_null(0), pl.col("revenue").fill_null(0.0)
        )


def line_labels(outcomes: pl.DataFrame) -> pl.DataFrame:
    """One label row per inspected line (a line may be examined and later audited)."""
    return (
        outcomes.with_columns(pl.col("line_number").cast(pl.Int32))
        .group_by(["entry_number", "line_number"])
        .agg(
            pl.col("violation").is_not_null().any().cast(pl.Int8).alias("y"),
            pl.col("pti").drop_nulls().first().alias("pti"),
            pl.col("revenue_found_usd").fill_null(0.0).max().alias("revenue"),
            pl.col("known_at").min().alias("known_at"),
            (pl.col("selected_by") == "random").any().alias("random"),
        )
    )


def read_table(directory: Path, name: str) -> pl.DataFrame | None:
    """``<dir>/<name>.parquet`` or every Parquet file under ``<dir>/<name>/``; None if absent."""
    f = directory / f"{name}.parquet"
    if f.exists():
        return pl.read_parquet(f)
    d = directory / name
    if d.is_dir():
        files = sorted(d.rglob("*.parquet"))
        if files:
            return pl.concat([pl.read_parquet(p) for p in files], how="diagonal_relaxed")
    return None


def load_dataset(path: Path | str) -> Dataset:
    """Read a ``tradeguard generate`` output directory (entries, lines, parties, outcomes ...)."""
    d = Path(path)
    if not d.is_dir():
        raise NotFound(f"{d}: not a directory of generated data (use --mapping for a file)")
    entries, lines = read_table(d, "entries"), read_table(d, "lines")
    if entries is None or lines is None:
        raise NotFound(
            f"{d}: entries and lines tables are required (entries.parquet, lines.parquet)"
        )
    parties = read_table(d, "parties")
    frame = pl.from_arrow(scoring_frame(entries, lines, parties))
    assert isinstance(frame, pl.DataFrame)
    return Dataset(
        frame=complete(frame),
        outcomes=read_table(d, "outcomes"),
        truth=read_table(d, "truth"),
        parties=parties,
        allegations=read_table(d, "allegations"),
        source=str(d),
    )


def read_links(path: Path | str) -> pl.DataFrame:
    """An entity resolution's links (``entity_links.parquet`` of ``tradeguard entities
    resolve --out``, or any Parquet file with ``party_id``, ``entity_id`` and optionally
    ``role``) as the party -> entity map the history reads."""
    from tradeguard.entities.accounts import resolved_party_map
    from tradeguard.errors import Issue

    p = Path(path)
    if not p.is_file():
        raise NotFound(f"{p}: no such links file (write one with tradeguard entities resolve)")
    try:
        links = pl.read_parquet(p)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ValidationFailed(f"{p}: not a Parquet file of links") from exc
    missing = [c for c in ("party_id", "entity_id") if c not in links.columns]
    if missing:
        raise ValidationFailed(
            f"{p}: not a file of entity links",
            issues=[Issue(c, "required column missing", None) for c in missing],
        )
    return resolved_party_map(links)


def split_by_time(ds: Dataset, test_fraction: float = 0.25) -> tuple[Dataset, Dataset, datetime]:
    """Split at the filing time below which ``1 - test_fraction`` of the lines fall.

    Outcomes go with their line's side; the training side keeps only those known before the
    cut (what the administration knew when the model was trained).
    """
    cut = ds.frame["filed_at"].quantile(1.0 - test_fraction, "nearest")
    assert isinstance(cut, datetime)
    before = ds.frame.filter(pl.col("filed_at") < cut)
    after = ds.frame.filter(pl.col("filed_at") >= cut)

    def keep(t: pl.DataFrame | None, frame: pl.DataFrame) -> pl.DataFrame | None:
        if t is None:
            return None
        return t.join(
            frame.select("entry_number", pl.col("line_number").cast(pl.Int32)),
            on=["entry_number", "line_number"],
            how="semi",
        )

    train_out = keep(ds.outcomes, before)
    if train_out is not None:
        train_out = train_out.filter(pl.col("known_at") < cut)
    train = replace(ds, frame=before, outcomes=train_out, truth=keep(ds.truth, before))
    test = replace(ds, frame=after, outcomes=keep(ds.outcomes, after), truth=keep(ds.truth, after))
    return train, test, cut
