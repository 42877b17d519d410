from __future__ import annotations

import pytest

from tradeguard.reference import Reference, load_reference


@pytest.fixture(scope="session")
def ref() -> Reference:
    """The packaged reference data, loaded once for the session."""
    return load_reference()
