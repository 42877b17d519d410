"""The lane policy: thresholds, per-port daily capacity, trusted-partner facilitation, sampling.

A ``LanePolicy`` is a frozen value handed to the pure ``assign_lanes``; nothing in it reads a
file or the clock.  ``LanePolicy.from_settings`` and ``load_port_capacities`` are the edges that
read ``Settings`` and a capacity file (YAML or CSV), so the API, the batch CLI and tests can all
build the same policy.

Capacity file (YAML)::

    ports:
      - {port_code: "2704", exam: 40, review: 120, group: "LA-LB"}
      - {port_code: "1001", exam: 30}          # review keeps the default, group the district

or CSV with the header ``port_code,exam,review,group`` (empty cells keep the defaults).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tradeguard.domain.codes import Lane
from tradeguard.errors import IssueCollector

if TYPE_CHECKING:
    from tradeguard.config import Settings

TRUSTED_STATUSES = ("none", "ctpat", "ctpat_tc")
TRUSTED_LABELS = {"none": "", "ctpat": "CTPAT", "ctpat_tc": "CTPAT Trade Compliance"}
STRATUM_DIMENSIONS = ("port_group", "pti_exposure", "trusted", "size_band")
# Edges (USD) of the size bands s0..s4: the duty an entry declares plus a tenth of its value
# (what an evasion could put at stake on duty-free goods); see ``decisions.sampling``.
SIZE_BANDS = (100.0, 1_000.0, 10_000.0, 100_000.0)


@dataclass(frozen=True)
class PortCapacity:
    """Daily capacity of one port; ``None`` keeps the policy default."""

    exam: int | None = None
    review: int | None = None
    group: str | None = None


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class ExprKey:
    """What the cached lane expressions read of a policy, as one hashable value.

    The expressions (``choice``, ``lanes``, ``reasons``) cost more to build than to evaluate on
    an API batch, so they are cached by this key; a ``LanePolicy`` is not hashable (its
    mappings, and its per-port capacities, which change from filing to filing, are not read
    by them).  A field read by a cached expression must be here, or another policy would
    silently get the wrong cached expression.
    """

    exam_threshold: float
    review_threshold: float
    audit_threshold: float
    audit_revenue_usd: float
    mandatory_lane: Lane
    trusted_multiplier: tuple[tuple[str, float], ...]
    random_review_trusted: tuple[str, ...]


@dataclass(frozen=True)
class LanePolicy:
    """How entries are sent to lanes; every number here is a policy choice a supervisor owns.

    - ``exam_capacity`` / ``review_capacity``: exams and document reviews each port can work per
      day (``ports`` overrides them per port).  The defaults, 5 and 10, are about 2% and 4% of
      an average U.S. port's day (85,000 entries over 328 ports); big ports need overrides.
      Mandatory holds are counted first and may exceed it; targeted selections fill what is
      left by descending score.
    - ``exam_threshold`` / ``review_threshold``: lowest entry score that may be examined /
      reviewed.  Scores are calibrated violation probabilities (about 2% on average), so 0.2
      is ten times the base rate; capacity, not the threshold, usually decides.  Exam
      candidates that do not fit spill into the review queue.
    - ``audit_threshold`` / ``audit_revenue_usd``: an entry not held goes to post-release audit
      when its score reaches ``audit_threshold`` (typically a spilled candidate) or its expected
      revenue at risk reaches ``audit_revenue_usd`` (duty loss is what audits recover).
    - ``trusted_multiplier``: trusted partners need ``threshold x multiplier`` to be examined or
      reviewed, and rank behind others at equal score (their priority is ``score / multiplier``);
      mandatory holds ignore it.
    - ``random_rate`` / ``stratum_rates``: inclusion probability of the random
      compliance-measurement sample, by default for every stratum, overridden per stratum key
      (``"27|adcvd|none|s2"``; ``*`` matches any component, e.g. ``"*|adcvd|*|*"``; a key
      without its size band, ``"*|adcvd|*"``, matches every band).  ``strata`` picks the
      dimensions of the key among ``port_group``, ``pti_exposure``, ``trusted`` and
      ``size_band``.
    - ``size_bands`` / ``size_multipliers``: the size band of an entry (``s0`` .. ``s4``) is
      where its declared duty plus a tenth of its declared value falls among ``size_bands``
      (USD); its rate is the stratum's rate times the band's multiplier (capped at 1), unless a
      ``stratum_rates`` key names the band.  Duties lost are concentrated in the few largest
      entries, so oversampling them (up to taking all of the top band) is what makes the
      revenue gap estimable (``analytics.compliance``); the defaults double the rate from band
      to band and sample the top band (about 0.3% of entries in generated trade) at 16x: the
      sample is about 15% larger than ``random_rate`` alone.
    - ``random_review_trusted``: trusted statuses whose random picks get a document review
      rather than an exam (low-risk strata: the program already validates them).
    - ``mandatory_lane``: where mandatory holds go (exam by default; they are never released).
    """

    exam_capacity: int = 5
    review_capacity: int = 10
    ports: Mapping[str, PortCapacity] = field(default_factory=dict)
    exam_threshold: float = 0.2
    review_threshold: float = 0.1
    audit_threshold: float = 0.15
    audit_revenue_usd: float = 10_000.0
    trusted_multiplier: Mapping[str, float] = field(
        default_factory=lambda: {"ctpat": 1.25, "ctpat_tc": 1.5}
    )
    random_rate: float = 0.005
    stratum_rates: Mapping[str, float] = field(default_factory=dict)
    strata: tuple[str, ...] = STRATUM_DIMENSIONS
    size_bands: tuple[float, ...] = SIZE_BANDS
    size_multipliers: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 16.0)
    random_review_trusted: frozenset[str] = frozenset({"ctpat_tc"})
    mandatory_lane: Lane = Lane.EXAM

    def __post_init__(self) -> None:
        # Freeze the mappings so a policy can be shared between threads and requests.
        object.__setattr__(self, "ports", _frozen(self.ports))
        object.__setattr__(self, "trusted_multiplier", _frozen(self.trusted_multiplier))
        object.__setattr__(self, "stratum_rates", _frozen(self.stratum_rates))
        object.__setattr__(self, "random_review_trusted", frozenset(self.random_review_trusted))
        object.__setattr__(self, "size_bands", tuple(float(b) for b in self.size_bands))
        object.__setattr__(self, "size_multipliers", tuple(float(m) for m in self.size_multipliers))
        self.validate()

    def validate(self) -> None:
        """Refuse an inconsistent policy, listing every problem at once."""
        c = IssueCollector()
        if self.exam_capacity < 0:
            c.add("exam_capacity", "must be >= 0", self.exam_capacity)
        if self.review_capacity < 0:
            c.add("review_capacity", "must be >= 0", self.review_capacity)
        for name in ("exam_threshold", "review_threshold", "audit_threshold"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                c.add(name, "must be between 0 and 1", v)
        if self.review_threshold > self.exam_threshold:
            c.add("review_threshold", "must not exceed exam_threshold", self.review_threshold)
        if self.audit_revenue_usd < 0:
            c.add("audit_revenue_usd", "must be >= 0", self.audit_revenue_usd)
        for status, m in self.trusted_multiplier.items():
            if status not in TRUSTED_STATUSES:
                c.add(f"trusted_multiplier.{status}", "unknown trusted status", status)
            if m < 1.0:
                c.add(f"trusted_multiplier.{status}", "must be >= 1 (facilitation)", m)
        rates = {"random_rate": self.random_rate} | {
            f"stratum_rates.{k}": v for k, v in self.stratum_rates.items()
        }
        for name, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                c.add(name, "must be a probability between 0 and 1", rate)
        if list(self.size_bands) != sorted(self.size_bands) or any(b <= 0 for b in self.size_bands):
            c.add("size_bands", "must be positive and increasing", self.size_bands)
        if len(self.size_multipliers) != len(self.size_bands) + 1:
            c.add(
                "size_multipliers",
                f"needs one multiplier per band ({len(self.size_bands) + 1})",
                self.size_multipliers,
            )
        if any(m <= 0 for m in self.size_multipliers):
            c.add("size_multipliers", "must be > 0", self.size_multipliers)
        for dim in self.strata:
            if dim not in STRATUM_DIMENSIONS:
                c.add("strata", f"unknown dimension; use {', '.join(STRATUM_DIMENSIONS)}", dim)
        for port, cap in self.ports.items():
            for what in ("exam", "review"):
                v = getattr(cap, what)
                if v is not None and v < 0:
                    c.add(f"ports.{port}.{what}", "must be >= 0", v)
        c.raise_if_any("invalid lane policy")

    def expr_key(self) -> ExprKey:
        """The key of the lane expression caches (see :class:`ExprKey`)."""
        return ExprKey(
            exam_threshold=self.exam_threshold,
            review_threshold=self.review_threshold,
            audit_threshold=self.audit_threshold,
            audit_revenue_usd=self.audit_revenue_usd,
            mandatory_lane=self.mandatory_lane,
            trusted_multiplier=tuple(self.trusted_multiplier.items()),
            random_review_trusted=tuple(sorted(self.random_review_trusted)),
        )

    def multiplier(self, trusted: str) -> float:
        return float(self.trusted_multiplier.get(trusted, 1.0))

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> LanePolicy:
        """The policy the deployment configured: defaults from ``Settings``, ports from its file."""
        ports = (
            load_port_capacities(settings.lane_capacity_file) if settings.lane_capacity_file else {}
        )
        values: dict[str, Any] = {
            "exam_capacity": settings.lane_exam_capacity,
            "review_capacity": settings.lane_review_capacity,
            "exam_threshold": settings.lane_exam_threshold,
            "review_threshold": settings.lane_review_threshold,
            "audit_threshold": settings.lane_audit_threshold,
            "random_rate": settings.lane_random_rate,
            "ports": ports,
        }
        values.update(overrides)
        return cls(**values)


def _opt_int(raw: Any, where: str, c: IssueCollector) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        c.add(where, "not a whole number", raw)
        return None
    if value < 0:
        c.add(where, "must be >= 0", raw)
    return value


def parse_port_capacities(
    rows: list[Mapping[str, Any]], source: str = ""
) -> dict[str, PortCapacity]:
    """Turn capacity rows (``port_code``, ``exam``, ``review``, ``group``) into a mapping.

    Collects every bad row before raising ``ValidationFailed``.
    """
    c = IssueCollector()
    out: dict[str, PortCapacity] = {}
    for i, row in enumerate(rows):
        where = f"{source}[{i}]"
        port = str(row.get("port_code") or "").strip()
        if not port:
            c.add(f"{where}.port_code", "missing")
            continue
        if port in out:
            c.add(f"{where}.port_code", "port listed twice", port)
        group = row.get("group")
        out[port] = PortCapacity(
            exam=_opt_int(row.get("exam"), f"{where}.exam", c),
            review=_opt_int(row.get("review"), f"{where}.review", c),
            group=str(group).strip() if group not in (None, "") else None,
        )
    c.raise_if_any(f"invalid port capacity file {source}".strip())
    return out


def load_port_capacities(path: Path | str) -> dict[str, PortCapacity]:
    """Read a YAML (``ports:`` list) or CSV capacity file; see the module docstring."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows: list[Mapping[str, Any]] = list(csv.DictReader(text.splitlines()))
    else:
        import yaml

        doc = yaml.safe_load(text) or {}
        raw = doc.get("ports", []) if isinstance(doc, dict) else doc
        rows = [r for r in raw if isinstance(r, Mapping)] if isinstance(raw, list) else []
        if isinstance(raw, list) and len(rows) != len(raw):
            c = IssueCollector()
            c.add(str(path), "every item of 'ports' must be a mapping")
            c.raise_if_any("invalid port capacity file")
    return parse_port_capacities(rows, source=str(path))
