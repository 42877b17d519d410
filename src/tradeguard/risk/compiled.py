"""The boosters compiled to machine code for this machine (lleaves, over LLVM).

LightGBM's own ``predict`` walks its trees through a general interpreter and prepares every
row first; on the targeting models (a few hundred small trees over 61 features) that costs
~1.2 CPU-s per million rows and booster, the largest single cost of scoring a file.  lleaves
turns the same model text into native code: the same trees, the same splits (categorical
bitsets and missing-value directions included), evaluated in double precision like LightGBM,
so the predictions agree with LightGBM's to ~1e-15 (a test checks every booster of a trained
bundle, with missing values and unseen categories).

Compiling takes about a second per booster of this size, so it is done once per model and
machine and cached: the object file is named by a hash of the model text, the lleaves and
LLVM versions and the host CPU, in ``TRADEGUARD_CACHE_DIR`` (default
``$XDG_CACHE_HOME/tradeguard``, else ``~/.cache/tradeguard``), under ``compiled/``.
``tradeguard train`` compiles the boosters it saves; ``tradeguard score`` compiles before a large
file if they are not cached yet; loading a bundle picks up what is cached, so the API's
workers use compiled models whenever the machine has them.

Without lleaves (or with ``TRADEGUARD_COMPILED_MODELS=0``) every prediction goes through
LightGBM, with the same results.  TreeSHAP explanations come from ``risk.treeshap``'s tables.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CompiledForest", "cache_dir", "enabled", "compiled_forest", "widen"]

log = logging.getLogger(__name__)

_ENV_SWITCH = "TRADEGUARD_COMPILED_MODELS"
_ENV_CACHE = "TRADEGUARD_CACHE_DIR"


def enabled() -> bool:
    """Whether compiled models may be used (lleaves importable, not switched off)."""
    if os.environ.get(_ENV_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return _lleaves() is not None


@cache
def _lleaves() -> Any:
    try:
        import lleaves
    except ImportError:  # an optional speed-up: LightGBM predicts the same
        return None
    return lleaves


def cache_dir() -> Path:
    """Where compiled boosters are kept (``TRADEGUARD_CACHE_DIR``/compiled)."""
    root = os.environ.get(_ENV_CACHE)
    if root:
        return Path(root) / "compiled"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "tradeguard" / "compiled"


@cache
def _host_key() -> str:
    """What an object file is only valid for: the compilers' versions and this CPU."""
    import llvmlite
    import llvmlite.binding as llvm

    try:
        features = llvm.get_host_cpu_features().flatten()
    except RuntimeError:
        features = ""
    return "|".join(
        [
            metadata.version("lleaves"),
            llvmlite.__version__,
            llvm.get_process_triple(),
            llvm.get_host_cpu_name(),
            features,
        ]
    )


# Matrices from this many cells are widened into a buffer kept per thread: a fresh 100 MB
# array costs more in first-touch page faults (0.1-0.6 s on a virtual machine) than copying.
_REUSE_CELLS = 1_000_000
_scratch = threading.local()


def widen(x: np.ndarray) -> np.ndarray:
    """``x`` as C-contiguous float64 (exact for float32).  A large matrix is written into this
    thread's scratch buffer, so the result is valid only until the thread's next call."""
    if x.dtype == np.float64 and x.flags.c_contiguous:
        return x
    if x.ndim != 2 or x.size < _REUSE_CELLS:
        return np.ascontiguousarray(x, dtype=np.float64)
    buf: np.ndarray | None = getattr(_scratch, "buf", None)
    if buf is None or buf.size < x.size:
        buf = np.empty(x.size, dtype=np.float64)
        _scratch.buf = buf
    out = buf[: x.size].reshape(x.shape)
    np.copyto(out, x)
    return out


class CompiledForest:
    """One booster as native code; ``predict`` is LightGBM's ``predict`` (not raw scores)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, x: np.ndarray, threads: int) -> np.ndarray:
        # lleaves reads float64 rows; a float32 matrix is widened exactly (no rounding)
        out: np.ndarray = self._model.predict(widen(x), n_jobs=max(1, threads))
        return out


def compiled_forest(model_text: str, *, compile_missing: bool) -> CompiledForest | None:
    """The compiled form of a booster (its ``model_to_string()``), from the cache, or compiled
    now when ``compile_missing``; None when compiled models are off, or not cached and not to
    be compiled, or the compiler fails (then LightGBM predicts, with a warning)."""
    if not enabled():
        return None
    key = hashlib.sha256(f"{_host_key()}\n{model_text}".encode()).hexdigest()[:24]
    target = cache_dir() / f"{key}.o"
    if not target.exists() and not compile_missing:
        return None
    lleaves = _lleaves()
    with tempfile.TemporaryDirectory(prefix="tradeguard-model-") as tmp:
        model_file = Path(tmp) / "model.txt"
        model_file.write_text(model_text)
        try:
            model = lleaves.Model(model_file=str(model_file))
            if target.exists():
                model.compile(cache=str(target))
            else:
                # compiled into a file of our own, then renamed: a reader never sees half
                target.parent.mkdir(parents=True, exist_ok=True)
                scratch = Path(tmp) / "model.o"
                model.compile(cache=str(scratch))
                _publish(scratch, target)
        except Exception as exc:  # noqa: BLE001 - any compiler failure falls back to LightGBM
            log.warning("could not compile a model with lleaves (%s); LightGBM predicts", exc)
            return None
    return CompiledForest(model)


def _publish(src: Path, dst: Path) -> None:
    """Copy next to ``dst``, then rename: atomic even across file systems."""
    part = dst.with_suffix(f".{os.getpid()}.part")
    part.write_bytes(src.read_bytes())
    os.replace(part, dst)
