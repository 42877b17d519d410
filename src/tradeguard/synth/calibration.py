"""The figures and mixes synthetic trade is calibrated to, kept as data in one place.

Volumes come from the seeds as design.md quotes them: on a typical day 85,000 entries,
$5.2 billion of imports and $68.5 million of duties; 810,000 importers, the top 3,000 of which
bring about 73% of value and 64% of lines; the top five origins (CA, CN, MX, JP, DE) over half
of the value; about 2% of entries with a material violation.  Everything below that (country
and chapter mixes, port weights, violation mix) is an informed approximation, written down here
so that a reader can see and change it.

Choices the seeds leave open, and what this generator picks:

- *Business days.*  85,000 entries is a weekday at ``--scale 1``; Saturdays carry 20% and
  Sundays 10% of that (express and land traffic), so a calendar year holds about 24 million
  entries rather than the 31 million that 85,000 x 365 would give.
- *Lines per entry.*  Formal entries carry 1 + a negative binomial number of lines: 4.7 on
  average for the top importers, 4.0 for the others; informal and low-value entries one or
  two; about 4 lines per entry over all.  The seeds give no line count.  Multi-line entries
  let the top importers carry a smaller share of lines (64%) than of value (73%), as the
  seeds say; a reading of 1.1-1.3 lines per entry (31 million entries, ~35 million lines a
  year) is also defensible and is a matter of the two line means below.
- *Duties.*  Base duties come from the real HTS rates of the sampled lines (about 1.7% of
  value against the seeds' 1.3%); the packaged Chapter 99 table, an illustrative sample with
  10% on all Chinese goods, adds more than the base.  The generator reports both.
- *One run, one world.*  The population's dates are drawn relative to ``--start``; generate a
  long window in one run (``--days``) rather than stitching runs with the same seed.
"""

from __future__ import annotations

import datetime as dt

# ---- volumes at --scale 1 -------------------------------------------------------------------
ENTRIES_PER_BUSINESS_DAY = 85_000
VALUE_PER_BUSINESS_DAY_USD = 5.2e9
DUTIES_PER_DAY_USD = 68.5e6  # seed figure, reported against what real rates give
IMPORTERS = 810_000
TOP_IMPORTER_SHARE = 3_000 / 810_000  # ~0.4% of importers ...
TOP_IMPORTERS_VALUE_SHARE = 0.73  # ... bring ~73% of value
TOP_IMPORTERS_LINES_SHARE = 0.64  # ... and ~64% of lines
VIOLATING_ENTRY_SHARE = 0.02
WEEKDAY_FACTOR = {5: 0.20, 6: 0.10}  # Saturday, Sunday; weekdays 1.0
FILERS = 2_400  # licensed brokers and self-filers with activity
MANUFACTURERS_PER_IMPORTER = 0.5
LOW_VALUE_SHARE = 0.08  # entry type 86 (Section 321), value <= $800
INFORMAL_SHARE = 0.06  # entry type 11, value <= $2,500
FTZ_SHARE = 0.015  # entry type 06
WAREHOUSE_SHARE = 0.01  # entry type 21

# Importer sizes come in two tiers.  The top ~0.4% (3,000 at scale 1) file TOP_ENTRY_SHARE of
# the entries, with more lines per entry and dearer lines; within the tier and in the long tail
# below it activity is heavy-tailed (Zipf-like / Pareto quantiles).  In expectation the tier
# carries .47 x 4.7 / (.47 x 4.7 + .53 x 3.14) = 57% of lines and 65% of value; measured as
# "the 3,000 largest importers of the day" (who include a few lucky smaller ones) it comes out
# at ~64% of lines and ~73% of value, the seeds' figures, at scale 1 and at 0.02.
TOP_ENTRY_SHARE = 0.47
TOP_ZIPF_BETA = 0.8  # weights (q + 0.05) ** -beta over the tier's quantiles q
REST_PARETO_ALPHA = 1.2
TOP_LINES_MEAN = 4.7  # lines per entry of the top tier
REST_FORMAL_LINES_MEAN = 4.0  # lines per formal entry of everyone else
TOP_VALUE_FACTOR = 1.4  # a top-tier line is worth 1.4 times a line of the others
# Importers specialise: this share of a line's goods comes from one of the importer's few
# staple chapters, whatever the origin (drawn from its main source country's mix), the rest
# from the origin's whole mix; half of the other lines are its own product of the chapter too.
STAPLE_CHAPTER_SHARE = 0.7
STAPLE_CHAPTERS = 3
STAPLE_PRODUCT_SHARE = 0.8  # staple lines that are the importer's own product of the chapter
TOP_PRIMARY_ORIGIN = 0.3  # share of a top importer's entries from its main source country
REST_PRIMARY_ORIGIN = 0.6

# ---- countries ------------------------------------------------------------------------------
# origin: (share of value, share of entries).  Value shares follow U.S. imports of recent years,
# tilted so that the top five stay "over half"; entry shares give China many small shipments.
COUNTRIES: dict[str, tuple[float, float]] = {
    "MX": (15.0, 12.0), "CN": (13.5, 24.0), "CA": (13.0, 11.0), "JP": (5.0, 3.5),
    "DE": (5.0, 3.5), "VN": (4.2, 5.5), "KR": (3.8, 3.0), "TW": (3.4, 3.0), "IE": (3.0, 0.8),
    "IN": (2.8, 4.5), "IT": (2.3, 2.5), "CH": (1.9, 1.0), "GB": (1.9, 2.5), "TH": (1.9, 2.0),
    "MY": (1.6, 1.5), "FR": (1.6, 1.8), "SG": (1.3, 0.8), "NL": (1.1, 1.0), "ID": (0.9, 1.2),
    "BR": (1.0, 1.0), "IL": (0.7, 0.6), "AU": (0.5, 0.6), "ES": (0.6, 0.8), "BE": (0.6, 0.5),
    "PH": (0.5, 0.7), "CO": (0.5, 0.6), "KH": (0.4, 0.6), "BD": (0.3, 0.6), "HK": (0.3, 1.5),
    "CL": (0.4, 0.5), "PE": (0.3, 0.4), "SE": (0.5, 0.5), "AT": (0.5, 0.4), "TR": (0.6, 0.8),
    "PK": (0.2, 0.5), "LK": (0.1, 0.3), "CR": (0.3, 0.3), "GT": (0.2, 0.3), "DO": (0.2, 0.3),
    "HN": (0.2, 0.3), "SA": (0.4, 0.2), "AE": (0.3, 0.3), "ZA": (0.3, 0.3), "NZ": (0.2, 0.3),
    "PL": (0.3, 0.4), "DK": (0.3, 0.3), "RU": (0.1, 0.1),
}  # fmt: skip
NEIGHBOURS = ("CA", "MX")  # mostly by land

# Chapter mixes of value by origin (chapter -> weight).  Chapters the reference lacks are skipped.
CHAPTER_MIX: dict[str, dict[int, float]] = {
    "CA": {
        87: 18, 27: 18, 84: 10, 85: 5, 44: 6, 39: 5, 76: 5, 72: 3, 73: 3, 48: 4, 7: 2, 8: 2, 2: 3,
        3: 2, 30: 3, 94: 3, 71: 3, 31: 2, 22: 1, 19: 2,
    },
    "MX": {
        87: 24, 85: 20, 84: 15, 7: 4, 8: 4, 90: 5, 94: 4, 22: 4, 27: 3, 39: 3, 73: 3, 62: 1,
        61: 1, 71: 2, 2: 1, 17: 1, 9: 1, 72: 2, 76: 1, 40: 1,
    },
    "CN": {
        85: 28, 84: 16, 94: 8, 95: 6, 61: 4, 62: 3, 63: 2, 39: 5, 73: 5, 64: 3, 42: 3, 87: 3,
        90: 3, 76: 2, 44: 1, 70: 1, 29: 2, 83: 2, 96: 1, 69: 1, 72: 1, 3: 1, 52: 1, 20: 1,
    },
    "JP": {
        87: 35, 84: 25, 85: 14, 90: 8, 29: 3, 30: 3, 40: 3, 39: 3, 72: 2, 37: 2, 95: 2,
    },
    "DE": {
        87: 24, 84: 20, 30: 15, 90: 10, 85: 10, 29: 4, 22: 3, 39: 3, 73: 3, 33: 2, 48: 2, 72: 2,
        94: 2,
    },
    "VN": {
        85: 30, 84: 10, 94: 12, 61: 8, 62: 7, 64: 10, 3: 3, 9: 2, 40: 3, 42: 3, 95: 2, 39: 2,
        44: 2, 73: 2, 54: 2, 8: 2,
    },
    "KR": {
        87: 30, 85: 25, 84: 15, 27: 5, 39: 5, 72: 4, 73: 3, 40: 3, 30: 3, 90: 3, 33: 2,
    },
    "TW": {
        85: 40, 84: 30, 90: 6, 73: 5, 87: 5, 39: 4, 72: 3, 95: 3, 82: 2, 40: 2,
    },
    "IE": {
        30: 60, 29: 20, 90: 12, 84: 5, 22: 3,
    },
    "IN": {
        30: 15, 71: 18, 62: 8, 61: 6, 63: 6, 29: 8, 84: 7, 85: 6, 73: 5, 3: 5, 87: 4, 72: 4,
        13: 1, 9: 2, 52: 2, 42: 2, 94: 2,
    },
    "IT": {
        84: 20, 30: 15, 87: 10, 22: 8, 71: 6, 62: 5, 64: 5, 42: 5, 15: 4, 19: 3, 90: 5, 94: 4,
        33: 3, 61: 3, 69: 2, 4: 2,
    },
    "CH": {
        30: 45, 71: 15, 91: 15, 90: 10, 84: 10, 29: 5,
    },
    "GB": {
        87: 15, 84: 15, 30: 15, 22: 10, 88: 10, 90: 8, 71: 8, 85: 7, 33: 4, 29: 4, 49: 2, 62: 2,
    },
    "TH": {
        85: 30, 84: 25, 40: 8, 16: 5, 3: 4, 71: 5, 39: 5, 87: 5, 10: 3, 94: 4, 73: 3, 64: 3,
    },
    "MY": {
        85: 50, 84: 15, 40: 10, 90: 6, 39: 4, 15: 3, 94: 4, 73: 3, 61: 2, 76: 3,
    },
    "FR": {
        88: 20, 30: 15, 22: 15, 84: 12, 33: 10, 85: 6, 90: 6, 42: 5, 87: 4, 4: 2, 71: 3, 62: 2,
    },
    "SG": {
        85: 30, 84: 25, 30: 15, 90: 12, 29: 10, 39: 8,
    },
    "NL": {
        84: 25, 30: 15, 90: 10, 85: 10, 6: 5, 29: 10, 27: 8, 39: 7, 4: 5, 18: 5,
    },
    "ID": {
        85: 15, 64: 15, 61: 10, 62: 10, 40: 10, 94: 8, 3: 7, 15: 5, 9: 5, 44: 5, 18: 5, 84: 5,
    },
    "BR": {
        27: 25, 72: 15, 9: 12, 84: 10, 88: 8, 44: 8, 2: 5, 20: 5, 17: 4, 64: 4, 47: 4,
    },
    "HK": {
        85: 40, 71: 25, 84: 10, 91: 10, 95: 5, 42: 5, 61: 5,
    },
    "KH": {
        61: 30, 62: 20, 64: 20, 42: 20, 85: 10,
    },
    "BD": {
        61: 45, 62: 45, 63: 10,
    },
    "PK": {
        63: 40, 61: 20, 62: 20, 52: 10, 42: 10,
    },
    "LK": {
        61: 40, 62: 30, 40: 20, 9: 10,
    },
    "HN": {
        61: 50, 62: 20, 85: 20, 8: 10,
    },
    "GT": {
        61: 30, 62: 20, 8: 20, 9: 20, 7: 10,
    },
    "CO": {
        27: 30, 6: 20, 9: 25, 8: 15, 71: 10,
    },
    "PE": {
        26: 30, 71: 20, 8: 25, 7: 15, 61: 10,
    },
    "CL": {
        8: 35, 3: 20, 74: 20, 22: 10, 44: 15,
    },
    "SA": {
        27: 80, 29: 10, 31: 10,
    },
    "RU": {
        27: 40, 31: 20, 71: 20, 28: 20,
    },
}  # fmt: skip
DEFAULT_CHAPTER_MIX: dict[int, float] = {
    84: 15, 85: 12, 87: 8, 30: 8, 29: 6, 39: 6, 27: 6, 90: 5, 71: 5, 22: 3, 94: 3, 73: 3, 72: 3,
    62: 3, 61: 3, 64: 2, 44: 2, 8: 2, 3: 2, 33: 2, 40: 2, 48: 2,
}  # fmt: skip

# Relative size of a line's value by chapter (a car line is worth more than a T-shirt line).
CHAPTER_VALUE_FACTOR: dict[int, float] = {
    87: 3.5, 27: 6.0, 88: 8.0, 30: 3.0, 84: 1.4, 85: 1.2, 90: 1.5, 71: 2.0, 29: 2.0, 72: 1.8,
    76: 1.5, 26: 4.0, 74: 2.0, 61: 0.5, 62: 0.5, 63: 0.4, 64: 0.6, 95: 0.5, 42: 0.5, 7: 0.6,
    8: 0.6, 9: 0.8, 96: 0.3, 69: 0.5, 83: 0.4, 33: 0.6, 91: 1.2,
}  # fmt: skip

# Unit values (USD per unit of quantity) used to turn a value into a declared quantity.
UNIT_VALUE_USD: dict[str, float] = {
    "kg": 6.0, "g": 0.05, "t": 900.0, "no": 40.0, "doz": 80.0, "pr": 20.0, "l": 4.0, "pfl": 12.0,
    "m2": 12.0, "m3": 300.0, "m": 5.0, "1000": 60.0, "bbl": 70.0, "gross": 50.0, "pack": 8.0,
    "x": 40.0,
}  # fmt: skip

# Typical unit values by (unit, chapter) where the unit's default above would be absurd: a
# car counted in "No." is not a $40 article, a barrel of crude is not a kilogram of steel.
UNIT_VALUE_BY_CHAPTER: dict[str, dict[int, float]] = {
    "no": {
        87: 28_000, 88: 2_000_000, 84: 900, 85: 150, 90: 400, 95: 6, 94: 150, 71: 250,
        91: 120, 1: 1_500, 40: 60, 73: 15, 39: 5, 42: 25, 63: 8, 33: 6, 30: 20, 82: 12, 83: 6,
        96: 2, 69: 10, 70: 10, 44: 30, 49: 5, 48: 3, 89: 150_000, 86: 90_000, 93: 500,
    },
    "kg": {
        27: 0.6, 26: 0.15, 72: 1.2, 73: 4, 76: 4, 74: 9, 2: 6, 3: 9, 7: 1.5, 8: 2.5, 9: 5,
        10: 0.4, 12: 1, 17: 0.8, 20: 3, 22: 3, 29: 8, 30: 150, 31: 0.4, 39: 3, 40: 5, 44: 1,
        47: 0.7, 48: 1.5, 84: 25, 85: 30, 87: 12, 90: 80, 71: 2_000, 52: 3, 54: 4, 55: 3,
    },
    "doz": {61: 70, 62: 110, 65: 60},
    "pr": {64: 18},
    "l": {22: 6, 27: 0.7},
    "bbl": {27: 75},
}  # fmt: skip

# ---- ports ----------------------------------------------------------------------------------
# Relative entry weights of the main ports by Schedule D code, per kind of traffic (a port the
# reference says serves a mode but which is absent here gets weight 1 for it).  Detroit is a
# land border first; its vessel and air traffic are small.
PORT_WEIGHTS: dict[str, dict[str, float]] = {
    "2704": {"vessel": 60}, "2709": {"vessel": 45}, "4601": {"vessel": 55},
    "1001": {"vessel": 20}, "1703": {"vessel": 30}, "5301": {"vessel": 30},
    "1601": {"vessel": 18}, "1401": {"vessel": 18}, "3001": {"vessel": 14, "air": 5},
    "3002": {"vessel": 12}, "2811": {"vessel": 12}, "5201": {"vessel": 18},
    "5203": {"vessel": 8}, "1303": {"vessel": 10}, "1101": {"vessel": 10},
    "2002": {"vessel": 8}, "1803": {"vessel": 8}, "4909": {"vessel": 3}, "2501": {"vessel": 3},
    "4701": {"air": 50}, "2720": {"air": 40}, "3901": {"air": 35}, "5206": {"air": 20},
    "1704": {"air": 15}, "5501": {"air": 15}, "2809": {"air": 10}, "4102": {"air": 10},
    "5309": {"air": 8}, "1512": {"air": 4}, "3501": {"air": 4},
    "2304": {"land": 70}, "3801": {"land": 55, "vessel": 1, "air": 3},
    "0901": {"land": 35, "air": 2}, "3802": {"land": 20}, "2506": {"land": 25},
    "2402": {"land": 25, "air": 1}, "2305": {"land": 15}, "2604": {"land": 12},
    "2303": {"land": 10}, "3004": {"land": 12}, "0712": {"land": 12}, "3401": {"land": 6},
    "2301": {"land": 6, "vessel": 2},
}  # fmt: skip

# Foreign ports of lading (UN/LOCODE) by country; other countries get "<CC>ZZZ".
LADING_PORTS: dict[str, tuple[str, ...]] = {
    "CN": ("CNSHA", "CNYTN", "CNNGB", "CNSZX", "CNTAO", "CNXMN", "CNTSN",),
    "VN": ("VNSGN", "VNHPH", "VNCMT",),
    "MY": ("MYPKG", "MYTPP", "MYPEN",),
    "TH": ("THLCH", "THBKK",),
    "KH": ("KHKOS", "KHPNH",),
    "JP": ("JPTYO", "JPYOK", "JPNGO", "JPUKB",),
    "DE": ("DEHAM", "DEBRV", "DEFRA",),
    "KR": ("KRPUS", "KRINC",),
    "TW": ("TWKHH", "TWTPE",),
    "IN": ("INNSA", "INMUN", "INMAA",),
    "IT": ("ITGOA", "ITSPE", "ITMIL",),
    "GB": ("GBFXT", "GBSOU", "GBLHR",),
    "FR": ("FRLEH", "FRCDG",),
    "NL": ("NLRTM", "NLAMS",),
    "SG": ("SGSIN",),
    "ID": ("IDTPP", "IDSUB",),
    "HK": ("HKHKG",),
    "CA": ("CATOR", "CAMTR", "CAVAN", "CAWND",),
    "MX": ("MXNLD", "MXMTY", "MXJRZ", "MXTIJ", "MXZLO",),
    "BR": ("BRSSZ", "BRRIG",),
    "IE": ("IEDUB", "IESNN",),
    "CH": ("CHZRH", "CHBSL",),
    "BD": ("BDCGP",),
}  # fmt: skip

# Cities where manufacturers sit, by country (MIDs carry the first three letters).
CITIES: dict[str, tuple[str, ...]] = {
    "CN": (
        "Shanghai", "Shenzhen", "Ningbo", "Guangzhou", "Dongguan", "Xiamen", "Qingdao", "Suzhou",
        "Hangzhou", "Foshan", "Tianjin", "Yiwu",
    ),
    "MX": ("Monterrey", "Tijuana", "Juarez", "Saltillo", "Guadalajara", "Queretaro", "Puebla",),
    "CA": ("Toronto", "Montreal", "Windsor", "Vancouver", "Calgary", "Mississauga",),
    "JP": ("Tokyo", "Osaka", "Nagoya", "Yokohama", "Kobe", "Hamamatsu",),
    "DE": ("Munich", "Stuttgart", "Hamburg", "Cologne", "Frankfurt", "Wolfsburg",),
    "VN": ("Hochiminh", "Hanoi", "Haiphong", "Binhduong", "Dongnai", "Danang",),
    "MY": ("Penang", "Kualalumpur", "Johor", "Klang", "Ipoh",),
    "TH": ("Bangkok", "Chonburi", "Rayong", "Ayutthaya",),
    "KH": ("Phnompenh", "Sihanoukville", "Kampongspeu",),
    "IN": ("Mumbai", "Chennai", "Tirupur", "Delhi", "Bangalore", "Ahmedabad",),
    "KR": ("Seoul", "Busan", "Ulsan", "Incheon",),
    "TW": ("Taipei", "Taichung", "Kaohsiung", "Hsinchu",),
}  # fmt: skip
# Cities of the Xinjiang Uyghur Autonomous Region (the forced-labor presumption).
XINJIANG_CITIES = ("Urumqi", "Kashgar", "Aksu", "Hotan", "Korla", "Shihezi")

# ---- violations -----------------------------------------------------------------------------
# Mix of planted violation types (weights); drift moves them over the months.
VIOLATION_MIX: dict[str, float] = {
    "undervaluation": 26, "misclassification": 20, "false_origin": 10, "adcvd_evasion": 7,
    "fta_ineligible": 11, "counterfeit": 8, "unsafe_product": 7, "agriculture_quota": 5,
    "textile_origin": 4, "forced_labor": 2,
}  # fmt: skip
# After DRIFT_DATE transshipment moves from Vietnam towards Malaysia, Thailand and Cambodia,
# and false origin gains weight over undervaluation (enforcement pushed schemes elsewhere).
DRIFT_DATE = dt.date(2026, 10, 1)
TRANSSHIP_BEFORE: dict[str, float] = {"VN": 0.6, "MY": 0.2, "TH": 0.15, "KH": 0.05}
TRANSSHIP_AFTER: dict[str, float] = {"VN": 0.15, "MY": 0.35, "TH": 0.3, "KH": 0.2}
TEXTILE_FALSE_ORIGINS: dict[str, float] = {"VN": 0.35, "BD": 0.25, "KH": 0.2, "LK": 0.1, "HN": 0.1}
DRIFT_MIX_SHIFT: dict[str, float] = {"undervaluation": -6, "false_origin": +4, "adcvd_evasion": +2}

# Chapters where each goods-bound violation can be planted.
COUNTERFEIT_CHAPTERS = (42, 61, 62, 64, 71, 85, 91, 33, 95)
UNSAFE_CHAPTERS = (95, 85, 94, 33, 30, 87, 84, 64)
AGRICULTURE_CHAPTERS = (2, 4, 7, 8, 10, 12, 17, 20, 3)
TEXTILE_CHAPTERS = (61, 62, 63)
FORCED_LABOR_CHAPTERS = (52, 61, 62, 85, 20)

# Importer behaviour: share of entities with each kind, and their propensity multipliers.
VIOLATOR_SHARE = 0.05  # entities with a persistent scheme
NAME_CHANGER_SHARE_OF_VIOLATORS = 0.15
PORT_SHOPPER_SHARE_OF_VIOLATORS = 0.2
# Violators among the busier importers (the tier below the top) shop ports more often: a firm
# that files every week has held goods to re-present; this also keeps port shoppers visible in
# short windows of small samples.
ACTIVE_PORT_SHOPPER_SHARE = 1.0
PORT_SHOPPER_ACTIVITY = 3.0  # entry weight multiplier of port shoppers
PORT_SHOPPER_RISK = 3.0  # risk multiplier of port shoppers over other violators
BUSY_IMPORTER_SHARE = 0.1  # the busier importers: the top tenth by activity, below the top tier
SHOPPER_NAME_CHANGER_SHARE = 0.35  # port shoppers that also re-register under a new IOR
TWICE_RENAMED_SHARE = 0.3  # name changers that re-register a second time
FRESH_NAME_SHARE = 0.05  # re-registrations under a new name altogether, not a variant
# Where a re-registered importer's new record sits: a paper change at the same premises for
# some, another street in the same city for others, the rest move (an old record's successor,
# and a second successor's, each drawn on its own).
SUCCESSOR_SAME_ADDRESS = 0.3
SUCCESSOR_SAME_CITY = 0.3  # besides those at the same address
# A customer naming a re-registered firm as consignee quotes its old IOR now and then: this
# share right after the switch, fading with this time constant (days) as records catch up.
STALE_CONSIGNEE_SHARE = 0.2
STALE_CONSIGNEE_DAYS = 90
IN_WINDOW_SWITCH_SHARE = 0.4  # name changers that switch inside the window, not before it
# Manufacturers re-registering under a new MID (new name variant and address) during a
# window: more of them in the countries goods under orders are transshipped through.
MFR_REREGISTER_SHARE = 0.02
MFR_REREGISTER_SHARE_TRANSSHIP = 0.08
MFR_TRANSSHIP_COUNTRIES = ("VN", "MY", "TH", "KH", "ID")
NEW_IMPORTER_SHARE = 0.04  # first seen within 90 days of the start
# New importers keep registering during the window, at the rate they did before it: a share
# days / (90 + days) of them registers inside it, shortly before its first entry.
NEW_IMPORTER_LAG_DAYS = 7  # registration to first entry: 0 to 6 days
NEW_IMPORTER_RISK = 3.0
TRUSTED_RISK = 0.12
VIOLATOR_RISK = 25.0
