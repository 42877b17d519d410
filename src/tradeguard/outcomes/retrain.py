"""Retraining on the outcomes in the system of record, a side-by-side evaluation, and
promotion on request only.

:func:`retrain` reads every stored entry, line, party and finding (``outcomes.labels``), holds
out the most recent quarter of the lines by filing time, trains a bundle on the rest with
``risk.train.train_bundle`` (the same trainer ``tradeguard train`` uses on generator output),
and measures the new bundle and the current one (the promoted model, else
``Settings.bundle_dir``, else the built-in rules alone) on two label sets of the held-out lines:

* ``recent``: every held-out line with a recorded outcome;
* ``random``: the held-out lines drawn by the random compliance sample, the only unbiased view
  of how a selection would do on all traffic.

Each gets ``risk.evaluate.selection_metrics`` (AUC; precision, recall and revenue captured when
1/2/5/10 % are inspected).  The bundle is saved under ``out_dir/<version>`` and registered in
``models`` as a candidate (``promoted`` false): :func:`promote` - the CLI ``tradeguard models
promote`` and ``POST /api/v1/models/{id}/promote`` - is the only way it goes live, and is
written to the audit log.  History features for scoring the held-out lines use the outcomes
known before each line was filed, as a running system would, keyed by resolved entity when
``tradeguard entities resolve`` has filled ``entity_links``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import insert, select, update

from tradeguard.errors import Conflict, NotFound, ValidationFailed
from tradeguard.storage.engine import translated
from tradeguard.storage.entries import utcnow
from tradeguard.storage.tables_api import audit_log, models

DEFAULT_OUT = Path("models")
TEST_FRACTION = 0.25


def _audit(
    conn: Any,
    actor: str,
    action: str,
    model_id: str,
    detail: dict[str, Any],
    user_id: int | None = None,
) -> None:
    # api.audit.record wants an authenticated Principal; a CLI run has only a name, so the
    # same append-only row is written directly (user_id null for the CLI, username = actor).
    conn.execute(
        insert(audit_log).values(
            at=utcnow(),
            user_id=user_id,
            username=actor,
            action=action,
            resource_type="model",
            resource_id=model_id,
            detail=detail,
        )
    )


def current_bundle(conn: Any, settings: Any = None) -> tuple[str, Any]:
    """The bundle in force: the promoted model's directory, else ``Settings.bundle_dir``, else
    the built-in rules alone, with the stored rules over its own (``api.targeting``).
    Returns ``(model id or description, bundle)``."""
    from tradeguard.api.targeting import bundle_in_force
    from tradeguard.config import get_settings

    return bundle_in_force(conn, settings or get_settings())


def _metrics(labels: pl.DataFrame, scored: pl.DataFrame) -> dict[str, Any]:
    from tradeguard.risk.evaluate import selection_metrics

    joined = labels.join(scored, on=["entry_number", "line_number"], how="inner")
    if joined.height == 0:
        return {"lines": 0, "positives": 0}
    return selection_metrics(
        joined["y"].to_numpy(), joined["revenue"].to_numpy(), joined["score"].to_numpy()
    )


def _score(bundle: Any, frame: pl.DataFrame, history: Any) -> pl.DataFrame:
    from tradeguard.risk.score import score_batch

    out = score_batch(frame.to_arrow(), bundle.with_history(history), explain=False)
    df = pl.from_arrow(out.select(["entry_number", "line_number", "score"]))
    assert isinstance(df, pl.DataFrame)
    return df.with_columns(pl.col("line_number").cast(pl.Int32))


def _flat(evaluation: dict[str, Any]) -> dict[str, float]:
    """Numeric metrics as flat keys (``auc_recent``, ``precision_5%_random`` ...), which the
    models API compares between two models."""
    out: dict[str, float] = {}
    for which, m in evaluation.items():
        if m.get("auc") is not None and m["auc"] == m["auc"]:
            out[f"auc_{which}"] = round(float(m["auc"]), 4)
        for share, at in m.get("at", {}).items():
            for k in ("precision", "revenue_captured"):
                v = at.get(k)
                if v is not None and v == v:
                    out[f"{k}_{share}_{which}"] = round(float(v), 4)
    return out


def retrain(
    url: str | None = None,
    actor: str = "retrain",
    *,
    user_id: int | None = None,
    out_dir: Path | str | None = None,
    params: Any = None,
    test_fraction: float = TEST_FRACTION,
    settings: Any = None,
) -> dict[str, Any]:
    """Train a candidate on the system of record, evaluate it beside the current bundle,
    save and register it (not promoted).  Returns the candidate summary::

        {"id", "path", "promoted": False, "cut", "train_lines", "labelled_lines",
         "train_seconds", "new": {"recent": m, "random": m}, "current": {...},
         "current_id", "metrics": {flat numeric metrics}}

    Raises ``ValidationFailed`` when the stored outcomes are too few to learn from, and
    ``Conflict`` when the trained model is registered already (same outcomes, same model).
    """
    from dataclasses import replace

    from tradeguard.config import get_settings
    from tradeguard.entities.accounts import resolved_party_map
    from tradeguard.outcomes.labels import system_dataset
    from tradeguard.reference import load_reference
    from tradeguard.risk.dataset import line_labels, split_by_time
    from tradeguard.risk.history import build_history
    from tradeguard.risk.snapshot_build import snapshot_from_reference
    from tradeguard.risk.train import train_bundle
    from tradeguard.storage import engine_for

    settings = settings or get_settings()
    engine = engine_for(url or settings.effective_database_url)
    t0 = time.perf_counter()
    with engine.connect() as conn:
        ds = system_dataset(conn)
        # history follows the resolved entity when entity resolution has run
        party_map = resolved_party_map(conn)
        ds = replace(ds, entity_map=party_map if party_map.height else None)
        current_id, current = current_bundle(conn, settings)
    if ds.outcomes is None or ds.outcomes.height == 0:
        raise ValidationFailed("no outcomes in the system of record - nothing to learn from")
    train, test, cut = split_by_time(ds, test_fraction)
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    bundle = train_bundle(
        train,
        snapshot=snapshot_from_reference(load_reference(settings)),
        rules=current.rules,  # the rules in force: stored ones over the current model's
        params=params,
    )
    train_s = time.perf_counter() - t1
    history = build_history(ds.frame, ds.outcomes, ds.parties, None, entity_map=ds.entity_map)
    labels = line_labels(test.outcomes) if test.outcomes is not None else pl.DataFrame()
    sets = {"recent": labels, "random": labels.filter(pl.col("random"))} if labels.height else {}
    evaluation: dict[str, dict[str, Any]] = {"new": {}, "current": {}}
    for name, b in (("new", bundle), ("current", current)):
        scored = _score(b, test.frame, history) if sets else pl.DataFrame()
        for which, lab in sets.items():
            evaluation[name][which] = _metrics(lab, scored)
    model_id = f"candidate-{bundle.version}"
    with engine.connect() as conn:
        if conn.execute(select(models.c.id).where(models.c.id == model_id)).first():
            # The version hashes the trained models: the same outcomes gave the same model.
            # Saving would overwrite the registered (perhaps promoted) bundle's files.
            raise Conflict(
                f"model {model_id} is registered already: nothing has changed in the outcomes "
                "since it was trained"
            )
    path = Path(out_dir or DEFAULT_OUT) / bundle.version
    bundle.save(path)
    flat = _flat(evaluation["new"])
    flat |= {f"current_{k}": v for k, v in _flat(evaluation["current"]).items()}
    summary = {
        "id": model_id,
        "path": str(path.resolve()),
        "promoted": False,
        "cut": cut.isoformat(),
        "train_lines": train.frame.height,
        "test_lines": test.frame.height,
        "labelled_lines": bundle.info.get("labelled_lines"),
        "positives": bundle.info.get("positives"),
        "load_seconds": round(load_s, 2),
        "train_seconds": round(train_s, 2),
        "new": evaluation["new"],
        "current": evaluation["current"],
        "current_id": current_id,
        "metrics": flat,
    }
    with translated(), engine.begin() as conn:  # a concurrent twin is a Conflict (409)
        conn.execute(
            insert(models).values(
                id=model_id,
                created_at=utcnow(),
                metrics=flat | {"evaluation": _jsonable(summary)},
                path=summary["path"],
                promoted=False,
            )
        )
        _audit(conn, actor, "create", model_id, {"trained_on": "system of record"}, user_id)
    summary["total_seconds"] = round(time.perf_counter() - t0, 2)
    return summary


def _jsonable(summary: dict[str, Any]) -> dict[str, Any]:
    """The evaluation part of a summary, with NaN (one class only) as null for JSON."""

    def clean(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, float) and x != x:
            return None
        return x

    keep = ("cut", "train_lines", "test_lines", "new", "current", "current_id")
    out: dict[str, Any] = clean({k: summary[k] for k in keep})
    return out


def promote(
    url: str | None, model_id: str, actor: str, *, user_id: int | None = None
) -> dict[str, Any]:
    """Promote ``model_id`` (demoting the promoted one) and write it to the audit log as
    ``actor`` (``user_id``: the signed-in user, when a person asked through the API or portal).

    Raises ``NotFound`` for an unknown model.  Returns the model row.
    """
    from tradeguard.config import get_settings
    from tradeguard.storage import engine_for

    engine = engine_for(url or get_settings().effective_database_url)
    with translated(), engine.begin() as conn:
        row = conn.execute(select(models.c.id).where(models.c.id == model_id)).first()
        if row is None:
            raise NotFound(f"no model {model_id}")
        previous = conn.execute(select(models.c.id).where(models.c.promoted)).scalars().all()
        conn.execute(update(models).where(models.c.promoted).values(promoted=False))
        conn.execute(
            update(models)
            .where(models.c.id == model_id)
            .values(promoted=True, promoted_at=utcnow(), promoted_by=actor)
        )
        _audit(conn, actor, "promote", model_id, {"previous": list(previous)}, user_id)
        out = conn.execute(select(models).where(models.c.id == model_id)).mappings().one()
        return dict(out)


__all__ = ["current_bundle", "promote", "retrain"]
