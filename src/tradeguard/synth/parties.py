"""The population behind the trade: importer entities, their IOR records, filers, manufacturers.

An *entity* is a real-world importer; a *party* is a record in the system (an IOR number with a
name and address).  Most entities have one party.  Name changers, violators who re-register
after a penalty, have two or three: the old IOR until their switch date, a new one (new number,
varied name, first seen at the switch) after it, and for some a third after a second switch.
A new record sits at the old premises, in the same city or elsewhere
(``calibration.SUCCESSOR_*``); the firm behind it carries on as before - the same suppliers,
goods, ports and broker, which are drawn per entity, not per record.  Some port shoppers
change names too.  Manufacturers re-register as well: a share of them ships under a new MID
(varied name, new street, sometimes another city) from a switch date inside the window
(``synth.renames``).  ``party_truth`` records every link.  New importers keep registering
during the window (:func:`register_in_window`), so a new IOR is not by itself a sign.

Sizes are heavy-tailed and come in two tiers (see ``calibration``): the top ~0.4% of
importers share about half of the entries, the long tail the rest, with weights taken from
quantiles (deterministic in rank, randomly assigned to ids) so that the concentration holds at
every scale, not only on lucky draws.  Trusted partners (CTPAT, CTPAT Trade Compliance) are a
few percent of importers, concentrated among the largest; violators (5%) are spread over all
sizes, fewer among the largest and among trusted partners, more among new importers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from tradeguard.synth import calibration as cal
from tradeguard.synth import names, renames

VIOLATION_TYPES = tuple(cal.VIOLATION_MIX)


@dataclass(frozen=True)
class Population:
    """Importer entities (one row each, column ``entity``), filers and manufacturer pools.

    Names, addresses and MIDs are not stored: :meth:`importers` and :meth:`manufacturers`
    compute them for the ids a window uses (they are hashes of the seed's salt and the id).
    """

    entities: pl.DataFrame
    filers: pl.DataFrame  # filer_code, name, address, city, state, postal_code, weight
    mfr_offset: dict[str, int]  # first manufacturer index of each country's pool
    mfr_count: dict[str, int]
    salt: int
    start_ord: int = 0  # first day of the window (ordinal)
    days: int = 1

    def xinjiang(self, mfr: np.ndarray) -> np.ndarray:
        """Whether each manufacturer sits in Xinjiang (1.5% of the Chinese pool)."""
        lo, n = self.mfr_offset["CN"], self.mfr_count["CN"]
        in_cn = (mfr >= lo) & (mfr < lo + n)
        return in_cn & (names.hashed(mfr, self.salt, 20) % np.uint64(1000) < np.uint64(15))

    def xinjiang_pool(self) -> np.ndarray:
        lo, n = self.mfr_offset["CN"], self.mfr_count["CN"]
        pool = np.arange(lo, lo + n)
        out: np.ndarray = pool[self.xinjiang(pool)]
        return out

    def manufacturers(self, mfr: np.ndarray) -> pl.DataFrame:
        """Country, name, address, city, MID and Xinjiang flag of manufacturers ``mfr``, their
        registration day (``registered``, ordinal) and, for those re-registering in the
        window, the day they switch (``switch``, ordinal; 0 = never) and the new record
        (``new_name``, ``new_address``, ``new_city``, ``new_mid``)."""
        keys = list(self.mfr_offset)
        starts = np.array([self.mfr_offset[k] for k in keys])
        country = np.array(keys)[np.searchsorted(starts, mfr, side="right") - 1]
        xj = self.xinjiang(mfr)
        frame = names.manufacturer_frame(
            mfr, country, xj, self.salt, cal.CITIES, cal.XINJIANG_CITIES
        )
        share = np.where(
            np.isin(country, cal.MFR_TRANSSHIP_COUNTRIES),
            cal.MFR_REREGISTER_SHARE_TRANSSHIP,
            cal.MFR_REREGISTER_SHARE,
        )
        moved = names.unit(mfr, self.salt, 44) < share
        switch = self.start_ord + (names.unit(mfr, self.salt, 45) * self.days).astype(np.int64)
        registered = (
            self.start_ord - 365 - (names.unit(mfr, self.salt, 46) * 15 * 365).astype(np.int64)
        )
        new = renames.manufacturer_variants(
            frame, mfr, self.salt, cal.CITIES, names.STREETS, names.CA_PROVINCE
        )
        out = frame.with_columns(
            mfr=pl.Series(mfr),
            xinjiang=pl.Series(xj),
            registered=pl.Series(registered),
            switch=pl.Series(np.where(moved, switch, 0)),
        )
        return out.with_columns(
            pl.when(pl.col("switch") > 0).then(new[c]).alias(f"new_{c}")
            for c in ("name", "address", "city", "mid")
        )

    def current_record(
        self, entity: np.ndarray, day_ord: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per filing: the id whose IOR number entity ``entity`` files under on day ``day_ord``
        (its own, or a new record's after a switch) and the first day of that record."""
        ent = self.entities
        sw, sw2 = ent["switch"].to_numpy()[entity], ent["switch2"].to_numpy()[entity]
        n1, n2 = ent["new_id"].to_numpy()[entity], ent["new_id2"].to_numpy()[entity]
        after1 = (n1 >= 0) & (day_ord >= sw)
        after2 = (n2 >= 0) & (day_ord >= sw2)
        record = np.where(after2, n2, np.where(after1, n1, entity))
        seen = np.where(after2, sw2, np.where(after1, sw, ent["first_seen"].to_numpy()[entity]))
        return record, seen

    def importers(self, entity: np.ndarray) -> pl.DataFrame:
        """IOR, name and address of entities, plus the new records of name changers
        (``new_*`` after the first switch, ``new2_*`` after the second)."""
        rows = self.entities[entity]
        name = names.company_names(entity, self.salt)
        out = rows.with_columns(ior=names.ior_numbers(entity), name=name).hstack(
            names.us_addresses(entity, self.salt)
        )
        first = renames.importer_name_variants(name, entity, self.salt)
        second = renames.importer_name_variants(first, entity, self.salt, field=19)
        # a second renaming never goes back to the original name
        second = pl.select(
            pl.when(second == name).then(second + " Group").otherwise(second)
        ).to_series()
        place = ("address", "city", "state", "postal_code")
        before = out.select(place)  # where the previous record sat
        for prefix, id_col, new_name, field in (
            ("new", "new_id", first, 60),
            ("new2", "new_id2", second, 61),
        ):
            new_id = rows[id_col].to_numpy()
            changed = pl.Series(new_id >= 0)
            addr = _successor_address(
                before, names.us_addresses(np.where(new_id >= 0, new_id, entity), self.salt),
                names.unit(entity, self.salt, field),
            )  # fmt: skip
            out = out.with_columns(
                pl.when(changed)
                .then(names.ior_numbers(np.maximum(new_id, 0)))
                .alias(f"{prefix}_ior"),
                pl.when(changed).then(new_name).alias(f"{prefix}_name"),
                *[addr[c].alias(f"{prefix}_{c}") for c in place],
            )
            before = addr
        return out


def _successor_address(before: pl.DataFrame, moved: pl.DataFrame, u: np.ndarray) -> pl.DataFrame:
    """Where a re-registered importer's new record sits (``u`` uniform per firm): at the
    previous record's premises (:data:`~calibration.SUCCESSOR_SAME_ADDRESS`), on another
    street of the same city (:data:`~calibration.SUCCESSOR_SAME_CITY`), else ``moved``."""
    stay = pl.Series(u < cal.SUCCESSOR_SAME_ADDRESS)
    town = pl.Series(u < cal.SUCCESSOR_SAME_ADDRESS + cal.SUCCESSOR_SAME_CITY)
    return pl.DataFrame(
        {
            "address": pl.select(
                pl.when(stay).then(before["address"]).otherwise(moved["address"])
            ).to_series(),
            **{
                c: pl.select(pl.when(town).then(before[c]).otherwise(moved[c])).to_series()
                for c in ("city", "state", "postal_code")
            },
        }
    )


def register_in_window(pop: Population, entity: np.ndarray, day: np.ndarray) -> Population:
    """New importers keep registering during the window, as they did before it.

    A share ``days / (90 + days)`` of the new importers (firms that never re-register)
    registers inside the window rather than in the 90 days before it: 0 to 6 days before its
    first entry (``entity``, ``day``: the window's filings), or on a drawn day when it files
    none.  Without them every IOR first seen inside a window would be a re-registration.
    """
    ent = pop.entities
    ids = ent["entity"].to_numpy()
    share = pop.days / (90 + pop.days)
    chosen = (
        ent["new"].to_numpy() & ~ent["changer"].to_numpy() & (names.unit(ids, pop.salt, 62) < share)
    )
    first = np.full(ent.height, pop.days, dtype=np.int64)
    np.minimum.at(first, entity, day.astype(np.int64))
    drawn = (names.unit(ids, pop.salt, 63) * pop.days).astype(np.int64)
    lag = (names.hashed(ids, pop.salt, 64) % np.uint64(cal.NEW_IMPORTER_LAG_DAYS)).astype(np.int64)
    registered = pop.start_ord + np.where(first < pop.days, first - lag, drawn)
    first_seen = np.where(chosen, registered, ent["first_seen"].to_numpy())
    return replace(pop, entities=ent.with_columns(first_seen=pl.Series(first_seen)))


def _pareto_weights(n: int, alpha: float) -> np.ndarray:
    """Activity weights by rank (rank 0 the largest) from Pareto quantiles."""
    q = (np.arange(n) + 0.5) / n
    return q ** (-1.0 / alpha)


def importer_weights(n: int) -> tuple[np.ndarray, int]:
    """Entry weights by rank for ``n`` importers (summing to 1) and the size of the top tier."""
    k = max(1, round(n * cal.TOP_IMPORTER_SHARE))
    qt = (np.arange(k) + 0.5) / k
    top = (qt + 0.05) ** -cal.TOP_ZIPF_BETA
    rest = _pareto_weights(n - k, cal.REST_PARETO_ALPHA)
    weights: np.ndarray = np.concatenate(
        [top / top.sum() * cal.TOP_ENTRY_SHARE, rest / rest.sum() * (1 - cal.TOP_ENTRY_SHARE)]
    )
    return weights, k


def build_population(
    rng: np.random.Generator, scale: float, start: dt.date, days: int
) -> Population:
    """Draw the importer universe, filers and manufacturers for ``scale`` (1 = U.S. size)."""
    n = max(200, round(cal.IMPORTERS * scale))
    rank = rng.permutation(n)  # rank of entity i; ids carry no size information
    by_rank, k_top = importer_weights(n)
    weight = by_rank[rank]
    top = rank < k_top
    mid_tier = (rank < round(n * 0.04)) & ~top

    # Trusted partners: a few percent of importers, concentrated among the largest.
    p_trusted = np.where(top, 0.6, np.where(mid_tier, 0.12, 0.015))
    trusted = rng.random(n) < p_trusted
    tc = trusted & (rng.random(n) < np.where(top, 0.45, 0.2))
    status = np.where(tc, "ctpat_tc", np.where(trusted, "ctpat", "none"))

    # First seen: most importers are years old; a slice is new (the last 90 days).
    age_days = np.minimum(rng.exponential(8 * 365, n), 30 * 365).astype(np.int64) + 90
    age_days = np.where(top, np.maximum(age_days, 5 * 365), age_days)
    new = (rng.random(n) < cal.NEW_IMPORTER_SHARE) & ~top & ~trusted
    age_days = np.where(new, rng.integers(0, 90, n), age_days)
    start_ord = start.toordinal()
    first_seen = start_ord - age_days
    trusted_since = np.where(trusted, first_seen + rng.integers(365, 4 * 365, n), 0)
    trusted_since = np.minimum(trusted_since, start_ord - 30)
    trusted_verified = np.where(trusted, start_ord - rng.integers(30, 3 * 365, n), 0)
    trusted_verified = np.maximum(trusted_verified, trusted_since)

    # Behaviour: a few entities run a persistent scheme; trusted ones rarely, small ones more.
    p_violator = cal.VIOLATOR_SHARE * np.where(top, 0.5, 1.0) * np.where(trusted, 0.25, 1.0)
    p_violator = p_violator * np.where(new, 2.0, 1.0)
    violator = rng.random(n) < p_violator
    risk = np.exp(rng.normal(0.0, 0.4, n))
    risk = np.where(violator, cal.VIOLATOR_RISK * np.exp(rng.normal(0.0, 0.5, n)), risk)
    risk = risk * np.where(new, cal.NEW_IMPORTER_RISK, 1.0)
    risk = risk * np.where(trusted, cal.TRUSTED_RISK, 1.0)
    mix = np.array(list(cal.VIOLATION_MIX.values()), dtype=float)
    scheme = rng.choice(len(mix), n, p=mix / mix.sum())

    u = rng.random(n)
    switch_draw = rng.integers(-365, days + 1, n)

    origins = np.array(list(cal.COUNTRIES))
    entry_share = np.array([v[1] for v in cal.COUNTRIES.values()])
    primary = rng.choice(len(origins), n, p=entry_share / entry_share.sum())

    n_filers = max(20, round(cal.FILERS * scale))
    filer_w = _pareto_weights(n_filers, 1.3)
    filer_of = rng.choice(n_filers, n, p=filer_w / filer_w.sum())
    salt = int(rng.integers(0, 2**31))

    # Evaders.  Extra choices are hashes of the salt (not draws), so the stream that drives
    # the trade itself is the same as without them.
    ids = np.arange(n)
    busy = (rank < round(n * cal.BUSY_IMPORTER_SHARE)) & ~top
    shopper = violator & (
        (u > 1 - cal.PORT_SHOPPER_SHARE_OF_VIOLATORS)
        | (busy & (names.unit(ids, salt, 40) < cal.ACTIVE_PORT_SHOPPER_SHARE))
    )
    changer = (
        violator
        & ~trusted
        & (
            (u < cal.NAME_CHANGER_SHARE_OF_VIOLATORS)
            | (shopper & (names.unit(ids, salt, 41) < cal.SHOPPER_NAME_CHANGER_SHARE))
        )
    )
    # a firm re-registers at least a month after it first appeared, within the window at the
    # latest (a younger firm keeps its first IOR)
    last_day = start_ord + days - 1
    # some re-register during the window itself, after filing under the old IOR for a while:
    # the data then hold both identities' trade (and the old one's findings)
    early = days // 3
    in_window = start_ord + early + (names.unit(ids, salt, 48) * (days - early)).astype(np.int64)
    drawn = np.where(
        names.unit(ids, salt, 49) < cal.IN_WINDOW_SWITCH_SHARE, in_window, start_ord + switch_draw
    )
    switch_day = np.maximum(drawn, first_seen + 30)
    changer &= switch_day <= last_day
    switch = np.where(changer, switch_day, 0)
    twice = changer & (names.unit(ids, salt, 42) < cal.TWICE_RENAMED_SHARE) & (switch < last_day)
    span = np.maximum(last_day - switch, 1)
    switch2 = np.where(twice, switch + 1 + (names.unit(ids, salt, 43) * span).astype(np.int64), 0)
    kind = np.where(
        shopper,
        "port_shopper",
        np.where(changer, "name_changer", np.where(violator, "violator", "honest")),
    )

    # Name changers' new records get ids after the universe (their new IOR numbers).
    new_id = np.where(changer, n + np.cumsum(changer) - 1, -1)
    new_id2 = np.where(twice, n + int(changer.sum()) + np.cumsum(twice) - 1, -1)
    entities = pl.DataFrame(
        {
            "entity": ids,
            # a port shopper ships often (it has held goods to re-present)
            "weight": np.where(shopper, weight * cal.PORT_SHOPPER_ACTIVITY, weight),
            "rank": rank,
            "top": top,
            "first_seen": first_seen,
            "trusted_status": status,
            "trusted_since": trusted_since,
            "trusted_verified": trusted_verified,
            "new": new,
            # a port shopper's goods are mostly non-compliant: that is why it shops
            "risk": np.where(shopper, risk * cal.PORT_SHOPPER_RISK, risk),
            "kind": kind,
            "scheme": scheme,
            "changer": changer,
            "shopper": shopper,
            "switch": switch,
            "new_id": new_id,
            "switch2": switch2,
            "new_id2": new_id2,
            "primary_origin": origins[primary],
            "filer": filer_of,
        }
    )
    filers = _filers(rng, n_filers, filer_w, salt)
    offsets, counts = _manufacturer_pools(n)
    return Population(entities, filers, offsets, counts, salt, start_ord, days)


def _filers(rng: np.random.Generator, n: int, weight: np.ndarray, salt: int) -> pl.DataFrame:
    """Customs brokers with distinct 3-character filer codes (a letter, then letters/digits)."""
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    codes = rng.choice(26 * 36 * 36, n, replace=False)
    code = (
        pl.Series(alphabet[codes // (36 * 36)])
        + pl.Series(alphabet[codes // 36 % 36])
        + pl.Series(alphabet[codes % 36])
    )
    keys = np.arange(n) + 50_000_000  # apart from importer ids
    base = names.company_names(keys, salt).str.replace(r" \S+$", "")
    return pl.DataFrame(
        {
            "filer": np.arange(n),
            "filer_code": code,
            "name": base + " Customs Brokers Inc",
            "weight": weight,
        }
    ).hstack(names.us_addresses(keys, salt))


def _manufacturer_pools(n_importers: int) -> tuple[dict[str, int], dict[str, int]]:
    """First index and size of each country's manufacturer pool (by its share of entries)."""
    total = max(len(cal.COUNTRIES) * 5, round(n_importers * cal.MANUFACTURERS_PER_IMPORTER))
    share = np.array([v[1] for v in cal.COUNTRIES.values()])
    counts = np.maximum(5, np.round(total * share / share.sum())).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    keys = list(cal.COUNTRIES)
    return (
        {k: int(o) for k, o in zip(keys, offsets, strict=True)},
        {k: int(c) for k, c in zip(keys, counts, strict=True)},
    )
