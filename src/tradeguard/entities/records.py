"""The comparison record of each importer and manufacturer party: name, place, activity, trade.

Entity resolution compares records on four kinds of evidence:

* **name** (``entities.normalise``): normalised tokens, sorted name, letters run together,
  token prefixes and consonant skeletons, and the blocking keys built from them;
* **place**: street address (and the street without its number), city, postal code, country;
* **succession**: when the record was registered (``first_seen``; ``recent`` when within
  :data:`RECENT_DAYS` of the end of the data), when it last filed (``last_filed``) and when it
  was last named at all (``last_active``: filings, and for importers mentions as consignee;
  else its registration);
  a re-registered firm's old record goes quiet when the new one appears, while honest firms
  that happen to share a name keep trading side by side;
* **trade** - what a firm does, which a new name and number do not change.  An importer keeps
  its suppliers (``partners``: manufacturer IDs), its goods (``goods``: HTS-6), its ports of
  entry (``ports``) and its broker (``brokers``: filer codes); a manufacturer keeps its
  customers (``partners``: importer IDs) and its goods.  Each is the record's most frequent
  values (at most :data:`LIMITS`), sorted; ``trade_keys`` are the few most frequent
  suppliers or customers, a second way (besides the name) into a comparison block, and
  ``premises`` (street address and postal code) a third, so that a firm trading under a name
  that shares nothing with its old one is still compared with it.
  Trade is known only where the record filed in the data (null otherwise).

``entries`` (ENTRIES columns ``entry_number, importer_id, consignee_id, filer_code, filed_at,
port_code``) and ``lines`` (``entry_number, manufacturer_id, hts``) are optional, as are their
optional columns: without them only name, place and registration are compared.
"""

from __future__ import annotations

import polars as pl

from tradeguard.entities.normalise import blocking_keys, name_columns

__all__ = ["LIMITS", "RESOLVED_ROLES", "TRADE_COLUMNS", "party_records"]

RESOLVED_ROLES = ("importer", "manufacturer")
RECENT_DAYS = 400
# values kept per record and trade column, the most frequent: what a firm mostly does (a large
# importer shares a few of its hundreds of suppliers and goods with many others by chance,
# its main ones rarely), and it bounds the comparison cost
LIMITS = {"partners": 8, "brokers": 2, "goods": 8, "ports": 3, "trade_keys": 3}
TRADE_COLUMNS = list(LIMITS)
_TRADE_SCHEMA: dict[str, pl.DataType] = {
    "party_id": pl.String(),
    "role": pl.String(),
    **{c: pl.List(pl.String) for c in TRADE_COLUMNS},
}


def _address(col: str) -> pl.Expr:
    return (
        pl.col(col)
        .fill_null("")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )


def _most_frequent(frame: pl.DataFrame, key: str, value: str, name: str) -> pl.DataFrame:
    """``party_id -> [value ...]``: the :data:`LIMITS` ``[name]`` most frequent values of each
    key, sorted (ties: the smaller value first)."""
    counted = frame.drop_nulls([key, value]).group_by(key, value).len()
    top = counted.sort(["len", value], descending=[True, False]).group_by(key).head(LIMITS[name])
    return top.group_by(key).agg(pl.col(value).sort().alias(name)).rename({key: "party_id"})


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


def _profile(frame: pl.DataFrame, key: str, values: dict[str, str], role: str) -> pl.DataFrame:
    """The trade columns of one role: ``values`` maps a trade column to the column of
    ``frame`` it counts per ``key``; columns ``frame`` lacks stay null."""
    out = frame.select(pl.col(key).alias("party_id")).drop_nulls().unique()
    for name, col in values.items():
        if col in frame.columns:
            out = out.join(_most_frequent(frame, key, col, name), on="party_id", how="left")
    out = out.with_columns(role=pl.lit(role))
    return out.select(
        [pl.col(c) if c in out.columns else pl.lit(None, t).alias(c)
         for c, t in _TRADE_SCHEMA.items()]
    )  # fmt: skip


def _trade(entries: pl.DataFrame | None, lines: pl.DataFrame | None) -> pl.DataFrame:
    """``party_id, role`` and the trade columns (:data:`TRADE_COLUMNS`) of importers (from
    the entries they filed and their lines) and manufacturers (from their lines)."""
    out = pl.DataFrame(schema=_TRADE_SCHEMA)
    if entries is None or not entries.height or "importer_id" not in entries.columns:
        return out
    heads = [c for c in ("importer_id", "filer_code", "port_code") if c in entries.columns]
    parts = [_profile(entries.select(heads), "importer_id",
                      {"brokers": "filer_code", "ports": "port_code"}, "importer")]  # fmt: skip
    if lines is not None and lines.height and "manufacturer_id" in lines.columns:
        cols = ["entry_number", "manufacturer_id"] + (["hts"] if "hts" in lines.columns else [])
        both = lines.select(cols).join(
            entries.select("entry_number", "importer_id"), on="entry_number", how="inner"
        )
        if "hts" in both.columns:
            both = both.with_columns(hts6=pl.col("hts").str.slice(0, 6))
        goods = {"goods": "hts6"}
        kept = ["partners", "goods", "trade_keys"]
        mine = {"partners": "manufacturer_id", **goods, "trade_keys": "manufacturer_id"}
        by_importer = _profile(both, "importer_id", mine, "importer")
        parts[0] = (
            parts[0]
            .drop(kept)
            .join(by_importer.select("party_id", *kept), on="party_id", how="left")
        )
        theirs = {"partners": "importer_id", **goods, "trade_keys": "importer_id"}
        parts.append(_profile(both, "manufacturer_id", theirs, "manufacturer"))
    return pl.concat([p.select(list(_TRADE_SCHEMA)) for p in parts], how="vertical_relaxed")


def party_records(
    parties: pl.DataFrame,
    entries: pl.DataFrame | None = None,
    lines: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One comparison record per importer and manufacturer party (see the module docstring).

    ``parties`` follows ``domain.schema.PARTIES``.  Columns: ``unique_id`` (role:party_id),
    ``party_id, role, name``, the name columns of :func:`~tradeguard.entities.normalise.name_columns`,
    ``block_keys``, ``address, street, city, postal_code, country``, ``first_seen`` (registered,
    else first active), ``recent``, ``last_active``, ``last_filed`` and the trade columns
    (:data:`TRADE_COLUMNS`).
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
    out = out.with_columns(
        block_keys=blocking_keys(out),
        # the premises (street address and postal code) as a key: records registered at one
        # address are compared whatever their names
        premises=pl.when((pl.col("address") != "") & pl.col("postal_code").is_not_null()).then(
            pl.concat_list(pl.col("address") + " " + pl.col("postal_code"))
        ),
    )
    out = (
        out.join(_activity(entries, lines), on=["party_id", "role"], how="left")
        .join(_trade(entries, lines), on=["party_id", "role"], how="left")
        .with_columns(
            # registered, else first seen; last seen: named last, else registered (a record
            # that never filed in the data keeps a null ``last_filed``)
            first_seen=pl.coalesce("registered", "first_active"),
            last_active=pl.coalesce("last_active", "registered"),
            # neighbours through one broker: the postal code with each main broker
            zip_brokers=pl.concat_list(
                pl.col("postal_code") + " " + pl.col("brokers").list.get(i, null_on_oob=True)
                for i in range(LIMITS["brokers"])
            ).list.drop_nulls(),
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
