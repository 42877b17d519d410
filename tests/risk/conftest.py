"""Fixtures of the risk tests: a planted dataset and a bundle trained on it (once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.risk.planted import SMALL, planted, write
from tradeguard.risk.bundle import ScoringBundle
from tradeguard.risk.dataset import Dataset, load_dataset, split_by_time
from tradeguard.risk.snapshot import ReferenceSnapshot
from tradeguard.risk.train import train_bundle


@pytest.fixture(scope="session")
def planted_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(planted(n_entries=1200, seed=3), tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="session")
def planted_split(planted_dir: Path) -> tuple[Dataset, Dataset]:
    train, test, _ = split_by_time(load_dataset(planted_dir))
    return train, test


@pytest.fixture(scope="session")
def planted_bundle(planted_split: tuple[Dataset, Dataset]) -> ScoringBundle:
    return train_bundle(planted_split[0], snapshot=ReferenceSnapshot(), params=SMALL)
