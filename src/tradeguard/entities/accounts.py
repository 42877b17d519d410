"""Accounts follow the resolved entity: the party -> entity map and re-keying by it.

Once :mod:`tradeguard.entities.resolve` has linked a re-registered importer's new IOR to its
old one, every history lookup (prior exams, findings, revenue found, volume, age) must read
the *entity's* history, not the record's.  :func:`rekey_parties` does that to any frame with
``importer_id`` / ``manufacturer_id`` columns; the risk core applies it, with the map frozen
into its history tables, to the frame the history is built from and to the frame it scores.

Pure polars (no database imports at module level): the risk core may call it.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa

__all__ = ["resolved_party_map", "rekey_parties", "PARTY_COLUMNS", "MAP_SCHEMA"]

# frame column -> the role of the party it names
PARTY_COLUMNS = {"importer_id": "importer", "manufacturer_id": "manufacturer"}
MAP_SCHEMA = {"party_id": pl.String(), "role": pl.String(), "entity_id": pl.String()}


def resolved_party_map(source: Any) -> pl.DataFrame:
    """The party -> entity map (``party_id, role, entity_id``) of a resolution.

    ``source`` is a frame or Arrow table with those columns (``ResolveResult.links``, a
    Parquet file read back), a SQLAlchemy connection or engine (the ``entity_links`` table), or
    None (an empty map).
    """
    if source is None:
        return pl.DataFrame(schema=MAP_SCHEMA)
    if isinstance(source, pa.Table):
        source = pl.from_arrow(source)
    if isinstance(source, pl.DataFrame):
        role = source["role"] if "role" in source.columns else pl.lit(None, pl.String)
        return source.select(
            pl.col("party_id").cast(pl.String),
            role.cast(pl.String).alias("role") if isinstance(role, pl.Series) else role,
            pl.col("entity_id").cast(pl.String),
        )
    from sqlalchemy import select

    from tradeguard.storage.tables_entities import entity_links as t

    def read(conn: Any) -> pl.DataFrame:
        rows = conn.execute(select(t.c.party_id, t.c.role, t.c.entity_id)).all()
        return pl.DataFrame([tuple(r) for r in rows], schema=MAP_SCHEMA, orient="row")

    if hasattr(source, "connect") and not hasattr(source, "execute"):
        with source.connect() as conn:
            return read(conn)
    return read(source)


def rekey_parties(frame: pl.DataFrame, party_map: pl.DataFrame | None) -> pl.DataFrame:
    """``frame`` with ``importer_id`` and ``manufacturer_id`` replaced by their entity ids.

    Parties the map does not know keep their own id; rows and their order are unchanged.
    """
    if party_map is None or party_map.height == 0:
        return frame
    out = frame
    for column, role in PARTY_COLUMNS.items():
        if column not in out.columns:
            continue
        m = party_map
        if "role" in m.columns:
            m = m.filter(pl.col("role").is_null() | (pl.col("role") == role))
        m = m.select(pl.col("party_id").alias(column), pl.col("entity_id").alias("_entity"))
        m = m.unique(column, keep="first")
        out = (
            out.join(m, on=column, how="left", maintain_order="left")
            .with_columns(pl.coalesce("_entity", column).alias(column))
            .drop("_entity")
        )
    return out
