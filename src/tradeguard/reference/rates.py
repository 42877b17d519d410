"""Rates of duty as the HTS writes them, parsed into numbers the revenue engine can compute.

The USITC export writes rates as text: ``Free``, ad valorem ``16.5%``, specific ``4.4¢/kg``,
``$1.35/doz.``, ``24¢ each``, compound ``1.9¢/kg + 2.6%``, and a few hundred formula or
qualified rates (``3.9% on the movement + 5.3% on the battery``, sugar by polarity degree,
``5.4¢/kg on drained weight``).  A :class:`Rate` keeps the original text and, when the form is
computable, its ad valorem fraction plus at most one specific amount in USD per unit.  The
other forms stay text with ``supported=False`` so that computing them raises
:class:`tradeguard.errors.UnsupportedRate` instead of silently charging zero.

The ``Special Rate of Duty`` column lists preferential rates, each followed by the Special
Program Indicators (SPI) that earn it: ``Free (A+,AU,BH, CL,...) 2.8¢/liter (JO)``.
:func:`parse_special` turns that into ``{"A+": Rate(Free), ..., "JO": Rate(2.8¢/liter)}``.

>>> r = parse_rate("1.9¢/kg + 2.6%")
>>> (r.ad_valorem, r.specific, r.unit, r.supported)
(0.026, 0.019, 'kg', True)
>>> sorted(parse_special("Free (AU, JO) 2.8¢/liter (KR)"))
['AU', 'JO', 'KR']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Rate", "parse_rate", "parse_special", "unit_key", "unit_factor"]

_NUM = r"(\d+(?:\.\d+)?)"
_ADVAL = re.compile(rf"^{_NUM}\s*%$")
_CENTS = re.compile(rf"^{_NUM}\s*¢\s*(?:/\s*(.+)|each)$")
_DOLLARS = re.compile(rf"^\$\s*{_NUM}\s*(?:/\s*(.+)|each)$")
# One group of the Special column: the rate text, then its SPI list in parentheses.
_SPECIAL_GROUP = re.compile(r"([^()]*?)\s*\(([^()]*)\)")

# Unit words in rate texts -> the HTS unit-of-quantity they are counted in.  Units qualified
# by "on ... content", "of total sugars", "including weight of container" are not here on
# purpose: they need a quantity the entry line does not carry, so those rates are unsupported.
_RATE_UNITS = {  # keys written without dots, spaces or hyphens ("pf. liter" -> "pfliter")
    "kg": "kg",
    "g": "g",
    "t": "t",
    "liter": "liters",
    "pfliter": "pf.liters",
    "doz": "doz.",
    "pr": "prs.",
    "each": "No.",
    "article": "No.",
    "head": "No.",
    "gross": "gross",
    "1000": "thousands",
    "1,000": "thousands",
    "thousand": "thousands",
    "m": "m",
    "linm": "lin. m",
    "m2": "m2",
    "m3": "m3",
    "bbl": "bbl",
    "pack": "pack",
}

# Canonical keys under which quantities and rate units are compared ("liters" == "liter").
_UNIT_ALIASES = {
    "liters": "l",
    "liter": "l",
    "l": "l",
    "pf.liters": "pfl",
    "pfliters": "pfl",
    "pfliter": "pfl",
    "no": "no",
    "each": "no",
    "pcs": "no",
    "pieces": "no",
    "prs": "pr",
    "pr": "pr",
    "pairs": "pr",
    "doz": "doz",
    "dozen": "doz",
    "thousands": "1000",
    "thousand": "1000",
    "1000": "1000",
    "kgs": "kg",
    "kilograms": "kg",
    "m²": "m2",
    "linm": "m",
    "m³": "m3",
}

# Mass is the one dimension where a line may be reported in a different unit than the rate
# (grams or tonnes against a per-kg rate): factors into kilograms.
_MASS_KG = {"kg": 1.0, "g": 0.001, "t": 1000.0}


def unit_key(unit: str | None) -> str | None:
    """Canonical comparison key of a unit (``"Liters"`` -> ``"l"``, ``"No."`` -> ``"no"``)."""
    if unit is None:
        return None
    k = unit.strip().lower().replace(" ", "")
    if not k:
        return None
    k = _UNIT_ALIASES.get(k, k)
    k = k.rstrip(".")
    return _UNIT_ALIASES.get(k, k)


def unit_factor(have: str | None, want: str | None) -> float | None:
    """Multiplier turning a quantity in ``have`` into one in ``want``; None if not convertible."""
    h, w = unit_key(have), unit_key(want)
    if h is None or w is None:
        return None
    if h == w:
        return 1.0
    if h in _MASS_KG and w in _MASS_KG:
        return _MASS_KG[h] / _MASS_KG[w]
    return None


@dataclass(frozen=True)
class Rate:
    """One rate of duty: ``ad_valorem`` fraction + ``specific`` USD per ``unit``.

    ``supported`` is False for formula and qualified rates; ``text`` is always the original.
    ``unit`` is written as an HTS unit of quantity (``kg``, ``liters``, ``doz.``, ``No.``).
    """

    text: str
    ad_valorem: float = 0.0
    specific: float = 0.0
    unit: str | None = None
    supported: bool = True

    @property
    def is_free(self) -> bool:
        return self.supported and self.ad_valorem == 0.0 and self.specific == 0.0


def _component(part: str) -> tuple[float, float, str | None] | None:
    """(ad valorem, specific USD, unit) of one ``+``-separated part, or None if not computable."""
    part = part.strip()
    if part.lower() == "free":
        return (0.0, 0.0, None)
    if m := _ADVAL.match(part):
        return (float(m.group(1)) / 100.0, 0.0, None)
    for pattern, scale in ((_CENTS, 0.01), (_DOLLARS, 1.0)):
        if m := pattern.match(part):
            raw_unit = (m.group(2) or "each").strip()
            unit = _RATE_UNITS.get(re.sub(r"[.\s-]", "", raw_unit))
            if unit is None:
                return None
            return (0.0, round(float(m.group(1)) * scale, 10), unit)
    return None


@lru_cache(maxsize=8192)
def parse_rate(text: str | None) -> Rate | None:
    """Parse one General or Column 2 rate text; None for an empty cell (no rate on this row)."""
    if text is None:
        return None
    clean = " ".join(text.split())
    if clean.endswith("%."):  # "... + 50%." : a sentence's full stop, not part of the rate
        clean = clean[:-1]
    if not clean:
        return None
    ad_valorem, specific, unit, n_specific = 0.0, 0.0, None, 0
    for part in clean.split("+"):
        comp = _component(part)
        if comp is None:
            return Rate(clean, supported=False)
        ad_valorem += comp[0]
        if comp[2] is not None:
            n_specific += 1
            specific, unit = comp[1], comp[2]
    if n_specific > 1:  # e.g. 4.4¢/liter + 31.4¢/pf. liter: two quantities, not modelled
        return Rate(clean, supported=False)
    return Rate(clean, round(ad_valorem, 10), specific, unit, True)


@lru_cache(maxsize=8192)
def parse_special(text: str | None) -> dict[str, Rate]:
    """Map each SPI listed in a Special rate cell to the preferential rate it earns.

    Stray spaces and line breaks inside the parentheses are tolerated; a group whose rate is a
    cross-reference (``See 9822.04.25 (AU)``) maps its SPIs to an unsupported rate.
    """
    if not text or not text.strip():
        return {}
    out: dict[str, Rate] = {}
    for m in _SPECIAL_GROUP.finditer(" ".join(text.split())):
        rate = parse_rate(m.group(1)) or Rate(m.group(1).strip(), supported=False)
        for code in m.group(2).split(","):
            code = code.strip()
            if code and code not in out:
                out[code] = rate
    return out
