"""Reference data: the HTS, countries, ports, SPI programs, fees and trade remedies.

One entry point::

    from tradeguard.reference import load_reference
    ref = load_reference()            # or load_reference(settings); cached per set of files

returns a frozen :class:`Reference` with

==========================  ====================================================================
``ref.hts``                 :class:`HtsSchedule` -- ``.lines`` (polars, one row per 10-digit
                            line with parsed General/Column 2 rates, units, SPI list, chapter,
                            section; columns in :data:`LINE_COLUMNS`), ``.special`` (long
                            ``hts10, spi, text, ad_valorem, specific, unit, supported``),
                            ``.line(hts)`` (refuses unknown numbers and headings, listing the
                            children), ``.children(prefix)``, ``.is_valid(hts)``
``ref.countries``           :class:`Countries` -- ``.frame`` (alpha2, alpha3, numeric, name,
                            region, subregion), ``.is_valid``, ``.name``, ``.codes``
``ref.ports``               :class:`Ports` -- ``.frame`` (port_code, name, state, vessel, air,
                            land), ``.is_valid``, ``.get``, ``.serves(port, mode)``, ``.codes``
``ref.spi``                 :class:`SpiPrograms` -- ``.frame``, ``.eligibility`` (long
                            ``spi, origin``; ``*`` = any origin), ``.origin_eligible``,
                            ``.in_force``
``ref.fees``                :class:`FeeSchedule` -- ``.for_date(d)`` / ``.for_year(fy)`` ->
                            :class:`FeeYear` (mpf_rate, mpf_min, mpf_max, hmf_rate); a fiscal
                            year without values raises ``ReferenceDataMissing``
``ref.adcvd``               :class:`AdcvdOrders` -- ``.frame`` (one row per deposit rate; null
                            ``company_case`` = all-others), ``.in_scope(hts10, origin, date)``
``ref.additional_duties``   :class:`AdditionalDuties` -- Chapter 99 rows, ``.applicable(...)``
``ref.version``             16 hex characters hashing every file used
==========================  ====================================================================

Each file can be replaced by the user's own through a setting (``TRADEGUARD_HTS_FILE``,
``_COUNTRIES_FILE``, ``_PORTS_FILE``, ``_SPI_FILE``, ``_FEES_FILE``, ``_ADCVD_FILE``,
``_ADDITIONAL_DUTIES_FILE``); a bad file is refused with every problem listed (row and field).
``ref.without_remedies()`` gives the same snapshot with empty AD/CVD and Chapter 99 tables.
The packaged files and their sources are listed in ``reference/data/README.md``.

HTS numbers are handled as 10 digits without dots (``6109100012``); :func:`normalize_hts`
accepts the dotted forms.  Rates are parsed by :func:`parse_rate` / :func:`parse_special`.
"""

from __future__ import annotations

from tradeguard.reference.hts import (
    LINE_COLUMNS,
    HtsLine,
    HtsSchedule,
    format_hts,
    load_hts,
    normalize_hts,
)
from tradeguard.reference.loader import DATA_DIR, Reference, load_reference, reference_files
from tradeguard.reference.rates import Rate, parse_rate, parse_special, unit_factor, unit_key
from tradeguard.reference.remedies import (
    AdcvdOrders,
    AdditionalDuties,
    load_adcvd,
    load_additional_duties,
)
from tradeguard.reference.tables import (
    COLUMN2_COUNTRIES,
    Countries,
    FeeSchedule,
    FeeYear,
    Ports,
    SpiPrograms,
    fiscal_year,
)

__all__ = [
    "COLUMN2_COUNTRIES",
    "DATA_DIR",
    "LINE_COLUMNS",
    "AdcvdOrders",
    "AdditionalDuties",
    "Countries",
    "FeeSchedule",
    "FeeYear",
    "HtsLine",
    "HtsSchedule",
    "Ports",
    "Rate",
    "Reference",
    "SpiPrograms",
    "fiscal_year",
    "format_hts",
    "load_adcvd",
    "load_additional_duties",
    "load_hts",
    "load_reference",
    "normalize_hts",
    "parse_rate",
    "parse_special",
    "reference_files",
    "unit_factor",
    "unit_key",
]
