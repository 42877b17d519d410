"""``tradeguard train`` and ``tradeguard evaluate``: build a scoring bundle, measure it.

Heavy imports stay inside the functions so that ``tradeguard --help`` stays fast.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

__all__ = ["train", "evaluate"]


LINKS_HELP = (
    "entity_links.parquet of `tradeguard entities resolve --out`: history features follow the "
    "resolved entity (a re-registered importer keeps its past)."
)


def _load(path: Path, mapping: Path | None, links: Path | None = None) -> Any:
    """A generator output directory, or a CSV/Parquet file read through a mapping; with
    ``links``, the resolution its history is keyed by."""
    from dataclasses import replace

    from tradeguard.errors import ValidationFailed
    from tradeguard.risk.dataset import load_dataset, read_links
    from tradeguard.risk.mapping import load_mapping, read_mapped

    if mapping is not None:
        ds = read_mapped(path, load_mapping(mapping))
    elif not path.is_dir():
        raise ValidationFailed(f"{path} is a file: pass --mapping FILE to say what its columns are")
    else:
        ds = load_dataset(path)
    return replace(ds, entity_map=read_links(links)) if links is not None else ds


def _snapshot(mapping: Path | None) -> Any:
    """The reference snapshot (U.S. reference data); none for foreign data through a mapping."""
    from tradeguard.risk.snapshot import ReferenceSnapshot

    if mapping is not None:
        return ReferenceSnapshot()
    from tradeguard.risk.snapshot_build import snapshot_from_reference

    return snapshot_from_reference()


def _rules(rules: Path | None, mapping: Path | None) -> tuple[Any, Path | None]:
    """The rule set: ``--rules DIR``, else the starter rules for U.S. data, none for mapped."""
    if rules is None and mapping is not None:
        return None, None
    from tradeguard.risk import rules as rules_mod

    path = rules or rules_mod.starter_dir()
    if not path.exists():
        return None, None
    return rules_mod.load_rules(path), path


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2)


def train(
    data: Path = typer.Option(
        ...,
        "--data",
        help="Generator output directory, or a CSV/Parquet "
        "file of labelled lines when --mapping is given.",
    ),
    out: Path = typer.Option(..., "--out", help="Model directory to write the scoring bundle to."),
    mapping: Path | None = typer.Option(
        None,
        "--mapping",
        help="YAML mapping of a foreign file's columns onto tradeguard fields (docs/mapping.md).",
    ),
    rules: Path | None = typer.Option(
        None,
        "--rules",
        help="Targeting rules directory (default: the starter rules; none for mapped data).",
    ),
    links: Path | None = typer.Option(None, "--links", help=LINKS_HELP),
) -> None:
    """Train the risk models on known outcomes and write a frozen scoring bundle."""
    from tradeguard.errors import TradeguardError
    from tradeguard.risk.train import train_bundle

    try:
        ds = _load(data, mapping, links)
        rule_set, rules_dir = _rules(rules, mapping)
        bundle = train_bundle(ds, snapshot=_snapshot(mapping), rules=rule_set, rules_dir=rules_dir)
        bundle.save(out)
    except TradeguardError as exc:
        _fail(exc)
        return
    info = bundle.info
    typer.echo(
        f"trained {bundle.version}: {info['labelled_lines']} labelled lines "
        f"({info['positives']} violations), {info['overall_trees']} trees, "
        f"PTI models {info['pti_models'] or 'none'}, {info['train_seconds']} s -> {out}"
    )
    # compiled for this machine now, so that scoring starts at full speed (risk.compiled)
    t = time.perf_counter()
    n = bundle.models.use_compiled(compile_missing=True)
    if n:
        typer.echo(f"compiled {n} boosters for this machine in {time.perf_counter() - t:.1f} s")


def _table(report: dict[str, Any]) -> str:
    rows = [
        f"labels: {report['labels']}; train {report['train_lines']} lines "
        f"({report['train_labelled_lines']} labelled), test {report['test_lines']} lines; "
        f"training {report['train_seconds']} s",
        f"{'inspected':>9}  {'model':<10} {'precision':>9} {'recall':>7} {'revenue':>8}",
    ]
    for share in report["tradeguard"]["at"]:
        for name in ("tradeguard", "baseline"):
            m = report[name]["at"][share]
            rows.append(
                f"{share:>9}  {name:<10} {m['precision']:>9.3f} {m['recall']:>7.3f} "
                f"{m['revenue_captured']:>8.3f}"
            )
    ours, base = report["tradeguard"]["auc"], report["baseline"]["auc"]
    rows.append(f"AUC: tradeguard {ours:.3f}, baseline {base:.3f}")
    rar = report["tradeguard_by_revenue_at_risk"]["at"]
    rows.append(
        "revenue captured ranking by revenue at risk: "
        + ", ".join(f"{k} {v['revenue_captured']:.3f}" for k, v in rar.items())
    )
    return "\n".join(rows)


def evaluate(
    train_path: Path = typer.Option(
        ..., "--train", help="Training data (generator directory, or a file with --mapping)."
    ),
    test_path: Path = typer.Option(
        ...,
        "--test",
        help="Test data; the same path as --train "
        "splits it by time (the last 25 % of filings are the test).",
    ),
    valid_path: Path | None = typer.Option(
        None,
        "--valid",
        help="Optional calibration data (default: the latest 20 % of the labelled lines).",
    ),
    mapping: Path | None = typer.Option(None, "--mapping", help="YAML mapping for foreign files."),
    rules: Path | None = typer.Option(None, "--rules", help="Targeting rules directory."),
    links: Path | None = typer.Option(None, "--links", help=LINKS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
) -> None:
    """Precision, recall and revenue captured at 1/2/5/10 % inspected, and AUC, vs a baseline."""
    from tradeguard.errors import TradeguardError
    from tradeguard.risk.dataset import split_by_time
    from tradeguard.risk.evaluate import evaluate as run

    try:
        train_ds = _load(train_path, mapping, links)
        if test_path.resolve() == train_path.resolve():
            train_ds, test_ds, cut = split_by_time(train_ds)
            split = f"by time at {cut.isoformat()}"
        else:
            test_ds, split = _load(test_path, mapping), "given"
        valid_ds = _load(valid_path, mapping) if valid_path is not None else None
        rule_set, _ = _rules(rules, mapping)
        report = run(train_ds, test_ds, valid=valid_ds, snapshot=_snapshot(mapping), rules=rule_set)
    except TradeguardError as exc:
        _fail(exc)
        return
    report["split"] = split
    if as_json:
        typer.echo(json.dumps(report, indent=1, default=str))
    else:
        typer.echo(_table(report))
