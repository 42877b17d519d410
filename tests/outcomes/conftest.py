"""The small system of record (``system.py``) built once per session, copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _system_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.outcomes.system import build_system

    directory = tmp_path_factory.mktemp("system")
    build_system(directory)
    return directory / "system.sqlite"


@pytest.fixture
def system_url(_system_file: Path, tmp_path: Path) -> Iterator[str]:
    """A private copy of the system of record (SQLite), safe to change."""
    from tradeguard import storage

    path = tmp_path / "system.sqlite"
    shutil.copyfile(_system_file, path)
    url = f"sqlite:///{path}"
    yield url
    storage.dispose(url)
