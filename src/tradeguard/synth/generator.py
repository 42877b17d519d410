"""The synthetic trade generator: one seed, one window of days, the six canonical tables.

>>> result = generate(days=1, seed=7, scale=0.01)            # doctest: +SKIP
>>> result.tables["entries"].num_rows, result.summary["violating_entry_share"]  # doctest: +SKIP

Steps: population (importers, filers, manufacturers) -> honest entries and lines -> planted
violations (declared vs true facts) -> duties of both through the revenue engine (the loss
is what the true facts owe minus what the filing declared) -> legacy selection and findings
-> port shoppers re-presenting held goods at another port (and a third, if held again)
-> entry numbers, parties and the
ground truth.  One ``numpy.random.Generator`` drives everything, so a seed gives the same
bytes every time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from tradeguard.domain.codes import VIOLATION_PTI, Violation
from tradeguard.domain.schema import TABLES, conform
from tradeguard.reference.loader import Reference, load_reference
from tradeguard.revenue.engine import compute_duties
from tradeguard.synth import calibration as cal
from tradeguard.synth import trade
from tradeguard.synth.catalog import Catalog, build_catalog
from tradeguard.synth.outcomes import select_and_inspect
from tradeguard.synth.parties import Population, build_population, register_in_window
from tradeguard.synth.tables import assign_manufacturers, build_parties, finalize_entries
from tradeguard.synth.violations import REVENUE_TYPES, plant

DEFAULT_START = dt.date(2026, 7, 1)


@dataclass
class GenerationResult:
    """The canonical tables (Arrow, conformed to ``domain.schema``) and the day's figures."""

    tables: dict[str, pa.Table]
    summary: dict[str, Any] = field(default_factory=dict)


def generate(
    days: int = 1,
    seed: int = 0,
    scale: float = 1.0,
    start: dt.date = DEFAULT_START,
    reference: Reference | None = None,
) -> GenerationResult:
    """Generate ``days`` days of trade from ``start`` at ``scale`` (1 = U.S. volumes)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    if not 0 < scale <= 10:
        raise ValueError("scale must be in (0, 10]")
    ref = reference or load_reference()
    cat = build_catalog(ref)
    rng = np.random.default_rng(seed)
    pop = build_population(rng, scale, start, days)
    entries = trade.generate_entries(rng, pop, ref, start, days, scale)
    pop = register_in_window(pop, entries["entity"].to_numpy(), entries["day"].to_numpy())
    lines = trade.generate_lines(rng, entries, pop, cat, start, scale)
    lines = plant(rng, entries, lines, pop, cat, start)
    lines = _declared_and_true(rng, lines, cat, entries, start)
    entries = _entry_facts(entries, lines, pop, start)
    lines = _revenue(lines, entries, ref)

    outcomes = select_and_inspect(rng, entries, lines)
    found = outcomes
    for _ in range(2):  # a re-presentation held again is tried at a third port
        entries, lines, reposted = _port_shopping(rng, entries, lines, found, pop, ref, days)
        if not reposted.len():
            break
        found = select_and_inspect(rng, entries.filter(pl.col("entry").is_in(reposted)),
                                   lines.filter(pl.col("entry").is_in(reposted)))  # fmt: skip
        outcomes = pl.concat([outcomes, found])

    pop = _switch_after_penalty(pop, entries, outcomes, days)
    lines = assign_manufacturers(lines, entries, pop, start)
    entries = finalize_entries(rng, entries, lines, pop, start, scale)
    # Files read in filing order: entries by time, lines and findings by their entry.
    entries = entries.sort("filed_at", "entry_number")
    order = entries.select("entry", "entry_number").with_row_index("_ord")
    lines = lines.join(order, on="entry", how="left").sort("_ord", "line_number").drop("_ord")
    outcomes = (
        outcomes.join(order, on="entry", how="left")
        .sort("_ord", "line_number", "kind")
        .drop("_ord")
    )
    parties, party_truth = build_parties(entries, lines, pop, start)

    pti = {v.value: VIOLATION_PTI[v].value for v in Violation}
    truth = lines.select(
        "entry_number", "line_number", "violation",
        pti=pl.col("violation").replace_strict(pti, default=None, return_dtype=pl.String),
        revenue_loss_usd="revenue_loss_usd",
        true_hts="true_hts", true_origin="true_origin", true_value_usd="true_value_usd",
    )  # fmt: skip
    frames = {
        "entries": entries,
        "lines": lines,
        "parties": parties,
        "truth": truth,
        "party_truth": party_truth,
        "outcomes": outcomes,
    }
    tables = {name: conform(frames[name].to_arrow(), schema) for name, schema in TABLES.items()}
    return GenerationResult(
        tables, summarize(entries, lines, outcomes, days, scale, start, pop.entities.height)
    )


def _declared_and_true(
    rng: np.random.Generator,
    lines: pl.DataFrame,
    cat: Catalog,
    entries: pl.DataFrame,
    start: dt.date,
) -> pl.DataFrame:
    """Refresh the columns that follow from the (possibly changed) declared and true goods."""
    prod = cat.products
    product = lines["product"].to_numpy()
    true_product = lines["true_product"].to_numpy()
    original = lines["product_before"].to_numpy()
    value = lines["true_value_usd"].to_numpy()
    changed = product != original
    q1 = lines["quantity1"].to_numpy().copy()
    q2 = lines["quantity2"].to_numpy().copy()
    chapter = prod["chapter"].to_numpy()
    if changed.any():
        p = product[changed]
        q1[changed] = trade.quantity_for(rng, value[changed], prod["ukey1"].gather(p), chapter[p])
        q2[changed] = trade.quantity_for(rng, value[changed], prod["ukey2"].gather(p), chapter[p])
    weight = lines["gross_weight_kg"].to_numpy().copy()
    if changed.any():
        p = product[changed]
        weight[changed] = trade.gross_weight(
            rng, value[changed], q1[changed], q2[changed],
            prod["ukey1"].gather(p), prod["ukey2"].gather(p),
        )  # fmt: skip
    # The true goods are counted in their own units when they differ from the declared line.
    tq1, tq2 = q1.copy(), q2.copy()
    differs = true_product != product
    if differs.any():
        t = true_product[differs]
        tq1[differs] = trade.quantity_for(rng, value[differs], prod["ukey1"].gather(t), chapter[t])
        tq2[differs] = trade.quantity_for(rng, value[differs], prod["ukey2"].gather(t), chapter[t])
    # A claim follows the goods: dropped where the (new) line does not list the program.
    spi, true_spi = lines["spi"], lines["true_spi"]
    spi_ok = cat.claimable(product, spi) | spi.is_null().to_numpy()
    true_ok = cat.claimable(true_product, true_spi) | true_spi.is_null().to_numpy()
    keep_declared = spi_ok | lines["violation"].eq("fta_ineligible").fill_null(False).to_numpy()
    origin = lines["origin"].to_numpy()
    cases = cat.adcvd_cases(product, origin, start)
    cases = trade.masked(cases, ~lines["drop_cases"].to_numpy())
    return lines.with_columns(
        hts=prod["hts10"].gather(product),
        description=prod["description"].gather(product).str.slice(0, 80),
        unit1=prod["unit1"].gather(product),
        unit2=prod["unit2"].gather(product),
        gross_weight_kg=weight,
        quantity1=pl.Series(q1).fill_nan(None),
        quantity2=pl.Series(q2).fill_nan(None),
        spi=pl.when(pl.Series(keep_declared)).then(spi),
        true_spi=pl.when(pl.Series(true_ok)).then(true_spi),
        adcvd_cases=cases,
        chapter99=cat.chapter99(product, origin, start),
        true_hts=prod["hts10"].gather(true_product),
        true_unit1=prod["unit1"].gather(true_product),
        true_unit2=prod["unit2"].gather(true_product),
        true_quantity1=pl.Series(tq1).fill_nan(None),
        true_quantity2=pl.Series(tq2).fill_nan(None),
    )


def _entry_facts(
    entries: pl.DataFrame, lines: pl.DataFrame, pop: Population, start: dt.date
) -> pl.DataFrame:
    """Entry type (03 when a line declares an AD/CVD case), and what the legacy view sees."""
    has_case = lines.group_by("entry").agg(case=pl.col("adcvd_cases").is_not_null().any())
    first = lines.filter(pl.col("line_number") == 1).select("entry", origin_declared="origin")
    ent = pop.entities.select("entity", "trusted_status")
    out = (
        entries.join(has_case, on="entry", how="left", maintain_order="left")
        .join(first, on="entry", how="left", maintain_order="left")
        .join(ent, on="entity", how="left", maintain_order="left")
    )
    filed_ord = start.toordinal() + out["day"].to_numpy()
    _, seen = pop.current_record(out["entity"].to_numpy(), filed_ord)
    return out.with_columns(
        entry_type=pl.when(pl.col("case")).then(pl.lit("03")).otherwise(pl.col("klass")),
        new_importer=pl.Series(filed_ord - seen < 180),
        trusted=pl.col("trusted_status") != "none",
    ).drop("case", "trusted_status")


def _revenue(lines: pl.DataFrame, entries: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    """Declared duty, true duty and the revenue loss of each line through the revenue engine.

    The declared duty is what the filing pays: an AD/CVD deposit only where the filer
    declared a case (the engine applies orders by scope, which is what the true facts owe).
    """
    ctx = entries.select("entry", "mode", "entry_type", date=pl.col("filed_at").dt.date())
    base = lines.join(ctx, on="entry", how="left", maintain_order="left").with_columns(
        entry_number=pl.col("entry").cast(pl.String)
    )
    declared = compute_duties(
        base.select("entry_number", "hts", "origin", "value_usd", "quantity1", "unit1",
                    "quantity2", "unit2", "spi", "adcvd_cases", "mode", "entry_type", "date"),
        ref, carry_forward_fees=True,
    )  # fmt: skip
    true = compute_duties(
        base.select(
            "entry_number", "mode", "entry_type", "date",
            hts="true_hts", origin="true_origin", value_usd="true_value_usd",
            quantity1="true_quantity1", unit1="true_unit1", quantity2="true_quantity2",
            unit2="true_unit2", spi="true_spi",
        ),
        ref, carry_forward_fees=True,
    )  # fmt: skip
    paid = declared.select(
        pl.col("duty_total").fill_null(0.0)
        - pl.when(pl.col("adcvd_cases").is_null()).then(pl.col("adcvd_deposit")).otherwise(0.0)
    ).to_series()
    owed = true["duty_total"].fill_null(0.0)
    revenue = lines["violation"].is_in(list(REVENUE_TYPES)).fill_null(False)
    loss = ((owed - paid).clip(lower_bound=0.0) * revenue.cast(pl.Float64)).round(2)
    return lines.with_columns(
        duty_usd=paid.round(2),
        base_duty_usd=declared["base_duty"].fill_null(0.0),
        additional_duty_usd=declared["additional_duty"].fill_null(0.0),
        fees_usd=declared["fees_total"].fill_null(0.0),
        duty_problem=declared["problems"].is_not_null() | true["problems"].is_not_null(),
        revenue_loss_usd=loss,
    )


def _port_shopping(
    rng: np.random.Generator,
    entries: pl.DataFrame,
    lines: pl.DataFrame,
    outcomes: pl.DataFrame,
    pop: Population,
    ref: Reference,
    days: int,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.Series]:
    """Port shoppers re-present goods held at one port as a new entry at another port.

    Held means an exam or document review found a violation; the shopper learns it when the
    finding is made (``known_at``) and re-presents the goods one to four days later: the new
    entry has the same lines (and truth), another port serving the same mode, often another
    broker.  Re-presentations past the window's end are not generated.
    """
    found = outcomes.filter(
        pl.col("discrepancy") & pl.col("kind").is_in(["exam", "document_review"])
    )
    held = found.group_by("entry").agg(held_at=pl.col("known_at").min())
    shoppers = pop.entities.filter(pl.col("shopper")).select("entity")
    cand = entries.join(held, on="entry").join(shoppers, on="entity").sort("entry")
    delay = rng.integers(1, 5, cand.height)
    start = dt.date.fromordinal(pop.start_ord)
    held_day = (pl.col("held_at").dt.date() - pl.lit(start)).dt.total_days()
    cand = cand.with_columns(new_day=held_day + pl.Series(delay)).filter(pl.col("new_day") < days)
    if cand.is_empty():
        return entries, lines, pl.Series("entry", [], dtype=pl.UInt32)
    k = cand.height
    ports = ref.ports.frame
    column = {"vessel": "vessel", "air": "air", "truck": "land", "rail": "land"}
    new_port: list[str] = []
    u = rng.random(k)
    for mode, port in zip(cand["mode"], cand["port_code"], strict=True):  # a few rows only
        pool = ports.filter(pl.col(column[mode]) & (pl.col("port_code") != port))["port_code"]
        new_port.append(pool[int(u[len(new_port)] * pool.len())])
    first = int(entries["entry"].max()) + 1  # type: ignore[arg-type]
    other_filer = rng.integers(0, pop.filers.height, k)
    cand = cand.with_columns(
        shift=(pl.col("new_day") - pl.col("day")).cast(pl.Int64),
        hours=pl.Series(rng.integers(0, 6, k)),
    )
    reposts = cand.with_columns(
        entry=pl.int_range(first, first + k, dtype=pl.UInt32),
        old_entry=pl.col("entry"),
        day=pl.col("new_day"),
        port_code=pl.Series(new_port),
        filed_at=pl.col("filed_at") + pl.duration(days="shift") + pl.duration(hours="hours"),
        arrival_date=pl.col("arrival_date") + pl.duration(days="shift"),
        filer=pl.Series(np.where(rng.random(k) < 0.6, other_filer, cand["filer"].to_numpy())),
    )
    mapping = reposts.select("old_entry", "entry")
    new_lines = (
        lines.join(mapping, left_on="entry", right_on="old_entry", how="inner", suffix="_new")
        .with_columns(entry=pl.col("entry_new"))
        .drop("entry_new")
    )
    entries = pl.concat([entries, reposts.select(entries.columns)], how="vertical_relaxed")
    lines = pl.concat([lines, new_lines.select(lines.columns)], how="vertical_relaxed")
    return entries, lines, reposts["entry"]


def _switch_after_penalty(
    pop: Population, entries: pl.DataFrame, outcomes: pl.DataFrame, days: int
) -> Population:
    """Name changers re-registering during the window do so after a penalty: the day after
    the first finding on their goods became known, when that leaves them days to file under
    the new IOR (a second re-registration, if any, moves to after the first)."""
    ent = pop.entities
    last_day = pop.start_ord + days - 1
    found = (
        outcomes.filter(pl.col("violation").is_not_null())
        .join(entries.select("entry", "entity"), on="entry")
        .group_by("entity")
        .agg(known=pl.col("known_at").min().dt.date())
    )
    if found.is_empty():
        return pop
    known = np.zeros(ent.height, dtype=np.int64)
    known[found["entity"].to_numpy()] = np.array(
        [d.toordinal() for d in found["known"].to_list()], dtype=np.int64
    )
    switch, first = ent["switch"].to_numpy(), ent["first_seen"].to_numpy()
    after = known + 1
    move = (
        ent["changer"].to_numpy()
        & (switch >= pop.start_ord)
        & (known > 0)
        & (after < last_day)
        & (after >= first + 30)
    )
    switch = np.where(move, after, switch)
    switch2 = ent["switch2"].to_numpy()
    twice = ent["new_id2"].to_numpy() >= 0
    switch2 = np.where(twice, np.maximum(switch2, switch + 1), 0)
    keep2 = twice & (switch2 <= last_day)
    entities = ent.with_columns(
        switch=pl.Series(switch),
        switch2=pl.Series(np.where(keep2, switch2, 0)),
        new_id2=pl.Series(np.where(keep2, ent["new_id2"].to_numpy(), -1)),
    )
    return replace(pop, entities=entities)


def summarize(
    entries: pl.DataFrame,
    lines: pl.DataFrame,
    outcomes: pl.DataFrame,
    days: int,
    scale: float,
    start: dt.date,
    universe: int,
) -> dict[str, Any]:
    """The window's figures, to compare with design.md's calibration figures."""
    n_entries = entries.height
    value = float(lines["value_usd"].sum())
    by_origin = lines.group_by("origin").agg(v=pl.col("value_usd").sum()).sort("v", descending=True)
    top5 = by_origin.head(5)
    by_importer = (
        lines.join(entries.select("entry", "importer_id"), on="entry", how="left")
        .group_by("importer_id")
        .agg(v=pl.col("value_usd").sum(), n=pl.len())
        .sort("v", descending=True)
    )
    k = max(1, round(universe * cal.TOP_IMPORTER_SHARE))
    violating = lines.filter(pl.col("violation").is_not_null())
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    business = sum(1 for d in dates if d.weekday() < 5)
    # weekdays count 1, Saturdays and Sundays their share: what the seeds' daily figures scale by
    day_equivalents = sum(cal.WEEKDAY_FACTOR.get(d.weekday(), 1.0) for d in dates)
    return {
        "days": days,
        "business_days": business,
        "business_day_equivalents": round(day_equivalents, 3),
        "scale": scale,
        "entries": n_entries,
        "lines": lines.height,
        "lines_per_entry": round(lines.height / max(n_entries, 1), 3),
        "value_usd": round(value, 2),
        "duties_usd": round(float(lines["duty_usd"].sum()), 2),
        "base_duties_usd": round(float(lines["base_duty_usd"].sum()), 2),
        "chapter99_duties_usd": round(float(lines["additional_duty_usd"].sum()), 2),
        "fees_usd": round(float(lines["fees_usd"].sum()), 2),
        "effective_duty_rate": round(float(lines["duty_usd"].sum()) / max(value, 1.0), 5),
        "lines_not_fully_priced": int(lines["duty_problem"].sum()),
        "top5_origins": top5["origin"].to_list(),
        "top5_origin_value_share": round(float(top5["v"].sum()) / max(value, 1.0), 4),
        "importers_universe": universe,
        "importers_active": by_importer.height,
        "top_importers": k,
        "top_importers_value_share": round(
            float(by_importer.head(k)["v"].sum()) / max(value, 1.0), 4
        ),
        "top_importers_lines_share": round(
            float(by_importer.sort("n", descending=True).head(k)["n"].sum()) / max(lines.height, 1),
            4,
        ),
        "violating_entry_share": round(violating["entry"].n_unique() / max(n_entries, 1), 5),
        "violating_lines": violating.height,
        "violations": dict(violating.group_by("violation").len().sort("violation").iter_rows()),
        "revenue_loss_usd": round(float(lines["revenue_loss_usd"].sum()), 2),
        "outcome_rows": outcomes.height,
        "entries_inspected": outcomes["entry_number"].n_unique() if outcomes.height else 0,
        "findings": int(outcomes["discrepancy"].sum()) if outcomes.height else 0,
    }
