"""Names, addresses, IOR numbers and manufacturer IDs, built column-wise for whole populations.

Every attribute is a hash of (seed salt, id, field) rather than a draw from the generator's
stream, so a window computes names only for the few thousand parties it uses, out of a
universe of 810,000 importers, and still gets the same name for the same id every time.
Names are drawn from small word lists; what matters downstream is that they look like trade
names and that honest companies sometimes share words; a re-registered firm's new name is
a variant of the old one (``synth.renames``).

Manufacturer IDs follow CBP's construction: ISO country code (Canadian province code for
Canada), first three letters of the first two words of the name, up to four digits of the
street number, first three letters of the city: ``CNSHEMET123SHA``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_FIRST = (
    "Pacific", "Atlantic", "Global", "Summit", "Eagle", "Harbor", "Liberty", "Pioneer", "Golden",
    "Silver", "Northern", "Southern", "Eastern", "Western", "Central", "Prime", "Premier",
    "United", "National", "American", "Continental", "Coastal", "Mountain", "River", "Lake",
    "Bay", "Sun", "Star", "Blue", "Green", "Red", "Apex", "Vertex", "Omni", "Alpha", "Delta",
    "Keystone", "Heritage", "Frontier", "Evergreen", "Cardinal", "Falcon", "Titan", "Crown",
    "Royal", "Metro", "Urban", "Anchor", "Arrow", "Aspen", "Atlas", "Aurora", "Beacon",
    "Birch", "Bright", "Canyon", "Capital", "Cascade", "Cedar", "Charter", "Citadel", "Clear",
    "Cobalt", "Compass", "Copper", "Cornerstone", "Crest", "Crystal", "Cypress", "Diamond",
    "Dominion", "Eastgate", "Echo", "Elite", "Emerald", "Empire", "Everest", "Excel", "Fairway",
    "Fidelity", "First", "Fortune", "Gateway", "Granite", "Great", "Guardian", "Highland",
    "Horizon", "Hudson", "Imperial", "Independence", "Iron", "Jade", "Jasper", "Juniper",
    "Kingston", "Landmark", "Legacy", "Lincoln", "Lion", "Magnolia", "Majestic", "Maple",
    "Mariner", "Meridian", "Midwest", "Mission", "Monarch", "Noble", "Nova", "Oak", "Ocean",
    "Olympic", "Orchid", "Palm", "Paramount", "Patriot", "Peak", "Pinnacle", "Platinum",
    "Polaris", "Quantum", "Rainbow", "Redwood", "Regal", "Reliance", "Ridge", "Rocky",
    "Sapphire", "Sequoia", "Sierra", "Signature", "Skyline", "Sterling", "Stone", "Sunrise",
    "Superior", "Tandem", "Trinity", "Triumph", "Unity", "Valley", "Vanguard", "Victory",
    "Vista", "Westwood", "Willow", "Zenith",
)  # fmt: skip
# a descriptor some names carry between the two words ("Pacific Rim Trading")
_MIDDLE = (
    "Rim", "Star", "Bridge", "Point", "Bay", "Coast", "Crest", "Gate", "Line", "Link", "Way",
    "Field", "Wood", "Stone", "Port", "Sky", "Sun", "Wave", "Trade", "World", "Ocean", "Cross",
    "Brook", "Dale", "Hill", "Lake", "Mark", "Rock", "Land", "View", "Tech", "Source", "Pro",
    "Max", "One", "Direct", "Select", "Quest", "Path", "Vale",
)  # fmt: skip
_SECOND = (
    "Trading", "Imports", "Supply", "Distribution", "Logistics", "Brands", "Goods", "Industries",
    "Products", "Sourcing", "Wholesale", "Merchandise", "Commerce", "Partners", "Ventures",
    "Retail", "Home", "Apparel", "Electronics", "Foods", "Auto", "Parts", "Hardware",
    "Outfitters", "Designs", "Textiles", "Tools", "Furniture", "Toys", "Lighting", "Energy",
    "Accessories", "Appliances", "Beverages", "Chemicals", "Components", "Cosmetics", "Crafts",
    "Equipment", "Fabrics", "Fashions", "Footwear", "Garden", "Gifts", "Housewares", "Instruments",
    "Interiors", "Kitchen", "Leather", "Machinery", "Marine", "Materials", "Medical", "Metals",
    "Motors", "Optics", "Packaging", "Paper", "Pet", "Plastics", "Resources", "Seafood", "Sports",
    "Steel", "Systems", "Technologies", "Tire", "Traders", "Travel", "Wines", "Works",
)  # fmt: skip
_SUFFIX = ("LLC", "Inc", "Corp", "Co", "Ltd", "Group", "LLC", "Inc", "USA Inc", "International")
_STREETS = (
    "Main", "Oak", "Maple", "Commerce", "Industrial", "Harbor", "Market", "Park", "Pine", "Cedar",
    "Elm", "Washington", "Lake", "Hill", "Ridge", "Airport", "Distribution", "Trade", "Gateway",
    "Enterprise", "Center", "Union", "Mill", "Spring", "River",
)  # fmt: skip
STREETS = _STREETS
_STREET_KIND = ("St", "Ave", "Blvd", "Rd", "Dr", "Way", "Pkwy")
# (city, state, ZIP prefix): where U.S. importers of record sit.
_US_CITIES = (
    ("Los Angeles", "CA", "900"),
    ("Long Beach", "CA", "908"),
    ("Ontario", "CA", "917"),
    ("New York", "NY", "100"),
    ("Brooklyn", "NY", "112"),
    ("Newark", "NJ", "071"),
    ("Edison", "NJ", "088"),
    ("Miami", "FL", "331"),
    ("Doral", "FL", "331"),
    ("Houston", "TX", "770"),
    ("Dallas", "TX", "752"),
    ("Laredo", "TX", "780"),
    ("El Paso", "TX", "799"),
    ("Chicago", "IL", "606"),
    ("Elk Grove Village", "IL", "600"),
    ("Detroit", "MI", "482"),
    ("Atlanta", "GA", "303"),
    ("Savannah", "GA", "314"),
    ("Seattle", "WA", "981"),
    ("Kent", "WA", "980"),
    ("Charlotte", "NC", "282"),
    ("Columbus", "OH", "432"),
    ("Memphis", "TN", "381"),
    ("Nashville", "TN", "372"),
    ("Phoenix", "AZ", "850"),
    ("Denver", "CO", "802"),
    ("Minneapolis", "MN", "554"),
    ("Boston", "MA", "021"),
    ("Philadelphia", "PA", "191"),
    ("San Jose", "CA", "951"),
)
_MFR_FIRST = (
    "Sheng", "Hua", "Jin", "Xin", "Long", "Tian", "Da", "Hong", "Mei", "Fu", "Kang", "Yong",
    "Hai", "Bao", "Rui", "Tai", "Sino", "Great", "Golden", "Asia", "Orient", "Delta", "Sun",
    "Star", "Royal", "Prime", "Nova", "Vina", "Saigon", "Lotus", "Siam", "Kuala", "Bharat",
    "Indo", "Global", "Pacific", "Metro", "Nord", "Alpen", "Fuji", "Hanil", "Dae", "Formosa",
    "An", "Bai", "Chang", "Chen", "Cheng", "De", "Dong", "Feng", "Gao", "Guang", "Heng", "Hui",
    "Jia", "Jian", "Kai", "Li", "Lian", "Ming", "Nan", "Ping", "Qi", "Qiang", "Rong", "Shun",
    "Sheng", "Tong", "Wan", "Wei", "Xiang", "Xing", "Yi", "Yuan", "Yue", "Zhong", "Zhen", "Hoa",
    "Minh", "Phu", "Thanh", "Viet", "Saha", "Thai", "Chai", "Maju", "Jaya", "Surya", "Shree",
    "Ganesh", "Tata", "Anand", "Kumar", "Mega", "Ever", "Tri", "Well", "Win", "Lucky", "Joy",
)  # fmt: skip
# a second syllable many makers' names carry ("Sheng Hua Metal Co Ltd")
_MFR_MIDDLE = (
    "Hua", "Xin", "Tai", "Feng", "Long", "Da", "Fu", "Sheng", "Yuan", "Tian", "Hong", "Mei",
    "Kang", "Rui", "Bao", "Hai", "Jin", "Ming", "Heng", "Xing", "Yang", "Li", "Cheng", "Tong",
    "Wei", "Ding", "Sen", "Bang", "Run", "Hui",
)  # fmt: skip
_MFR_SECOND = (
    "Metal", "Plastic", "Textile", "Garment", "Electronic", "Electric", "Furniture", "Toys",
    "Industrial", "Precision", "Machinery", "Apparel", "Footwear", "Trading", "Manufacturing",
    "Rubber", "Chemical", "Auto", "Light", "Home", "Steel", "Aluminum", "Wood", "Solar",
    "Ceramic", "Glass", "Paper", "Foods", "Leather", "Knitting",
    "Hardware", "Tools", "Lighting", "Packaging", "Printing", "Optical", "Battery", "Cable",
    "Motor", "Pump", "Valve", "Bearing", "Fastener", "Mould", "Die Casting", "Forging",
    "Sporting Goods", "Bags", "Umbrella", "Crafts", "Shoes", "Silk", "Bamboo", "Stone",
)  # fmt: skip
_MFR_SUFFIX = ("Co Ltd", "Ltd", "Manufacturing Co", "Industrial Co Ltd", "Corp", "GmbH", "SA de CV")
_CA_PROVINCE = {
    "Toronto": "XO",
    "Mississauga": "XO",
    "Windsor": "XO",
    "Montreal": "XQ",
    "Vancouver": "XC",
    "Calgary": "XA",
}
CA_PROVINCE = _CA_PROVINCE


def hashed(keys: np.ndarray, salt: int, field: int) -> np.ndarray:
    """A well-mixed uint64 per key (splitmix64): attributes are pure functions of (seed, id),
    so they can be computed for just the parties a window uses."""
    x = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    x = x + np.full(len(keys), (salt * 1_000_003 + field * 7_919) % 2**63, dtype=np.uint64)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def unit(keys: np.ndarray, salt: int, field: int) -> np.ndarray:
    """A uniform number in [0, 1) per key, stable for a seed (see :func:`hashed`)."""
    out: np.ndarray = (hashed(keys, salt, field) >> np.uint64(11)).astype(np.float64) / 2.0**53
    return out


def _index(keys: np.ndarray, salt: int, field: int, n: int) -> np.ndarray:
    return (hashed(keys, salt, field) % np.uint64(n)).astype(np.int64)


def _pick(words: tuple[str, ...], keys: np.ndarray, salt: int, field: int) -> pl.Series:
    return pl.Series(list(words), dtype=pl.String).gather(_index(keys, salt, field, len(words)))


def ior_numbers(ids: np.ndarray) -> pl.Series:
    """IOR numbers in the IRS-number form ``NN-NNNNNNNSS`` (EIN + 2-digit suffix), unique per id.

    A multiplicative bijection on 0..899,999,999 keeps them unique without a lookup table.
    """
    ein = (ids.astype(np.int64) * 2_654_435_761 + 7_919_311) % 900_000_000 + 100_000_000
    suffix = ids.astype(np.int64) % 7 * 11 % 100  # 00, 11, 22 ... like real IOR suffixes
    frame = pl.DataFrame({"e": ein, "s": suffix})
    return frame.select(
        pl.format(
            "{}-{}{}",
            (pl.col("e") // 10_000_000).cast(pl.String),
            (pl.col("e") % 10_000_000).cast(pl.String).str.zfill(7),
            pl.col("s").cast(pl.String).str.zfill(2),
        )
    ).to_series()


def company_names(keys: np.ndarray, salt: int) -> pl.Series:
    """Trade names of U.S. importers ("Pacific Trading LLC", "Pacific Rim Trading LLC")."""
    middle = pl.select(
        pl.when(pl.lit(pl.Series(unit(keys, salt, 17) < 0.4)))
        .then(pl.lit(_pick(_MIDDLE, keys, salt, 18)) + " ")
        .otherwise(pl.lit(""))
    ).to_series()
    return (
        _pick(_FIRST, keys, salt, 1)
        + " "
        + middle
        + _pick(_SECOND, keys, salt, 2)
        + " "
        + _pick(_SUFFIX, keys, salt, 3)
    )


def us_addresses(keys: np.ndarray, salt: int) -> pl.DataFrame:
    """Street address, city, state and ZIP code of U.S. businesses."""
    city = _index(keys, salt, 4, len(_US_CITIES))
    num = _index(keys, salt, 5, 19_999) + 1
    street = _pick(_STREETS, keys, salt, 6)
    kind = _pick(_STREET_KIND, keys, salt, 7)
    zip_tail = pl.Series(_index(keys, salt, 8, 100)).cast(pl.String).str.zfill(2)
    return pl.DataFrame(
        {
            "address": pl.Series(num).cast(pl.String) + " " + street + " " + kind,
            "city": pl.Series([c[0] for c in _US_CITIES]).gather(city),
            "state": pl.Series([c[1] for c in _US_CITIES]).gather(city),
            "postal_code": pl.Series([c[2] for c in _US_CITIES]).gather(city) + zip_tail,
        }
    )


def manufacturer_frame(
    keys: np.ndarray,
    countries: np.ndarray,
    xinjiang: np.ndarray,
    salt: int,
    cities: dict[str, tuple[str, ...]],
    xinjiang_cities: tuple[str, ...],
) -> pl.DataFrame:
    """Name, address, city, country and MID of the manufacturers numbered ``keys``."""
    first = _pick(_MFR_FIRST, keys, salt, 11)
    syllable = _pick(_MFR_MIDDLE, keys, salt, 19)
    first = pl.select(
        pl.when(pl.lit(pl.Series(unit(keys, salt, 18) < 0.45)))
        .then(pl.lit(first) + " " + pl.lit(syllable))
        .otherwise(pl.lit(first))
    ).to_series()
    second = _pick(_MFR_SECOND, keys, salt, 12)
    suffix = _pick(_MFR_SUFFIX, keys, salt, 13)
    num = _index(keys, salt, 14, 2_999) + 1
    u = _index(keys, salt, 15, 1 << 30)
    city = np.empty(len(keys), dtype=object)
    for cc in np.unique(countries):  # a loop over countries, not rows
        mask = countries == cc
        pool = cities.get(str(cc)) or (f"{cc} City", f"Port {cc}", f"New {cc}")
        city[mask] = np.asarray(pool, dtype=object)[u[mask] % len(pool)]
    if xinjiang.any():
        xj_pool = np.asarray(xinjiang_cities, dtype=object)
        city[xinjiang] = xj_pool[u[xinjiang] % len(xj_pool)]
    frame = pl.DataFrame(
        {
            "country": pl.Series(countries.astype(str)),
            "name": first + " " + second + " " + suffix,
            "address": pl.Series(num).cast(pl.String)
            + " "
            + _pick(_STREETS, keys, salt, 16)
            + " Road",
            "city": pl.Series(city.astype(str)),
            "num": num,
        }
    )
    words = frame["name"].str.split(" ")
    frame = frame.with_columns(w1=words.list.get(0), w2=words.list.get(1))
    prefix = pl.col("country")
    province = pl.col("city").replace_strict(_CA_PROVINCE, default="XO")
    mid = pl.concat_str(
        [
            pl.when(prefix == "CA").then(province).otherwise(prefix),
            pl.col("w1").str.slice(0, 3).str.to_uppercase(),
            pl.col("w2").str.slice(0, 3).str.to_uppercase(),
            pl.col("num").cast(pl.String).str.slice(0, 4),
            pl.col("city").str.replace_all(" ", "").str.slice(0, 3).str.to_uppercase(),
        ]
    )
    return frame.with_columns(mid=mid).drop("num", "w1", "w2")
