"""Every packaged data file is named, with its source, in reference/data/README.md."""

from __future__ import annotations

from tradeguard.reference import DATA_DIR
from tradeguard.reference.loader import DEFAULT_FILES


def test_every_packaged_file_is_in_the_data_readme() -> None:
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in DATA_DIR.iterdir() if p.is_file() and p.name != "README.md")
    assert files, "no packaged data files"
    missing = [f for f in files if f"`{f}`" not in readme]
    assert not missing, f"not described in reference/data/README.md: {missing}"


def test_every_default_file_is_packaged() -> None:
    for name in DEFAULT_FILES.values():
        assert (DATA_DIR / name).is_file(), name
