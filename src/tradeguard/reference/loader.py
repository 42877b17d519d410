"""Assembling the reference snapshot: which files, loaded once per process, with a version.

Each file comes from its ``Settings`` field when set (the user's own list) and from the
packaged ``reference/data/`` otherwise.  The version is a hash of the bytes of every file
used, so a scoring bundle that froze a snapshot can tell later whether the data changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tradeguard.config import Settings
from tradeguard.errors import IssueCollector, ReferenceDataMissing
from tradeguard.reference.hts import HtsSchedule, file_digest, load_hts
from tradeguard.reference.remedies import (
    AdcvdOrders,
    AdditionalDuties,
    load_adcvd,
    load_additional_duties,
)
from tradeguard.reference.tables import (
    Countries,
    FeeSchedule,
    Ports,
    SpiPrograms,
    load_countries,
    load_fees,
    load_ports,
    load_spi,
)

__all__ = ["DATA_DIR", "DEFAULT_FILES", "Reference", "load_reference", "reference_files"]

DATA_DIR = Path(__file__).parent / "data"

# Settings field -> packaged file used when the field is unset.
DEFAULT_FILES: dict[str, str] = {
    "hts_file": "hts_2026_revision_4_csv.csv",
    "countries_file": "countries.csv",
    "ports_file": "ports.csv",
    "spi_file": "spi_programs.csv",
    "fees_file": "fees.csv",
    "adcvd_file": "adcvd_orders.csv",
    "additional_duties_file": "additional_duties.csv",
}


@dataclass(frozen=True)
class Reference:
    """One consistent snapshot of the reference data; see the package docstring."""

    hts: HtsSchedule
    countries: Countries
    ports: Ports
    spi: SpiPrograms
    fees: FeeSchedule
    adcvd: AdcvdOrders
    additional_duties: AdditionalDuties
    version: str
    files: tuple[tuple[str, str], ...] = ()  # (settings field, path) of each file used

    def replace(self, **tables: object) -> Reference:
        """A copy with some tables swapped; the version records which ones were replaced.

        >>> ref = load_reference()                                          # doctest: +SKIP
        >>> bare = ref.replace(adcvd=AdcvdOrders.empty(),
        ...                    additional_duties=AdditionalDuties.empty())  # doctest: +SKIP
        """
        changed = "|".join(f"{k}:{_digest(v)}" for k, v in sorted(tables.items()))
        version = hashlib.sha256(f"{self.version}|{changed}".encode()).hexdigest()[:16]
        return dataclasses.replace(self, version=version, **tables)  # type: ignore[arg-type]

    def without_remedies(self) -> Reference:
        """This snapshot with empty AD/CVD and Chapter 99 tables (base duty and fees only)."""
        return self.replace(adcvd=AdcvdOrders.empty(), additional_duties=AdditionalDuties.empty())


def _digest(table: object) -> str:
    """A content hash of a replaced table, so equal replacements give equal versions."""
    frame = getattr(table, "frame", None)
    if frame is None and isinstance(table, HtsSchedule):
        frame = table.lines
    if frame is None:
        return repr(table)
    return hashlib.sha256(repr(frame.rows()).encode()).hexdigest()[:16]


def reference_files(settings: Settings | None = None) -> dict[str, Path]:
    """The file used for each reference table: the setting when given, else the packaged one."""
    settings = settings or Settings()
    out = {}
    for name, default in DEFAULT_FILES.items():
        override = getattr(settings, name)
        out[name] = Path(override) if override else DATA_DIR / default
    return out


@lru_cache(maxsize=8)
def _load(
    files: tuple[tuple[str, str], ...], stamps: tuple[int, ...], carry_fees: bool = False
) -> Reference:
    paths = {k: Path(v) for k, v in files}
    countries = load_countries(paths["countries_file"])
    codes = countries.codes
    hts = load_hts(paths["hts_file"])
    digest = hashlib.sha256()
    for name, path in sorted(paths.items()):
        digest.update(f"{name}={file_digest(path)};".encode())
    return Reference(
        hts=hts,
        countries=countries,
        ports=load_ports(paths["ports_file"]),
        spi=load_spi(paths["spi_file"], codes),
        # the version is the data's digest: the carry-forward policy does not change it
        fees=load_fees(paths["fees_file"], carry_forward=carry_fees),
        adcvd=load_adcvd(paths["adcvd_file"], codes),
        additional_duties=load_additional_duties(paths["additional_duties_file"], codes),
        version=digest.hexdigest()[:16],
        files=files,
    )


def load_reference(settings: Settings | None = None) -> Reference:
    """Load (once per process and set of files) the reference snapshot.

    ``settings`` defaults to ``Settings()`` read from the environment; every table may be
    replaced by the user's file through its setting (``TRADEGUARD_HTS_FILE``, ...).  Raises
    ``ReferenceDataMissing`` listing every problem of a bad file.  The fee schedule carries
    the ``TRADEGUARD_FEES_CARRY_FORWARD`` policy (see ``FeeSchedule.resolve``).
    """
    settings = settings or Settings()
    paths = reference_files(settings)
    missing = IssueCollector()
    for name, path in paths.items():
        if not path.is_file():
            missing.add(name, "reference file not found", str(path))
    missing.raise_if_any("reference file not found", ReferenceDataMissing)
    files = tuple((k, str(p.resolve())) for k, p in paths.items())
    # modification times in the key: an edited file is re-read, an unchanged one is not
    stamps = tuple(Path(p).stat().st_mtime_ns if Path(p).exists() else -1 for _, p in files)
    return _load(files, stamps, settings.fees_carry_forward)
