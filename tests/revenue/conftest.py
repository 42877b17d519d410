from __future__ import annotations

import pytest

from tradeguard.reference import Reference, load_reference


@pytest.fixture(scope="session")
def full_ref() -> Reference:
    """The packaged reference data, with the illustrative AD/CVD and Chapter 99 samples."""
    return load_reference()


@pytest.fixture(scope="session")
def bare_ref(full_ref: Reference) -> Reference:
    """The same snapshot with empty AD/CVD and Chapter 99 tables (the known-answer setting)."""
    return full_ref.without_remedies()
