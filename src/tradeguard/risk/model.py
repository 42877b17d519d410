"""The learned part of the score: LightGBM boosters, their calibration, and how they combine.

A :class:`ModelSet` holds
- ``overall``: a binary booster for P(violation) of a line, Platt-calibrated on a later time
  slice than it was trained on;
- ``pti``: one such booster per priority trade issue with enough positives in the data; the
  other issues fall back to ``P(overall) x prior share of that issue among violations``;
- ``revenue``: a regressor for E[revenue loss | violation] (log scale, with Duan's smearing
  factor to undo the log's bias), so ``revenue_at_risk = score x E[loss | violation]``;
- ``rule_scale``: how rule points become a probability, learned on the calibration slice.

The final score combines the model with the rules as two independent pieces of evidence::

    p_rules = 1 - exp(-points / rule_scale)        # 0 points -> 0, saturates towards 1
    score   = 1 - (1 - p_model) * (1 - p_rules)    # per PTI with that PTI's points, and overall

so a targeter can read both parts (``p_model`` from the model, ``rule_points`` from the rules)
and see why a line scores high.  This module imports LightGBM and numpy only; training helpers
that need more live in :mod:`tradeguard.risk.train`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from tradeguard.risk.compiled import CompiledForest, compiled_forest, widen
from tradeguard.risk.treeshap import TreeShap, tree_shap

__all__ = ["Platt", "ModelSet", "combine", "rules_probability", "NUM_THREADS", "threads_for"]

NUM_THREADS = 2
# Below this many rows LightGBM predicts on one thread: starting and joining its OpenMP team
# costs milliseconds (8 ms for 70 rows on a loaded 2-core machine, against 0.2 ms on one
# thread), which an API micro-batch would pay per booster.  Each row is predicted by one
# thread either way, so the predictions are the same.
_ONE_THREAD_ROWS = 2048


def threads_for(rows: int) -> int:
    """How many threads LightGBM should predict ``rows`` rows with."""
    return 1 if rows < _ONE_THREAD_ROWS else NUM_THREADS


_EPS = 1e-6
_Z_MAX = 50.0  # |logit| beyond which the sigmoid is 0 or 1 to double precision


@dataclass(frozen=True)
class Platt:
    """Platt scaling ``sigmoid(a * logit(p) + b)``; strictly monotone, so ranking is kept."""

    a: float = 1.0
    b: float = 0.0

    def __call__(self, p: np.ndarray) -> np.ndarray:
        q = np.clip(p, _EPS, 1 - _EPS)
        z = self.a * np.log(q / (1 - q)) + self.b
        out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -_Z_MAX, _Z_MAX)))
        return out

    @classmethod
    def fit(cls, p: np.ndarray, y: np.ndarray, iters: int = 50) -> Platt:
        """Maximum-likelihood fit by Newton's method (two parameters, no sklearn needed)."""
        if y.sum() < 5 or (1 - y).sum() < 5:
            return cls()
        q = np.clip(p, _EPS, 1 - _EPS)
        x = np.log(q / (1 - q))
        a, b = 1.0, 0.0
        for _ in range(iters):
            # clipped: on well separated calibration data Newton's steps grow a and b, and
            # the sigmoid is flat out there anyway
            s = 1.0 / (1.0 + np.exp(-np.clip(a * x + b, -_Z_MAX, _Z_MAX)))
            g = np.array([np.sum((s - y) * x), np.sum(s - y)])
            w = s * (1 - s) + 1e-9
            h = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]])
            h += np.eye(2) * 1e-6
            step = np.linalg.solve(h, g)
            a, b = a - float(step[0]), b - float(step[1])
            if abs(step).max() < 1e-8:
                break
        if not (math.isfinite(a) and math.isfinite(b)) or a <= 0:
            return cls()
        return cls(a, b)


def rules_probability(points: np.ndarray, scale: float) -> np.ndarray:
    """``1 - exp(-points / scale)``; ``scale = inf`` switches the rules off (p = 0)."""
    if not math.isfinite(scale):
        return np.zeros_like(points, dtype=np.float64)
    out: np.ndarray = 1.0 - np.exp(-np.clip(points, 0.0, None) / scale)
    return out


def combine(p_model: np.ndarray, p_rules: np.ndarray) -> np.ndarray:
    """Noisy-or of two pieces of evidence, in [0, 1]."""
    out: np.ndarray = 1.0 - (1.0 - p_model) * (1.0 - p_rules)
    return out


@dataclass(frozen=True)
class ModelSet:
    """The boosters and their calibration; see the module docstring for the formula."""

    feature_names: list[str]
    overall: lgb.Booster | None
    overall_cal: Platt = field(default_factory=Platt)
    pti: dict[str, tuple[lgb.Booster, Platt]] = field(default_factory=dict)
    pti_prior: dict[str, float] = field(default_factory=dict)
    base_rate: float = 0.0
    revenue: lgb.Booster | None = None
    revenue_smear: float = 1.0
    revenue_mean: float = 0.0
    rule_scale: float = float("inf")
    info: dict[str, Any] = field(default_factory=dict)
    # id(booster) -> its compiled form (``risk.compiled``), filled by ``use_compiled``
    compiled: dict[int, CompiledForest] = field(default_factory=dict, compare=False, repr=False)
    # id(booster) -> its TreeSHAP tables (``risk.treeshap``; None: too large), built on first use
    shap: dict[int, TreeShap | None] = field(default_factory=dict, compare=False, repr=False)

    def use_compiled(self, *, compile_missing: bool = False) -> int:
        """Predict with the compiled form of every booster that has one cached for this
        machine (compiling the others first when ``compile_missing``); the number of boosters
        that now predict compiled.  The predictions are LightGBM's to ~1e-15."""
        for b in self.boosters():
            if id(b) not in self.compiled:
                fast = compiled_forest(b.model_to_string(), compile_missing=compile_missing)
                if fast is not None:
                    self.compiled[id(b)] = fast
        return len(self.compiled)

    def _predict(self, booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
        """One booster's predictions: its compiled form if it has one, else LightGBM."""
        threads = threads_for(x.shape[0])
        fast = self.compiled.get(id(booster))
        if fast is not None:
            return fast.predict(x, threads)
        out: np.ndarray = np.asarray(booster.predict(x, num_threads=threads))
        return out

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """(p_overall, {pti: p}, E[loss | violation]) for each row of ``x`` (model part only)."""
        n = x.shape[0]
        if self.compiled:  # compiled boosters read float64: widen the rows once, not per booster
            x = widen(x)
        if self.overall is not None:
            p = self.overall_cal(self._predict(self.overall, x))
        else:
            p = np.full(n, self.base_rate)
        per: dict[str, np.ndarray] = {}
        for name, prior in self.pti_prior.items():
            if name in self.pti:
                booster, cal = self.pti[name]
                per[name] = cal(self._predict(booster, x))
            else:
                per[name] = p * prior
        if self.revenue is not None:
            loss = np.maximum(
                np.exp(self._predict(self.revenue, x)) * self.revenue_smear - 1.0, 0.0
            )
        else:
            loss = np.full(n, self.revenue_mean)
        return p, per, loss

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """TreeSHAP of the overall booster for each row of ``x``: (rows, features + 1), the
        expected value last, in log-odds of the uncalibrated model (``pred_contrib``).

        From the booster's TreeSHAP tables, several times faster than LightGBM's recursion with
        the same values to rounding; LightGBM's ``pred_contrib`` if the tables would be too
        large (very deep trees)."""
        booster = self.overall
        if booster is None:
            raise ValueError("no overall model to explain")
        key = id(booster)
        if key not in self.shap:  # a race builds the same tables twice, harmlessly
            self.shap[key] = tree_shap(booster)
        tables = self.shap[key]
        if tables is not None:
            return tables.contributions(x)
        threads = threads_for(x.shape[0])
        out: np.ndarray = np.asarray(booster.predict(x, pred_contrib=True, num_threads=threads))
        return out

    def boosters(self) -> list[lgb.Booster]:
        """Every booster, for timing bare prediction in benchmarks."""
        out = [b for b in (self.overall, self.revenue) if b is not None]
        return out + [b for b, _ in self.pti.values()]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta: dict[str, Any] = {
            "feature_names": self.feature_names,
            "overall_cal": [self.overall_cal.a, self.overall_cal.b],
            "pti_cal": {k: [c.a, c.b] for k, (_, c) in self.pti.items()},
            "pti_prior": self.pti_prior,
            "base_rate": self.base_rate,
            "revenue_smear": self.revenue_smear,
            "revenue_mean": self.revenue_mean,
            "rule_scale": self.rule_scale if math.isfinite(self.rule_scale) else None,
            "info": self.info,
        }
        (directory / "models.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
        if self.overall is not None:
            self.overall.save_model(str(directory / "overall.txt"))
        if self.revenue is not None:
            self.revenue.save_model(str(directory / "revenue.txt"))
        for k, (b, _) in self.pti.items():
            b.save_model(str(directory / f"pti_{k}.txt"))

    @classmethod
    def load(cls, directory: Path) -> ModelSet:
        meta = json.loads((directory / "models.json").read_text())

        def booster(name: str) -> lgb.Booster | None:
            path = directory / name
            return lgb.Booster(model_file=str(path)) if path.exists() else None

        pti: dict[str, tuple[lgb.Booster, Platt]] = {}
        for k, (a, b) in meta["pti_cal"].items():
            bst = booster(f"pti_{k}.txt")
            if bst is not None:
                pti[k] = (bst, Platt(a, b))
        scale = meta["rule_scale"]
        return cls(
            feature_names=list(meta["feature_names"]),
            overall=booster("overall.txt"),
            overall_cal=Platt(*meta["overall_cal"]),
            pti=pti,
            pti_prior={k: float(v) for k, v in meta["pti_prior"].items()},
            base_rate=float(meta["base_rate"]),
            revenue=booster("revenue.txt"),
            revenue_smear=float(meta["revenue_smear"]),
            revenue_mean=float(meta["revenue_mean"]),
            rule_scale=float("inf") if scale is None else float(scale),
            info=dict(meta.get("info", {})),
        )
