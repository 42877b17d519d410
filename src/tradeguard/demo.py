"""``tradeguard demo``: the main job on the embedded default (SQLite), from nothing to a portal.

1. generate a few weeks of synthetic trade ending today (``synth``);
2. load it into the SQLite system of record (``ingest``) and print what was loaded;
3. train a scoring bundle on the outcomes known before the last days (``risk.train``);
4. score the last days' entries, lane them under port capacity with the random compliance
   sample (``decisions``), store the assessments and decisions, and print the lanes and why;
5. record the older entries as released history;
6. export the analytics warehouse the report cards read (``analytics.warehouse``, incremental:
   a second run rewrites only the months that changed);
7. resolve importers and manufacturers into entities and find the evasion leads over them
   (``entities``: the portal's leads page shows them);
8. create a user per role, serve the portal.

Every step calls the same stage functions the individual commands use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

console = Console()

SCORER = "tradeguard-targeting"
HISTORY = "history-loader"


@dataclass(frozen=True)
class DemoPlan:
    """What the demo builds and where."""

    directory: Path
    days: int = 42
    window_days: int = 3
    scale: float = 0.02
    seed: int = 7
    today: date = field(default_factory=lambda: datetime.now(UTC).date())

    @property
    def start(self) -> date:
        return self.today - timedelta(days=self.days - 1)

    @property
    def known_until(self) -> datetime:
        """The end of the demo's day: outcomes known later have not happened yet."""
        return datetime.combine(self.today + timedelta(days=1), datetime.min.time())

    @property
    def cut(self) -> datetime:
        """Entries filed from here on are 'today's' work; earlier ones are history."""
        return datetime.combine(
            self.today - timedelta(days=self.window_days - 1), datetime.min.time()
        )

    @property
    def sqlite_path(self) -> Path:
        return self.directory / "tradeguard.sqlite"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.sqlite_path}"


def _step(text: str) -> None:
    console.rule(f"[bold]{text}")


def known_by(tables: dict[str, Any], until: datetime) -> dict[str, Any]:
    """The generated tables as the system of record holds them at ``until`` (naive UTC): the
    generator concludes every inspection it starts, post-release audits up to a year after
    filing, but an outcome not known yet is not recorded yet (nor counted in a report card)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    outcomes = tables["outcomes"]
    limit = pa.scalar(until, type=outcomes.schema.field("known_at").type)
    return {**tables, "outcomes": outcomes.filter(pc.less(outcomes["known_at"], limit))}


def generate_trade(plan: DemoPlan) -> Path:
    """Generate the synthetic trade (idempotent: kept if already there for this plan)."""
    from tradeguard.synth import generate, write_tables

    out = plan.directory / "generated"
    marker = out / f".plan-{plan.start}-{plan.days}-{plan.scale}-{plan.seed}"
    if marker.exists():
        console.print(f"synthetic trade already generated in {out}")
        return out
    result = generate(days=plan.days, seed=plan.seed, scale=plan.scale, start=plan.start)
    s = known_by(result.tables, plan.known_until)
    write_tables(s, out)
    marker.touch()
    console.print(
        f"generated {s['entries'].num_rows:,} entries, {s['lines'].num_rows:,} lines, "
        f"{s['parties'].num_rows:,} parties, {s['outcomes'].num_rows:,} known outcomes "
        f"({plan.start} to {plan.today}, scale {plan.scale}) in {out}"
    )
    return out


def loaded_summary(url: str) -> Table:
    """What the system of record holds: entries, lines, value, duties and fees."""
    from sqlalchemy import select

    from tradeguard.reference import load_reference
    from tradeguard.revenue import compute_duties
    from tradeguard.storage import engine_for
    from tradeguard.storage.entries import totals
    from tradeguard.storage.tables_foundation import entries, lines

    engine = engine_for(url)
    with engine.connect() as conn:
        tot = totals(conn)
        q = select(
            lines.c.entry_number, lines.c.hts, lines.c.origin, lines.c.value_usd,
            lines.c.quantity1, lines.c.unit1, lines.c.quantity2, lines.c.unit2, lines.c.spi,
            lines.c.adcvd_cases, entries.c.mode, entries.c.entry_type, entries.c.filed_at,
        ).select_from(lines.join(entries))  # fmt: skip
        frame = pl.read_database(q, conn, infer_schema_length=None)
    priced = compute_duties(
        frame.with_columns(pl.col("value_usd").cast(pl.Float64)),
        load_reference(),
        carry_forward_fees=True,
    )
    table = Table(title="Loaded into the system of record")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("entries", f"{tot.entries:,}")
    table.add_row("lines", f"{tot.lines:,}")
    table.add_row("importers", f"{tot.importers:,}")
    table.add_row("declared value (USD)", f"{tot.value_usd:,.2f}")
    table.add_row("duties (USD)", f"{priced['duty_total'].sum():,.2f}")
    table.add_row("fees: MPF + HMF (USD)", f"{priced['fees_total'].sum():,.2f}")
    return table


def train_model(plan: DemoPlan, generated: Path) -> Any:
    """Train on the outcomes known before the cut; the bundle goes to ``<dir>/model``."""
    from tradeguard.risk.dataset import load_dataset
    from tradeguard.risk.rules import load_starter, starter_dir
    from tradeguard.risk.snapshot_build import snapshot_from_reference
    from tradeguard.risk.train import train_bundle

    ds = load_dataset(generated)
    before = ds.frame.filter(pl.col("filed_at") < plan.cut)
    keys = before.select("entry_number", pl.col("line_number").cast(pl.Int32))
    assert ds.outcomes is not None
    outcomes = ds.outcomes.join(keys, on=["entry_number", "line_number"], how="semi").filter(
        pl.col("known_at") < plan.cut
    )
    train = replace(ds, frame=before, outcomes=outcomes, truth=None)
    bundle = train_bundle(
        train, snapshot=snapshot_from_reference(), rules=load_starter(), rules_dir=starter_dir()
    )
    out = plan.directory / "model"
    bundle.save(out)
    bundle.models.use_compiled(compile_missing=True)  # for this machine, as `tradeguard train`
    labelled = outcomes.select("entry_number", "line_number").unique().height
    found = outcomes.filter(pl.col("discrepancy")).select("entry_number").unique().height
    console.print(
        f"trained bundle {bundle.version} on {before.height:,} lines, {labelled:,} with a known "
        f"outcome ({found:,} entries with a discrepancy); saved to {out}"
    )
    return bundle


def register_model(plan: DemoPlan, bundle: Any) -> str:
    """Register the trained bundle in the system of record and promote it (audited), so the
    targeters' models page shows the model in force and a retrained candidate is compared
    against it."""
    from sqlalchemy import insert

    from tradeguard.outcomes.retrain import promote
    from tradeguard.storage import engine_for
    from tradeguard.storage.entries import utcnow
    from tradeguard.storage.tables_api import models

    model_id = f"demo-{bundle.version}"
    keep = ("labelled_lines", "positives", "overall_trees", "trained_at", "source")
    with engine_for(plan.url).begin() as conn:
        conn.execute(
            insert(models).values(
                id=model_id,
                created_at=utcnow(),
                metrics={k: bundle.info[k] for k in keep if k in bundle.info},
                path=str((plan.directory / "model").resolve()),
                promoted=False,
            )
        )
    promote(plan.url, model_id, "tradeguard-demo")
    console.print(f"registered and promoted {model_id}")
    return model_id


def window_tables(plan: DemoPlan, generated: Path) -> Path:
    """Today's work: the entries filed since the cut, with their lines and parties."""
    out = plan.directory / "window"
    out.mkdir(parents=True, exist_ok=True)
    ent = pl.read_parquet(generated / "entries.parquet").filter(pl.col("filed_at") >= plan.cut)
    ent.write_parquet(out / "entries.parquet")
    pl.read_parquet(generated / "lines.parquet").join(
        ent.select("entry_number"), on="entry_number", how="semi"
    ).write_parquet(out / "lines.parquet")
    pl.read_parquet(generated / "parties.parquet").write_parquet(out / "parties.parquet")
    return out


def score_window(plan: DemoPlan, window: Path, bundle: Any) -> pl.DataFrame:
    """Score and lane today's entries with the batch driver; store what was decided."""
    from tradeguard.config import get_settings
    from tradeguard.decisions import LanePolicy
    from tradeguard.decisions.batch import ScoringInput, score_files
    from tradeguard.storage import engine_for
    from tradeguard.storage.assessments import store_targeting

    now = datetime.now(UTC).replace(tzinfo=None)
    out = plan.directory / "scored"
    run = score_files(
        ScoringInput.resolve(window),
        out,
        bundle,
        LanePolicy.from_settings(get_settings()),
        seed=plan.seed,
        decided_at=now,
    )
    scores = pl.read_parquet(run.paths["line_scores"])
    reasons_path = run.paths.get("line_reasons")
    if reasons_path is not None and Path(reasons_path).exists():
        explained = pl.read_parquet(reasons_path).select(
            "entry_number", "line_number", pl.col("reasons").alias("_explained")
        )
        scores = (
            scores.join(explained, on=["entry_number", "line_number"], how="left")
            .with_columns(pl.coalesce("_explained", "reasons").alias("reasons"))
            .drop("_explained")
        )
    lanes = run.lanes
    if "port_code" not in lanes.columns:
        ports = pl.read_parquet(window / "entries.parquet").select("entry_number", "port_code")
        lanes = lanes.join(ports, on="entry_number", how="left")
    with engine_for(plan.url).begin() as conn:
        counts = store_targeting(conn, scores, lanes, actor=SCORER, at=now)
    console.print(
        f"scored {run.n_lines:,} lines of {lanes.height:,} entries in {run.seconds:.1f} s: "
        f"{counts['held']:,} held for exam or review, {counts['released']:,} released"
    )
    return lanes


def find_leads_in(plan: DemoPlan) -> dict[str, Any]:
    """Resolve the system of record's importers and manufacturers into entities and store the
    evasion leads found over them (the portal's leads page shows them)."""
    from tradeguard.entities.store import refresh_database

    out = refresh_database(plan.url)
    console.print(
        f"{out['parties']:,} parties -> {out['entities']:,} entities "
        f"({out['records_linked']:,} records linked); {out['leads']:,} leads {out['by_pattern']} "
        f"in {out['seconds']} s"
    )
    return out


def run_demo(plan: DemoPlan, *, serve: bool, host: str, port: int) -> None:
    """The whole demo; see the module docstring."""
    plan.directory.mkdir(parents=True, exist_ok=True)
    # The portal and API read their settings from the environment: point them at the demo.
    os.environ["TRADEGUARD_SQLITE_PATH"] = str(plan.sqlite_path)
    os.environ.pop("TRADEGUARD_DATABASE_URL", None)
    os.environ["TRADEGUARD_BUNDLE_DIR"] = str(plan.directory / "model")
    os.environ["TRADEGUARD_WAREHOUSE_DIR"] = str(plan.directory / "warehouse")
    from tradeguard.config import get_settings

    get_settings.cache_clear()

    from tradeguard.decisions import describe_lanes
    from tradeguard.ingest.commands import summary_table
    from tradeguard.ingest.loader import ingest
    from tradeguard.storage import engine_for
    from tradeguard.storage.assessments import release_history
    from tradeguard.storage.entries import status_counts

    _step("1. synthetic trade")
    generated = generate_trade(plan)

    _step("2. load into the system of record (SQLite)")
    summary = ingest(generated, plan.url, rejects=plan.directory / "rejects.csv", progress=True)
    console.print(summary_table(summary, f"ingest into {plan.sqlite_path}"))
    console.print(loaded_summary(plan.url))

    with engine_for(plan.url).connect() as conn:
        already = status_counts(conn).get("filed", 0) == 0
    if already:
        console.print("entries already assessed by an earlier run of the demo: keeping them")
    else:
        _step("3. train on known outcomes")
        bundle = train_model(plan, generated)
        register_model(plan, bundle)

        _step("4. score today's entries and choose their lanes")
        lanes = score_window(plan, window_tables(plan, generated), bundle)
        console.print(describe_lanes(lanes))
        with engine_for(plan.url).begin() as conn:
            n = release_history(
                conn,
                filed_before=plan.cut,
                actor=HISTORY,
                at=datetime.now(UTC).replace(tzinfo=None),
                reason="history: released under the previous selection system",
            )
        console.print(f"{n:,} earlier entries recorded as released history")

    _step("5. analytics warehouse for the report cards")
    export_for_reports(plan)

    _step("6. entity resolution and evasion leads")
    find_leads_in(plan)

    _step("7. users and portal")
    _print_users(plan.url)
    if serve:
        import uvicorn

        console.print(f"serving the portal on http://{host}:{port}/  (Ctrl-C stops it)")
        uvicorn.run(
            "tradeguard.api.app:app_factory", factory=True, host=host, port=port,
            log_level="warning", access_log=False,
        )  # fmt: skip


def export_for_reports(plan: DemoPlan) -> None:
    """Export the system of record to the warehouse the portal's report cards read."""
    from tradeguard.analytics.warehouse import export_warehouse

    out = plan.directory / "warehouse"
    report = export_warehouse(plan.url, out)
    months = sorted({m for r in report for m in r.get("months", [])})
    rows = sum(r.get("rows", 0) for r in report)
    console.print(
        f"exported {rows:,} rows to {out} (months rewritten: {', '.join(months) or 'none'}); "
        "the portal's report cards read it and bring it up to date on demand"
    )


def _print_users(url: str) -> None:
    try:
        from tradeguard.web.demo_users import ensure_demo_users
    except ImportError:
        console.print("(no portal users: the web portal is not installed)")
        return
    table = Table(title="Demo users (one per role)")
    for col in ("role", "username", "password"):
        table.add_column(col)
    for role, username, password in ensure_demo_users(url):
        table.add_row(str(role), username, password)
    console.print(table)
