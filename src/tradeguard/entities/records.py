"""The comparison record of each importer and manufacturer party: name, place, activity, trade.

Entity resolution compares records on four kinds of evidence:

* **name** (``entities.normalise``): normalised tokens, sorted name, letters run together,
  token prefixes and consonant skeletons, and the blocking keys built from them;
* **place**: street address (and the street without its number), city, postal code, country;
* **succession**: when the record was registered (``first_seen``; ``recent`` when within
  :data:`RECENT_DAYS` of the end of the data) and last seen active; a re-registered firm's old
  record goes quiet when the new one appears, while honest firms that happen to share a name
  keep trading side by side;
* **trade**: who the record trades with.  An importer keeps its suppliers (manufacturer IDs)
  and its broker when it changes its IOR; a manufacturer keeps its customers (importers) when
  it changes its MID.  Available only where the record filed in the data.

``entries`` (ENTRIES columns ``entry_number, importer_id, consignee_id, filer_code,
filed_at``) and ``lines`` (``entry_number, manufacturer_id``) are optional: without them only
name, place and registration are compared.
"""

from __future__ import annotations

import polars as pl

from tradeguard.entities.normalise import blocking_keys, name_columns

__all__ = ["RESOLVED_ROLES", "party_records"]

RESOLVED_ROLES = ("importer", "manufacturer")
RECENT_DAYS = 400
_MAX_PARTNERS = 40  # trade partners kept per record (the most frequent): bounds comparison cost


def _address(col: str) -> pl.Expr:
    return (
        pl.col(col)
        .fill_null("")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )


def _partners(frame: pl.DataFrame, key: str, partner: str, name: str) -> pl.DataFrame:
    """``key -> [partner ...]``: the most frequent partners of each key (at most
    :data:`_MAX_PARTNERS`), sorted; records without partners get none (null)."""
    counted = frame.drop_nulls([key, partner]).group_by(key, partner).len()
    top = counted.sort(["len", partner], descending=[True, False]).group_by(key).head(_MAX_PARTNERS)
    return top.group_by(key).agg(pl.col(partner).sort().alias(name)).rename({key: "party_id"})


def _activity(entries: pl.DataFrame | None, lines: pl.DataFrame | None) -> pl.DataFrame:
    """``party_id, role, first_active, last_active, last_filed`` from the filings."""
    schema: dict[str, pl.DataType] = {
        "party_id": pl.String(),
        "role": pl.String(),
        "first_active": pl.Date(),
        "last_active": pl.Date(),
        "last_filed": pl.Date(),
    }
    parts = [pl.DataFrame(schema=schema)]
    if entries is not None and entries.height:
        at = pl.col("filed_at").cast(pl.Date)
        acts = [entries.select(party_id="importer_id", at=at, filed=at)]
        if "consignee_id" in entries.columns:
            # a consignee named on entries is alive, whoever filed them (a consignee may
            # still quote a re-registered firm's old number: hence ``last_filed`` apart)
            acts.append(entries.select(party_id="consignee_id", at=at, filed=pl.lit(None, pl.Date)))
        parts.append(
            pl.concat(acts, how="vertical_relaxed")
            .drop_nulls("party_id")
            .group_by("party_id")
            .agg(
                first_active=pl.col("at").min(),
                last_active=pl.col("at").max(),
                last_filed=pl.col("filed").max(),
            )
            .with_columns(role=pl.lit("importer"))
        )
        if lines is not None and lines.height and "manufacturer_id" in lines.columns:
            made = lines.select("entry_number", "manufacturer_id").join(
                entries.select("entry_number", at=at), on="entry_number", how="inner"
            )
            parts.append(
                made.drop_nulls("manufacturer_id")
                .group_by(party_id="manufacturer_id")
                .agg(first_active=pl.col("at").min(), last_active=pl.col("at").max())
                .with_columns(role=pl.lit("manufacturer"), last_filed=pl.col("last_active"))
            )
    return pl.concat([p.select(list(schema)) for p in parts], how="vertical_relaxed")


def _trade(entries: pl.DataFrame | None, lines: pl.DataFrame | None) -> pl.DataFrame:
    """``party_id, role, partners, brokers``: suppliers and brokers of importers, customers of
    manufacturers."""
    schema: dict[str, pl.DataType] = {
        "party_id": pl.String(),
        "role": pl.String(),
        "partners": pl.List(pl.String),
        "brokers": pl.List(pl.String),
    }
    out = pl.DataFrame(schema=schema)
    if entries is None or lines is None or not entries.height or "manufacturer_id" not in lines:
        return out
    keep = [c for c in ("importer_id", "filer_code") if c in entries.columns]
    both = lines.select("entry_number", "manufacturer_id").join(
        entries.select("entry_number", *keep), on="entry_number", how="inner"
    )
    suppliers = _partners(both, "importer_id", "manufacturer_id", "partners")
    if "filer_code" in entries.columns:
        brokers = _partners(entries, "importer_id", "filer_code", "brokers")
        suppliers = suppliers.join(brokers, on="party_id", how="full", coalesce=True)
    else:
        suppliers = suppliers.with_columns(brokers=pl.lit(None, pl.List(pl.String)))
    customers = _partners(both, "manufacturer_id", "importer_id", "partners").with_columns(
        brokers=pl.lit(None, pl.List(pl.String))
    )
    return pl.concat(
        [
            suppliers.with_columns(role=pl.lit("importer")).select(list(schema)),
            customers.with_columns(role=pl.lit("manufacturer")).select(list(schema)),
        ],
        how="vertical_relaxed",
    )


def party_records(
    parties: pl.DataFrame,
    entries: pl.DataFrame | None = None,
    lines: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One comparison record per importer and manufacturer party (see the module docstring).

    ``parties`` follows ``domain.schema.PARTIES``.  Columns: ``unique_id`` (role:party_id),
    ``party_id, role, name``, the name columns of :func:`~tradeguard.entities.normalise.name_columns`,
    ``block_keys``, ``address, street, city, postal_code, country``, ``first_seen`` (registered,
    else first active), ``recent``, ``last_active``, ``last_filed``, ``partners``, ``brokers``.
    """
    p = parties.filter(pl.col("role").is_in(RESOLVED_ROLES))
    has = set(p.columns)
    out = p.select(
        *name_columns(pl.col("name")),
        unique_id=pl.concat_str([pl.col("role"), pl.col("party_id")], separator=":"),
        party_id="party_id",
        role="role",
        name="name",
        address=_address("address"),
        street=_address("address").str.replace(r"^\d+\s*", ""),
        city=pl.col("city").str.to_lowercase() if "city" in has else pl.lit(None, pl.String),
        postal_code=pl.col("postal_code") if "postal_code" in has else pl.lit(None, pl.String),
        country=pl.col("country") if "country" in has else pl.lit(None, pl.String),
        registered=pl.col("first_seen").cast(pl.Date)
        if "first_seen" in has
        else pl.lit(None, pl.Date),
    ).unique("unique_id", keep="first")
    out = out.with_columns(block_keys=blocking_keys(out))
    out = (
        out.join(_activity(entries, lines), on=["party_id", "role"], how="left")
        .join(_trade(entries, lines), on=["party_id", "role"], how="left")
        .with_columns(
            # registered, else first seen filing; last seen: its last filing, else registration
            first_seen=pl.coalesce("registered", "first_active"),
            last_active=pl.coalesce("last_active", "registered"),
            last_filed=pl.coalesce("last_filed", "registered"),
        )
    )
    # registered within about a year of the end of the data: a re-registration is found while
    # it is recent, so a record that appeared lately after another went quiet says more
    end = out.select(pl.max_horizontal(pl.col("last_active").max(), pl.col("first_seen").max()))
    as_of = end.item()
    recent = (
        pl.col("first_seen") >= pl.lit(as_of) - pl.duration(days=RECENT_DAYS)
        if as_of is not None
        else pl.lit(False)
    )
    out = out.with_columns(recent=recent.fill_null(False))
    return out.drop("registered", "first_active").sort("unique_id")
