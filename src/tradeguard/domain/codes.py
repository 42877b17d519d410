"""Code lists of the trade domain: entry types, modes, statuses, priority trade issues."""

from __future__ import annotations

from enum import StrEnum


class EntryType(StrEnum):
    CONSUMPTION = "01"
    QUOTA_VISA = "02"
    ADCVD = "03"
    FTZ_CONSUMPTION = "06"
    INFORMAL = "11"
    WAREHOUSE = "21"
    TIB = "23"
    LOW_VALUE = "86"

    @property
    def is_formal(self) -> bool:
        return self not in (EntryType.INFORMAL, EntryType.LOW_VALUE)


class Mode(StrEnum):
    VESSEL = "vessel"
    AIR = "air"
    TRUCK = "truck"
    RAIL = "rail"


# ABI mode-of-transportation codes (CATAIR record 10, positions 36-37) -> canonical mode.
ABI_MODE = {
    "10": Mode.VESSEL,
    "11": Mode.VESSEL,
    "12": Mode.VESSEL,
    "20": Mode.RAIL,
    "21": Mode.RAIL,
    "30": Mode.TRUCK,
    "31": Mode.TRUCK,
    "40": Mode.AIR,
    "41": Mode.AIR,
}
MODE_ABI = {Mode.VESSEL: "11", Mode.RAIL: "20", Mode.TRUCK: "30", Mode.AIR: "40"}


class EntryStatus(StrEnum):
    FILED = "filed"
    ASSESSED = "assessed"
    HELD = "held"
    RELEASED = "released"
    REFUSED = "refused"
    SEIZED = "seized"
    LIQUIDATED = "liquidated"


# filed -> assessed -> released | held -> released | refused | seized -> liquidated
TRANSITIONS: dict[EntryStatus, frozenset[EntryStatus]] = {
    EntryStatus.FILED: frozenset({EntryStatus.ASSESSED}),
    EntryStatus.ASSESSED: frozenset({EntryStatus.RELEASED, EntryStatus.HELD}),
    EntryStatus.HELD: frozenset({EntryStatus.RELEASED, EntryStatus.REFUSED, EntryStatus.SEIZED}),
    EntryStatus.RELEASED: frozenset({EntryStatus.LIQUIDATED}),
    EntryStatus.REFUSED: frozenset(),
    EntryStatus.SEIZED: frozenset(),
    EntryStatus.LIQUIDATED: frozenset(),
}


def can_transition(current: EntryStatus, target: EntryStatus) -> bool:
    return target in TRANSITIONS[current]


class PTI(StrEnum):
    """Priority trade issues (plus forced labor, an emerging enforcement area)."""

    AGRICULTURE_QUOTA = "agriculture_quota"
    ADCVD = "adcvd"
    FTA = "fta"
    IMPORT_SAFETY = "import_safety"
    IPR = "ipr"
    REVENUE = "revenue"
    TEXTILES = "textiles"
    FORCED_LABOR = "forced_labor"

    @property
    def label(self) -> str:
        return PTI_LABELS[self]


PTI_LABELS = {
    PTI.AGRICULTURE_QUOTA: "Agriculture and Quota",
    PTI.ADCVD: "Antidumping and Countervailing Duties",
    PTI.FTA: "Free Trade Agreements",
    PTI.IMPORT_SAFETY: "Import Safety",
    PTI.IPR: "Intellectual Property Rights",
    PTI.REVENUE: "Revenue",
    PTI.TEXTILES: "Textiles and Wearing Apparel",
    PTI.FORCED_LABOR: "Forced Labor",
}


class Violation(StrEnum):
    """Violation types planted by the generator and recorded as findings."""

    UNDERVALUATION = "undervaluation"
    MISCLASSIFICATION = "misclassification"
    FALSE_ORIGIN = "false_origin"  # transshipment / mislabelled origin to evade AD/CVD or 301
    ADCVD_EVASION = "adcvd_evasion"  # in scope of an order, filed without the case
    FTA_INELIGIBLE = "fta_ineligible"
    COUNTERFEIT = "counterfeit"
    UNSAFE_PRODUCT = "unsafe_product"
    AGRICULTURE_QUOTA = "agriculture_quota"
    TEXTILE_ORIGIN = "textile_origin"
    FORCED_LABOR = "forced_labor"


VIOLATION_PTI: dict[Violation, PTI] = {
    Violation.UNDERVALUATION: PTI.REVENUE,
    Violation.MISCLASSIFICATION: PTI.REVENUE,
    Violation.FALSE_ORIGIN: PTI.ADCVD,
    Violation.ADCVD_EVASION: PTI.ADCVD,
    Violation.FTA_INELIGIBLE: PTI.FTA,
    Violation.COUNTERFEIT: PTI.IPR,
    Violation.UNSAFE_PRODUCT: PTI.IMPORT_SAFETY,
    Violation.AGRICULTURE_QUOTA: PTI.AGRICULTURE_QUOTA,
    Violation.TEXTILE_ORIGIN: PTI.TEXTILES,
    Violation.FORCED_LABOR: PTI.FORCED_LABOR,
}


class Lane(StrEnum):
    RELEASE = "release"
    DOCUMENT_REVIEW = "document_review"
    EXAM = "exam"
    POST_RELEASE_AUDIT = "post_release_audit"


# the lanes that hold an entry for an officer (status ``held``); the others release it
HELD_LANES = frozenset({Lane.EXAM.value, Lane.DOCUMENT_REVIEW.value})


class Role(StrEnum):
    FILER = "filer"
    OFFICER = "officer"
    IMPORT_SPECIALIST = "import_specialist"
    AUDITOR = "auditor"
    TARGETER = "targeter"
    PENALTIES_OFFICER = "penalties_officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
