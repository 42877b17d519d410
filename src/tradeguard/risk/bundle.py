"""The frozen scoring bundle: everything ``score_batch`` needs, saved as one model directory.

Layout of a model directory::

    bundle.json          version, thresholds, feature spec (vocabularies, flags), training info
    spec/                frequency encodings and value norms (Parquet)
    reference/           the reference snapshot (HTS rates, AD/CVD scopes, Chapter 99)
    history/             time-aware cumulative aggregates
    models/              LightGBM boosters (text) + calibration (models.json)
    rules/               the targeting rules and lists (YAML) the bundle was built with

A bundle is immutable once built; retraining writes a new directory with a new ``version``,
which every assessment records, so a score can always be traced to the bundle that made it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from tradeguard.errors import NotFound
from tradeguard.risk.features import FeatureSpec
from tradeguard.risk.history import HistoryTables
from tradeguard.risk.model import ModelSet
from tradeguard.risk.snapshot import ReferenceSnapshot

__all__ = ["ScoringBundle", "DEFAULT_THRESHOLDS"]

# explain: lines scoring at least this get reasons (set from the training score distribution)
# explain_max_share: at most this share of a batch is explained (TreeSHAP costs ~0.3 ms a line)
DEFAULT_THRESHOLDS: dict[str, float] = {
    "explain": 0.5,
    "explain_max_share": 0.01,
    "max_reasons": 5.0,
}


@dataclass(frozen=True)
class ScoringBundle:
    """Rules, models, reference snapshot, history tables and thresholds, frozen together."""

    version: str
    spec: FeatureSpec
    models: ModelSet
    snapshot: ReferenceSnapshot = field(default_factory=ReferenceSnapshot)
    history: HistoryTables = field(default_factory=HistoryTables)
    rules: Any = None  # tradeguard.risk.rules.RuleSet, or None for "no rules"
    rules_dir: Path | None = None
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    info: dict[str, Any] = field(default_factory=dict)

    def with_history(self, history: HistoryTables) -> ScoringBundle:
        """The same bundle with fresher history tables (outcomes learned since training)."""
        return replace(self, history=history)

    @staticmethod
    def make_version(models: ModelSet, spec: FeatureSpec, stamp: str) -> str:
        h = hashlib.sha256(json.dumps(spec.to_json(), sort_keys=True).encode())
        for b in models.boosters():
            h.update(b.model_to_string().encode())
        return f"{stamp}-{h.hexdigest()[:10]}"

    def save(self, directory: Path | str) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        meta = {
            "version": self.version,
            "thresholds": self.thresholds,
            "spec": self.spec.to_json(),
            "frequency_cols": list(self.spec.frequency),
            "norms": list(self.spec.norms),
            "info": self.info,
        }
        (d / "bundle.json").write_text(json.dumps(meta, indent=1, sort_keys=True, default=str))
        spec_dir = d / "spec"
        spec_dir.mkdir(exist_ok=True)
        for c, t in self.spec.frequency.items():
            t.write_parquet(spec_dir / f"freq_{c}.parquet")
        for k, t in self.spec.norms.items():
            t.write_parquet(spec_dir / f"norm_{k}.parquet")
        self.snapshot.save(d / "reference")
        self.history.save(d / "history")
        self.models.save(d / "models")
        rules_out = d / "rules"
        if self.rules_dir is not None and Path(self.rules_dir).resolve() != rules_out.resolve():
            if rules_out.exists():
                shutil.rmtree(rules_out)
            src = Path(self.rules_dir)
            rules_out.mkdir()
            for f in sorted(src.glob("*.y*ml")) if src.is_dir() else [src]:
                shutil.copy2(f, rules_out / f.name)
        elif self.rules_dir is None and self.rules is not None:
            # rules composed in memory (stored rules over a model's): freeze them as YAML
            from tradeguard.risk.rules import save_rules

            save_rules(self.rules, rules_out)
        return d

    @classmethod
    def load(cls, directory: Path | str, *, rules_dir: Path | str | None = None) -> ScoringBundle:
        """Load a model directory; ``rules_dir`` replaces the rules frozen into it."""
        d = Path(directory)
        if not (d / "bundle.json").exists():
            raise NotFound(f"no scoring bundle in {d} (bundle.json missing); run tradeguard train")
        meta = json.loads((d / "bundle.json").read_text())
        s = meta["spec"]
        spec = FeatureSpec(
            hts_digits=int(s["hts_digits"]),
            use_reference=bool(s["use_reference"]),
            use_tax_rate=bool(s["use_tax_rate"]),
            vocab={k: list(v) for k, v in s["vocab"].items()},
            frequency={
                c: pl.read_parquet(d / "spec" / f"freq_{c}.parquet") for c in meta["frequency_cols"]
            },
            norms=_read_norms(d / "spec", list(meta["norms"])),
            extra_numeric=list(s["extra_numeric"]),
            extra_categorical=list(s["extra_categorical"]),
            absent=list(s.get("absent", [])),
            evasion=list(s.get("evasion", [])),
        )
        rdir = Path(rules_dir) if rules_dir is not None else d / "rules"
        rules = load_ruleset(rdir) if rdir.exists() and any(rdir.glob("*.y*ml")) else None
        models = ModelSet.load(d / "models")
        models.use_compiled()  # whatever this machine has compiled of these boosters
        return cls(
            version=str(meta["version"]),
            spec=spec,
            models=models,
            snapshot=ReferenceSnapshot.load(d / "reference"),
            history=HistoryTables.load(d / "history"),
            rules=rules,
            rules_dir=rdir if rules is not None else None,
            thresholds={k: float(v) for k, v in meta["thresholds"].items()},
            info=dict(meta.get("info", {})),
        )


def _read_norms(spec_dir: Path, names: list[str]) -> dict[str, pl.DataFrame]:
    """Value norms by HTS level ("6", "4"); bundles written before the unit-value and
    value-per-kg norms were merged (``uv6``, ``wv6`` ...) are converted on the fly."""
    tables = {k: pl.read_parquet(spec_dir / f"norm_{k}.parquet") for k in names}
    if "6" in tables or not tables:
        return tables
    out: dict[str, pl.DataFrame] = {}
    for lvl in ("6", "4"):
        parts = [
            tables[f"{n}{lvl}"].select(
                "key", pl.col("med").alias(f"{n}_med"), pl.col("mad").alias(f"{n}_mad")
            )
            for n in ("uv", "wv")
            if f"{n}{lvl}" in tables
        ]
        if len(parts) == 2:
            out[lvl] = parts[0].join(parts[1], on="key", how="full", coalesce=True)
    return out


def load_ruleset(directory: Path) -> Any:
    """Load targeting rules with :func:`tradeguard.risk.rules.load_rules`."""
    from tradeguard.risk.rules import load_rules

    return load_rules(directory)
