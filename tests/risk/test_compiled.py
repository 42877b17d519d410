"""The boosters compiled for this machine (``risk.compiled``) predict what LightGBM predicts."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.risk.planted import hard_rows
from tradeguard.risk import compiled
from tradeguard.risk.bundle import ScoringBundle
from tradeguard.risk.dataset import Dataset
from tradeguard.risk.model import ModelSet


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRADEGUARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TRADEGUARD_COMPILED_MODELS", raising=False)
    return tmp_path / "cache" / "compiled"


def _fresh(models: ModelSet) -> ModelSet:
    """The same boosters with nothing compiled (the session bundle is shared)."""
    return replace(models, compiled={})


def _assert_same(a: tuple, b: tuple) -> None:  # type: ignore[type-arg]
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-12)
    assert a[1].keys() == b[1].keys()
    for k in a[1]:
        np.testing.assert_allclose(a[1][k], b[1][k], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a[2], b[2], rtol=1e-9, atol=1e-9)


def test_compiled_predictions_equal_lightgbm(
    cache: Path, planted_bundle: ScoringBundle, planted_split: tuple[Dataset, Dataset]
) -> None:
    x = hard_rows(planted_bundle, planted_split)
    plain = _fresh(planted_bundle.models)
    fast = _fresh(planted_bundle.models)
    n = len(fast.boosters())
    assert n >= 2  # overall and revenue at least
    assert fast.use_compiled(compile_missing=True) == n
    _assert_same(fast.predict(x), plain.predict(x))
    # one row (one thread), and a matrix large enough for the per-thread scratch buffer,
    # twice in a row: the buffer's reuse must not leak one call's rows into the next
    _assert_same(fast.predict(x[:1]), plain.predict(x[:1]))
    reps = -(-compiled._REUSE_CELLS // x.size) + 1
    big = np.ascontiguousarray(np.tile(x, (reps, 1)))
    _assert_same(fast.predict(big), plain.predict(big))
    _assert_same(fast.predict(big[::-1].copy()), plain.predict(big[::-1].copy()))


def test_compiled_once_then_loaded_from_the_cache(
    cache: Path, tmp_path: Path, planted_bundle: ScoringBundle
) -> None:
    models = _fresh(planted_bundle.models)
    n = len(models.boosters())
    assert models.use_compiled() == 0  # nothing cached: not compiled unless asked
    assert not cache.exists() or not list(cache.iterdir())
    assert models.use_compiled(compile_missing=True) == n
    files = sorted(cache.glob("*.o"))
    assert len(files) == n
    stamps = [f.stat().st_mtime_ns for f in files]
    # a bundle loaded from disk finds them by the model text: nothing compiled again
    planted_bundle.save(tmp_path / "bundle")
    loaded = ScoringBundle.load(tmp_path / "bundle")
    assert len(loaded.models.compiled) == n
    assert sorted(cache.glob("*.o")) == files
    assert [f.stat().st_mtime_ns for f in files] == stamps


def test_switched_off_or_failing_compiler_falls_back_to_lightgbm(
    cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    planted_bundle: ScoringBundle,
    planted_split: tuple[Dataset, Dataset],
) -> None:
    x = hard_rows(planted_bundle, planted_split)
    expected = _fresh(planted_bundle.models).predict(x)

    monkeypatch.setenv("TRADEGUARD_COMPILED_MODELS", "0")
    off = _fresh(planted_bundle.models)
    assert off.use_compiled(compile_missing=True) == 0
    _assert_same(off.predict(x), expected)
    monkeypatch.delenv("TRADEGUARD_COMPILED_MODELS")

    lleaves = compiled._lleaves()

    def broken(self: object, *a: object, **kw: object) -> None:
        raise RuntimeError("no code generator for this CPU")

    monkeypatch.setattr(lleaves.Model, "compile", broken)
    failing = _fresh(planted_bundle.models)
    with caplog.at_level(logging.WARNING, logger="tradeguard.risk.compiled"):
        assert failing.use_compiled(compile_missing=True) == 0
    assert "no code generator for this CPU" in caplog.text
    assert not cache.exists() or not list(cache.glob("*.o"))  # nothing half-written kept
    _assert_same(failing.predict(x), expected)
