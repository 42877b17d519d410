"""The last mile to the canonical tables: entry numbers, IOR numbers, MIDs, parties, party truth.

Entry numbers are unique per filer and day: each filer owns a block of sequence numbers per
calendar day, sized at three times its expected daily entries, starting from a random offset.
Two runs of the same seed on consecutive windows therefore do not collide either.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from tradeguard.synth import calibration as cal
from tradeguard.synth import names
from tradeguard.synth.parties import Population
from tradeguard.synth.trade import entry_numbers

_EPOCH = dt.date(2020, 1, 1).toordinal()


def assign_manufacturers(
    lines: pl.DataFrame, entries: pl.DataFrame, pop: Population, start: dt.date
) -> pl.DataFrame:
    """Manufacturer of each line: one of a few stable suppliers of the importer per country;
    Xinjiang producers on forced-labor lines that show them.  A re-registered manufacturer's
    lines filed from its switch day carry its new MID."""
    origin = lines["origin"].to_numpy()
    entity = lines["entity"].to_numpy()
    slot = lines["mfr_slot"].to_numpy()
    keys = list(cal.COUNTRIES)
    o_idx = (
        pl.Series(origin).replace_strict({c: i for i, c in enumerate(keys)}, default=-1).to_numpy()
    )
    offset = np.array([pop.mfr_offset[c] for c in keys] + [0])[o_idx]
    count = np.array([pop.mfr_count[c] for c in keys] + [1])[o_idx]
    u = names.unit((entity * 8 + slot) * 128 + o_idx + 1, pop.salt, 33)
    mfr = offset + np.minimum((u * count).astype(np.int64), count - 1)
    xj_pool = pop.xinjiang_pool()
    xj = lines["xinjiang"].to_numpy() & (len(xj_pool) > 0)
    if xj.any():
        pick = names.unit(entity[xj] * 8 + slot[xj], pop.salt, 34) * len(xj_pool)
        mfr[xj] = xj_pool[pick.astype(np.int64)]
    mfr = np.where(o_idx >= 0, mfr, -1)
    used = np.unique(mfr[mfr >= 0])
    mids = pop.manufacturers(used).select("mfr", "mid", "switch", "new_mid")
    day = lines.select("entry").join(
        entries.select("entry", "day"), on="entry", how="left", maintain_order="left"
    )["day"]
    out = (
        lines.with_columns(mfr=mfr, _filed=pl.lit(start.toordinal()) + day)
        .join(mids, on="mfr", how="left", maintain_order="left")
        .with_columns(
            manufacturer_id=pl.when((pl.col("switch") > 0) & (pl.col("_filed") >= pl.col("switch")))
            .then(pl.col("new_mid"))
            .otherwise(pl.col("mid"))
        )
    )
    return out.drop("mid", "switch", "new_mid", "_filed")


def finalize_entries(
    rng: np.random.Generator,
    entries: pl.DataFrame,
    lines: pl.DataFrame,
    pop: Population,
    start: dt.date,
    scale: float,
) -> pl.DataFrame:
    """Add entry_number, filer_code, importer_id, consignee_id and lading_port."""
    ent = pop.entities
    n_ent = ent.height
    filers = pop.filers
    # Expected share of entries per filer: its importers' weight plus the 10% spread by size.
    w = ent["weight"].to_numpy()
    share = np.bincount(ent["filer"].to_numpy(), weights=w, minlength=filers.height) / w.sum()
    fw = filers["weight"].to_numpy()
    share = 0.9 * share + 0.1 * fw / fw.sum()
    cap = np.ceil(3 * cal.ENTRIES_PER_BUSINESS_DAY * scale * share + 30).astype(np.int64)
    base = rng.integers(0, 10_000_000, filers.height)

    order = entries.select("entry", "filer", "day", "filed_at").sort(
        "filer", "day", "filed_at", "entry"
    )
    order = order.with_columns(k=pl.int_range(pl.len()).over("filer", "day"))
    f = order["filer"].to_numpy()
    if (order["k"].to_numpy() >= cap[f]).any():
        raise RuntimeError("a filer's daily block of entry numbers overflowed")  # cap is 3x
    seq = (base[f] + (start.toordinal() - _EPOCH + order["day"].to_numpy()) * cap[f]
           + order["k"].to_numpy()) % 10_000_000  # fmt: skip
    codes = filers["filer_code"].gather(f)
    order = order.select("entry").with_columns(
        entry_number=entry_numbers(codes, seq), filer_code=codes
    )
    out = entries.join(order, on="entry", how="left", maintain_order="left")

    # Importer of record: a name changer files under its new IOR from its switch date.
    filed_ord = start.toordinal() + out["day"].to_numpy()
    e = out["entity"].to_numpy()
    record, _ = pop.current_record(e, filed_ord)
    importer = names.ior_numbers(record).to_numpy()
    other = rng.integers(0, n_ent, out.height)
    own = rng.random(out.height) < 0.9
    consignee_entity = np.where(own, e, other)
    # another firm is named by its current IOR, now and then by an old one it has shed -
    # less and less as its customers catch up with the change
    other_now, since = pop.current_record(other, filed_ord)
    p_stale = cal.STALE_CONSIGNEE_SHARE * np.exp(-(filed_ord - since) / cal.STALE_CONSIGNEE_DAYS)
    stale = names.unit(np.arange(out.height), pop.salt, 47) < p_stale
    other_ior = names.ior_numbers(np.where(stale, other, other_now)).to_numpy()
    consignee = np.where(own, importer, other_ior)

    # Foreign port of lading from the first line's export country (a Chinese port sometimes
    # on transshipped goods: the inconsistency a careful reviewer notices).
    first = lines.filter(pl.col("line_number") == 1).select("entry", "export_country")
    any_cn = lines.group_by("entry").agg(cn=pl.col("lading_cn").any())
    lad = (
        out.select("entry")
        .join(first, on="entry", how="left", maintain_order="left")
        .join(any_cn, on="entry", how="left", maintain_order="left")
    )
    cc = np.where(
        lad["cn"].fill_null(False).to_numpy(), "CN", lad["export_country"].fill_null("").to_numpy()
    )
    u = rng.random(out.height)
    lading = np.empty(out.height, dtype=object)
    for c in np.unique(cc):
        m = cc == c
        pool = cal.LADING_PORTS.get(str(c), (f"{c}ZZZ",))
        lading[m] = np.asarray(pool, dtype=object)[(u[m] * len(pool)).astype(np.int64)]
    return out.with_columns(
        importer_id=pl.Series(importer.astype(str)),
        consignee_entity=consignee_entity,
        consignee_id=pl.Series(consignee.astype(str)),
        lading_port=pl.Series(lading.astype(str)),
        export_date=pl.col("export_date").cast(pl.Date),
        arrival_date=pl.col("arrival_date").cast(pl.Date),
    )


def build_parties(
    entries: pl.DataFrame, lines: pl.DataFrame, pop: Population, start: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parties referenced by the generated entries and lines, and their real-world entities.

    A party is listed when the window's data name it: an IOR as importer or consignee, a MID
    on a line, a filer code.  A name changer's old IOR that files nothing in the window (it
    re-registered before it) is left out, as is a re-registered manufacturer's old MID
    without lines in it: a window's extract holds no trace of them, so ``party_truth`` -
    which lists exactly the parties - only links records that are there to be linked.
    """
    used = np.unique(
        np.concatenate([entries["entity"].to_numpy(), entries["consignee_entity"].to_numpy()])
    )
    sel = pop.importers(used)
    epoch = dt.date(1970, 1, 1).toordinal()

    def days(col: str) -> pl.Expr:
        return (pl.col(col) - epoch).cast(pl.Int32).cast(pl.Date)

    old = sel.select(
        party_id="ior", role=pl.lit("importer"), name="name", address="address", city="city",
        state="state", postal_code="postal_code", country=pl.lit("US"),
        first_seen=days("first_seen"), trusted_status="trusted_status",
        trusted_since=pl.when(pl.col("trusted_status") != "none").then(days("trusted_since")),
        trusted_verified=pl.when(pl.col("trusted_status") != "none").then(days("trusted_verified")),
        entity_id=pl.format("E{}", pl.col("entity").cast(pl.String).str.zfill(7)), kind="kind",
    )  # fmt: skip
    renamed = []
    for prefix, switch in (("new", "switch"), ("new2", "switch2")):
        renamed.append(
            sel.filter(pl.col(f"{prefix}_ior").is_not_null()).select(
                party_id=f"{prefix}_ior",
                role=pl.lit("importer"),
                name=f"{prefix}_name",
                address=f"{prefix}_address",
                city=f"{prefix}_city",
                state=f"{prefix}_state",
                postal_code=f"{prefix}_postal_code",
                country=pl.lit("US"),
                first_seen=days(switch),
                trusted_status=pl.lit("none"),
                trusted_since=pl.lit(None, pl.Date),
                trusted_verified=pl.lit(None, pl.Date),
                entity_id=pl.format("E{}", pl.col("entity").cast(pl.String).str.zfill(7)),
                kind="kind",
            )  # fmt: skip
        )
    fil = pop.filers.filter(pl.col("filer").is_in(entries["filer"].unique().to_list()))
    filers = fil.select(
        party_id="filer_code", role=pl.lit("filer"), name="name", address="address",
        city="city", state="state", postal_code="postal_code", country=pl.lit("US"),
        first_seen=pl.lit(dt.date(2000, 1, 1)), trusted_status=pl.lit("none"),
        trusted_since=pl.lit(None, pl.Date), trusted_verified=pl.lit(None, pl.Date),
        entity_id=pl.format("F{}", "filer_code"), kind=pl.lit("filer"),
    )  # fmt: skip
    used_mfr = lines["mfr"].unique().to_numpy()
    mf = pop.manufacturers(np.sort(used_mfr[used_mfr >= 0])).with_columns(
        entity_id=pl.format("M{}", pl.col("mfr").cast(pl.String).str.zfill(7)),
        kind=pl.when(pl.col("xinjiang")).then(pl.lit("xinjiang_linked")).otherwise(pl.lit("manufacturer")),
    )  # fmt: skip
    # a re-registered manufacturer appears with both MIDs, as importers with every IOR
    moved = mf.filter(pl.col("switch") > 0).select(
        "entity_id", "kind", "country", name="new_name", address="new_address",
        city="new_city", mid="new_mid", registered="switch",
    )  # fmt: skip
    mfr_records = pl.concat([mf.select(moved.columns), moved], how="vertical_relaxed").unique(
        "mid", keep="first", maintain_order=True
    )
    mfrs = mfr_records.select(
        party_id="mid", role=pl.lit("manufacturer"), name="name", address="address",
        city="city", state=pl.lit(None, pl.String), postal_code=pl.lit(None, pl.String),
        country="country", first_seen=days("registered"), trusted_status=pl.lit("none"),
        trusted_since=pl.lit(None, pl.Date), trusted_verified=pl.lit(None, pl.Date),
        entity_id="entity_id", kind="kind",
    )  # fmt: skip
    named = pl.concat(
        [
            entries.select(party_id="importer_id", role=pl.lit("importer")),
            entries.select(party_id="consignee_id", role=pl.lit("importer")),
            lines.select(party_id="manufacturer_id", role=pl.lit("manufacturer")),
        ]
    ).unique()
    records = pl.concat([old, *renamed, mfrs], how="vertical_relaxed").join(
        named, on=["party_id", "role"], how="semi", maintain_order="left"
    )
    allp = pl.concat([records, filers], how="vertical_relaxed")
    parties = allp.drop("entity_id", "kind")
    truth = allp.select("party_id", "entity_id", "kind")
    return parties, truth
