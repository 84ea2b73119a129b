"""Plausible, internally consistent synthetic values per atom, summed or averaged into areas.

Every quantity is modelled per atom (half a first-year buurt, see ``bwm.synth.geography``) in canonical
units (euro, %, counts, km, ha). An area's figure is the sum of its atoms' counts, or the weighted mean
of its atoms' shares and means (weights: inhabitants, households, dwellings...), so wijken and gemeenten
agree with their buurten the way CBS figures do.

The story the data tells: every atom has a latent deprivation score. Each town has a poorer and a richer
side (a gradient across its wijken plus noise); the poorer side gets poorer relative to its town over the
years and the richer side richer, so income gaps and low-income shares between neighbourhoods widen from
2013 to 2024. Health (loneliness, difficulty making ends meet, self-rated health...) follows deprivation
per age group.

Then CBS's publication rules are applied: counts of buurten and wijken are rounded to multiples of 5
(gemeente counts are exact), benefit recipients to tens at every level, shares and means of areas with few
inhabitants are suppressed (NaN here, JSON null in the mirror), small counts of care clients are
suppressed, and the newest year is a partial release without income figures. Missing is never 0.

The national row (``NL01``, "Nederland (synthetisch)") is treated like a gemeente: its counts are the sums
of the published gemeente counts, its shares and means the same weighted means over all atoms (so over
all gemeenten), nothing rounded to 5 and nothing suppressed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bwm.synth.geography import (
    BEDRIJVEN,
    BUITENGEBIED,
    HEALTH_GEOGRAPHY_YEAR,
    KWB_YEARS,
    LEVEL_GEMEENTE,
    LEVEL_LAND,
    RegionRows,
    World,
)

HEALTH_PERIODS = (2012, 2016, 2020, 2022)
#: Leeftijd codes of the health tables (50120NED, 50090NED): 18 jaar of ouder, 18 tot 65 jaar, 65 jaar of ouder.
AGE_ALL, AGE_18_64, AGE_65_PLUS = "20300", "53115", "80200"
HEALTH_AGE_GROUPS = (AGE_ALL, AGE_18_64, AGE_65_PLUS)

# Publication thresholds (inhabitants of the area; buurten and wijken only).
MIN_INHABITANTS_RELATIVE = 50  # shares, means and densities
MIN_INHABITANTS_INCOME = 100  # income and wealth statistics
MIN_HOUSEHOLDS_INCOME = 50
MIN_SENSITIVE_COUNT = 5  # benefit recipients, youth care, Wmo clients: smaller counts are suppressed
MIN_INHABITANTS_HEALTH = 100
MIN_INHABITANTS_HEALTH_65 = 25

#: The newest year is a partial release, as CBS's first release of a KWB year is: the real first release
#: of KWB 2020 (84799NED, March 2021, in shared/cbs-real) had no income, housing or care figures at all; CBS
#: fills them in later releases of the same table. Here the income and wealth columns of 2024 are empty for
#: every area, national row included, so the pipeline reads them as "not published yet".
PARTIAL_RELEASE_YEAR = 2024

#: Health topics (by key stem) not collected in a period, so the whole column is null that year.
HEALTH_UNPUBLISHED = {2012: ("VoldoetAanBeweegrichtlijn",)}

# Price and income indices per year (2013 = 1), loosely following the Dutch trend.
_INCOME_INDEX = dict(
    zip(range(2012, 2025), (0.99, 1.0, 1.01, 1.03, 1.06, 1.08, 1.11, 1.14, 1.18, 1.21, 1.27, 1.36, 1.43))
)
_WOZ_INDEX = dict(zip(range(2012, 2025), (1.03, 1.0, 0.96, 0.94, 0.95, 0.98, 1.05, 1.13, 1.22, 1.32, 1.48, 1.70, 1.76)))
_WW_CYCLE = dict(zip(range(2012, 2025), (1.2, 1.35, 1.4, 1.3, 1.15, 1.0, 0.85, 0.78, 0.95, 0.9, 0.75, 0.78, 0.85)))

# Aggregation rules. "sum": counts; ("mean", weight): weighted mean of the atoms, weight another quantity.
SUM = "sum"
_MEANS = {
    "inkomen_per_inwoner_eur": "inwoners",
    "inkomen_per_inkomensontvanger_eur": "inkomensontvangers",
    "gestandaardiseerd_huishoudinkomen_eur": "huishoudens",
    "personen_laagste_40pct_inkomen_pct": "inwoners",
    "personen_hoogste_20pct_inkomen_pct": "inwoners",
    "huishoudens_laagste_40pct_inkomen_pct": "huishoudens",
    "huishoudens_hoogste_20pct_inkomen_pct": "huishoudens",
    "huishoudens_laag_inkomen_pct": "huishoudens",
    "huishoudens_sociaal_minimum_pct": "huishoudens",
    "huishoudens_tot_110pct_sociaal_minimum_pct": "huishoudens",
    "huishoudens_tot_120pct_sociaal_minimum_pct": "huishoudens",
    "mediaan_vermogen_eur": "huishoudens",
    "woz_waarde_eur": "woningvoorraad",
    "koopwoningen_pct": "woningvoorraad",
    "huurwoningen_pct": "woningvoorraad",
    "corporatiewoningen_pct": "woningvoorraad",
    "nettoarbeidsparticipatie_pct": "_beroepsleeftijd",
    "afstand_huisarts_km": "inwoners",
    "afstand_supermarkt_km": "inwoners",
    "afstand_kinderdagverblijf_km": "inwoners",
    "afstand_school_km": "inwoners",
    "scholen_binnen_3km": "inwoners",
    "omgevingsadressendichtheid_per_km2": "_adressen",
    "_deprivation": "_gewicht",
    "_urbanity": "_gewicht",
}
_COUNTS = (
    "inwoners", "mannen", "vrouwen", "leeftijd_0_15", "leeftijd_15_25", "leeftijd_25_45", "leeftijd_45_65",
    "leeftijd_65_plus", "huishoudens", "eenpersoonshuishoudens", "huishoudens_met_kinderen",
    "huishoudens_zonder_kinderen", "woningvoorraad", "inkomensontvangers", "bijstand_personen", "ao_personen",
    "ww_personen", "aow_personen", "jeugdzorg_jongeren", "wmo_clienten",
)
_AREAS = ("oppervlakte_totaal_ha", "oppervlakte_land_ha", "oppervlakte_water_ha")
_HIDDEN_SUMS = ("_jongeren", "_beroepsleeftijd", "_adressen", "_gewicht")
_SENSITIVE_COUNTS = ("bijstand_personen", "ao_personen", "ww_personen", "jeugdzorg_jongeren", "wmo_clienten")
#: Benefit recipients: the real KWB 2020 rounds them to tens at every level, national row included (NL
#: 421,110 bijstand), publishes small counts as 0 (Ameland: 10 over its buurten that each show 0), and leaves
#: only buurten and wijken with few inhabitants empty.
_BENEFITS = ("bijstand_personen", "ao_personen", "ww_personen", "aow_personen")
_INCOME = (
    "inkomen_per_inwoner_eur", "inkomen_per_inkomensontvanger_eur", "gestandaardiseerd_huishoudinkomen_eur",
    "personen_laagste_40pct_inkomen_pct", "personen_hoogste_20pct_inkomen_pct",
    "huishoudens_laagste_40pct_inkomen_pct", "huishoudens_hoogste_20pct_inkomen_pct",
    "huishoudens_laag_inkomen_pct", "huishoudens_sociaal_minimum_pct",
    "huishoudens_tot_110pct_sociaal_minimum_pct", "huishoudens_tot_120pct_sociaal_minimum_pct",
    "mediaan_vermogen_eur",
)
#: Quantities shown even where the area has no inhabitants (they describe the place, not the people).
_ALWAYS_SHOWN = ("omgevingsadressendichtheid_per_km2", "mate_van_stedelijkheid")
_ONLY_WITH_INHABITANTS = (
    "afstand_huisarts_km", "afstand_supermarkt_km", "afstand_kinderdagverblijf_km", "afstand_school_km",
    "scholen_binnen_3km",
)

#: Canonical variables this model produces (besides the region descriptors).
MODELLED = frozenset(
    set(_COUNTS) | set(_AREAS) | {k for k in _MEANS if not k.startswith("_")}
    | {
        "gemiddelde_huishoudensgrootte", "bevolkingsdichtheid_per_km2", "jeugdzorg_jongeren_pct",
        "wmo_clienten_per_1000", "mate_van_stedelijkheid",
    }
)


def stable_rng(seed: int, name: str) -> np.random.Generator:
    """A generator per (seed, purpose): adding a variable never changes the draws of another."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


@dataclass
class Latent:
    """Per atom, everything about the place that does not change from year to year."""

    world: World

    @property
    def seed(self) -> int:
        return self.world.seed

    @cached_property
    def base(self) -> dict[str, np.ndarray]:
        """The latent quantities per atom. The merging municipalities (the last ones) draw theirs from a
        stream of their own, so that the others' figures do not depend on whether they exist."""
        w = self.world
        if not w.merging:
            return _base_draws(w, stable_rng(self.seed, "latent"))
        head = _base_draws(w.subworld(range(w.n_base_gm)), stable_rng(self.seed, "latent"))
        tail = _base_draws(w.subworld(range(w.n_base_gm, w.n_gm)), stable_rng(self.seed, "latent/merging"))
        return {k: np.concatenate([head[k], tail[k]]) for k in head}
    def deprivation(self, year: float) -> np.ndarray:
        """Deprivation in ``year``: the poorer side of each town drifts up, the richer side down."""
        b = self.base
        tau = (year - 2013) / 11.0
        return b["depr0"] + 0.65 * np.tanh(1.1 * b["rel"]) * tau

    def noise(self, name: str, year: int, scale: float = 1.0) -> np.ndarray:
        return stable_rng(self.seed, f"{name}/{year}").normal(0, scale, self.world.n_atoms)



def _base_draws(w: World, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The latent quantities per atom of a world, drawn from ``rng`` in a fixed order."""
    n = w.n_atoms
    n_gm, n_wk, n_bb = w.n_gm, len(w.wk_gm), len(w.bb_wk)
    gm_size = np.bincount(w.wk_gm[w.bb_wk], minlength=n_gm)
    gm_urban = np.clip(0.22 + 0.17 * np.log(gm_size / 8.0) + rng.normal(0, 0.08, n_gm), 0.05, 0.95)
    gm_income = np.exp(rng.normal(0, 0.08, n_gm))
    gm_depr = rng.normal(0, 0.3, n_gm) + 0.25 * (gm_urban - 0.4)
    gm_dir = np.where(rng.random(n_gm) < 0.5, -1.0, 1.0)  # which side of town is the poorer one
    # Wijk deprivation: a gradient across the town (its rows) plus noise; relative part drives the drift.
    n_rows = np.bincount(w.wk_gm, minlength=n_gm)
    rel_row = (w.wk_row + 0.5) / n_rows[w.wk_gm] - 0.5
    wk_rel = gm_dir[w.wk_gm] * 1.7 * rel_row + rng.normal(0, 0.45, n_wk)
    bb_rel = wk_rel[w.bb_wk] + rng.normal(0, 0.3, n_bb)
    atom_rel = bb_rel[w.atom_bb] + rng.normal(0, 0.06, n)
    pos = w.atom_rel_pos
    centrality = 1.0 - np.clip(np.hypot(pos[:, 0] - 0.3, pos[:, 1] - 0.5) / 0.8, 0, 1)
    kind = w.atom_kind
    urban = np.clip(gm_urban[w.atom_gm] + 0.3 * (centrality - 0.5) + rng.normal(0, 0.07, n_bb)[w.atom_bb], 0.02, 1)
    urban = np.where(kind == BUITENGEBIED, 0.02, urban)
    age = rng.normal(0, 1, n_bb)[w.atom_bb] - 0.4 * (urban - 0.4) + rng.normal(0, 0.15, n)

    # Inhabitants of the first year: residential buurten ~1,200, rural ones a few hundred, business parks
    # none or a handful. The two atoms of a buurt split it unevenly.
    bb_pop = rng.lognormal(np.log(1150), 0.55, n_bb) * (0.65 + 0.7 * urban[::2])
    bb_pop = np.where(w.bb_kind == BUITENGEBIED, rng.lognormal(np.log(230), 0.6, n_bb), bb_pop)
    small = rng.choice([0, 0, 0, 5, 15, 25, 40], size=n_bb).astype(float)
    bb_pop = np.where(w.bb_kind == BEDRIJVEN, small, bb_pop)
    share = rng.uniform(0.35, 0.65, n_bb)
    pop0 = np.column_stack([bb_pop * share, bb_pop * (1 - share)]).ravel()
    new_build = rng.random(n_bb) < 0.04
    growth = rng.normal(0.004, 0.006, n_bb)[w.atom_bb] + np.where(new_build[w.atom_bb], 0.045, 0.0)
    growth = np.where(kind == BEDRIJVEN, 0.0, growth)

    bb_area = rng.lognormal(np.log(30.0), 0.5, n_bb) / (0.25 + urban[::2])
    bb_area = np.where(w.bb_kind == BUITENGEBIED, rng.lognormal(np.log(1400), 0.5, n_bb), bb_area)
    bb_area = np.where(w.bb_kind == BEDRIJVEN, rng.lognormal(np.log(90), 0.5, n_bb), bb_area)
    water = np.clip(rng.beta(1.2, 12, n_bb), 0, 0.6)
    atom_area = np.column_stack([bb_area * share, bb_area * (1 - share)]).ravel()
    return {
        "gm_income": gm_income[w.atom_gm],
        "depr0": gm_depr[w.atom_gm] + atom_rel,
        "rel": atom_rel,
        "urban": urban,
        "age": age,
        "pop0": pop0,
        "growth": growth,
        "area": atom_area,
        "water": water[w.atom_bb],
        "kind": kind,
        "oad": np.clip(3000 * urban**1.4 * np.exp(rng.normal(0, 0.25, n_bb))[w.atom_bb] + 40, 15, 9000),
        "access": np.exp(rng.normal(0, 0.3, n_bb))[w.atom_bb],
        "male": rng.normal(0.495, 0.01, n_bb)[w.atom_bb],
    }


def atom_values(lat: Latent, year: int) -> dict[str, np.ndarray]:
    """All modelled quantities per atom for a KWB year, in canonical units, unrounded."""
    b = lat.base
    t = year - 2013
    d = lat.deprivation(year)
    u = b["urban"]
    kind = b["kind"]
    v: dict[str, np.ndarray] = {}

    pop = np.round(b["pop0"] * np.exp(b["growth"] * t) * np.exp(lat.noise("pop", year, 0.01)))
    v["inwoners"] = pop
    v["mannen"] = np.round(pop * np.clip(b["male"] + lat.noise("male", year, 0.004), 0.4, 0.6))
    v["vrouwen"] = pop - v["mannen"]
    # Age groups: a young/old profile per buurt, cities younger, the whole country ageing slowly.
    a = b["age"] + 0.04 * t
    logits = np.column_stack([
        np.log(0.16) - 0.25 * a - 0.2 * u,
        np.log(0.12) - 0.05 * a + 0.35 * u,
        np.log(0.25) - 0.15 * a + 0.35 * u,
        np.log(0.27) + 0.05 * a,
        np.log(0.19) + 0.35 * a - 0.15 * u,
    ]) + 0.05 * np.column_stack([lat.noise(f"age{k}", year) for k in range(5)])
    shares = np.exp(logits)
    shares /= shares.sum(axis=1, keepdims=True)
    ages = np.floor(pop[:, None] * shares)
    ages[:, 2] += pop - ages.sum(axis=1)  # the remainder goes to 25-45, so the groups add up exactly
    age_names = ("leeftijd_0_15", "leeftijd_15_25", "leeftijd_25_45", "leeftijd_45_65", "leeftijd_65_plus")
    for k, name in enumerate(age_names):
        v[name] = ages[:, k]
    kids = -b["age"]
    size = np.clip(2.3 - 0.5 * u + 0.18 * kids + 0.05 * d - 0.004 * t + lat.noise("hhsize", year, 0.03), 1.25, 3.4)
    hh = np.round(pop / size)
    v["huishoudens"] = hh
    single = np.clip(0.36 + 0.25 * u + 0.05 * d - 0.07 * kids + lat.noise("single", year, 0.01), 0.08, 0.85)
    with_kids = np.clip(0.30 - 0.12 * u + 0.07 * kids + lat.noise("kids", year, 0.01), 0.03, 0.6)
    with_kids = np.minimum(with_kids, 0.97 - single)
    v["eenpersoonshuishoudens"] = np.round(hh * single)
    v["huishoudens_met_kinderen"] = np.round(hh * with_kids)
    v["huishoudens_zonder_kinderen"] = hh - v["eenpersoonshuishoudens"] - v["huishoudens_met_kinderen"]
    v["woningvoorraad"] = np.round(hh * (1.03 + 0.01 * np.abs(lat.noise("dwell", 2013))) + (kind == BEDRIJVEN) * 2)
    v["_adressen"] = v["woningvoorraad"] + 5.0
    v["_gewicht"] = np.maximum(pop, 0.01)  # weight for hidden means: inhabitants, never all zero
    v["_beroepsleeftijd"] = v["leeftijd_15_25"] + v["leeftijd_25_45"] + v["leeftijd_45_65"]
    v["_jongeren"] = v["leeftijd_0_15"] + 0.8 * v["leeftijd_15_25"]
    v["_deprivation"] = d
    v["_urbanity"] = u

    # Income and wealth.
    inc = 24_500 * b["gm_income"] * np.exp(-0.2 * d + 0.05 * u + lat.noise("inc", year, 0.02)) * _INCOME_INDEX[year]
    v["inkomen_per_inwoner_eur"] = inc
    recipients = np.round(pop * np.clip(0.74 + 0.03 * b["age"] + lat.noise("recip", year, 0.01), 0.55, 0.9))
    v["inkomensontvangers"] = recipients
    v["inkomen_per_inkomensontvanger_eur"] = inc * pop / np.maximum(recipients, 1)
    v["gestandaardiseerd_huishoudinkomen_eur"] = 1.42 * inc * np.exp(lat.noise("gest", year, 0.02))
    v["personen_laagste_40pct_inkomen_pct"] = np.clip(40 + 15 * d + lat.noise("p40", year, 1.5), 3, 92)
    v["personen_hoogste_20pct_inkomen_pct"] = np.clip(20 - 8 * d + lat.noise("p20", year, 1.2), 1, 70)
    v["huishoudens_laagste_40pct_inkomen_pct"] = np.clip(40 + 16 * d + 5 * u + lat.noise("h40", year, 1.5), 3, 94)
    v["huishoudens_hoogste_20pct_inkomen_pct"] = np.clip(20 - 8 * d - 2 * u + lat.noise("h20", year, 1.2), 1, 70)
    low = np.clip(7.0 * np.exp(0.6 * d) + 1.5 * u - 0.08 * t + lat.noise("low", year, 0.5), 0.3, 48)
    v["huishoudens_laag_inkomen_pct"] = low
    sm = np.clip(0.92 * low + lat.noise("sm", year, 0.3), 0.2, 45)
    v["huishoudens_sociaal_minimum_pct"] = sm
    v["huishoudens_tot_110pct_sociaal_minimum_pct"] = sm * 1.22
    v["huishoudens_tot_120pct_sociaal_minimum_pct"] = sm * 1.45
    v["mediaan_vermogen_eur"] = np.maximum(
        48_000 * np.exp(-0.95 * d - 0.6 * u + lat.noise("wealth", year, 0.08)) * _WOZ_INDEX[year] ** 0.7, 300
    )
    woz = 215_000 * b["gm_income"] * np.exp(-0.22 * d + 0.25 * u + lat.noise("woz", year, 0.02))
    v["woz_waarde_eur"] = woz * _WOZ_INDEX[year]
    own = np.clip(60 - 17 * d - 20 * u + 6 * np.tanh(lat.noise("own", 2013, 1.0)) + 0.2 * t, 2, 98)
    v["koopwoningen_pct"] = own
    v["huurwoningen_pct"] = np.clip(100 - own - 0.6, 0, 100)
    v["corporatiewoningen_pct"] = v["huurwoningen_pct"] * np.clip(0.55 + 0.13 * d, 0.05, 0.95)
    v["nettoarbeidsparticipatie_pct"] = np.clip(65 - 5 * d + 0.45 * t + lat.noise("part", year, 1.5), 30, 90)

    # Social security and care (counts of persons).
    v["bijstand_personen"] = pop * 0.021 * np.exp(0.8 * d + lat.noise("bijst", year, 0.08))
    v["ao_personen"] = pop * 0.052 * np.exp(0.3 * d + lat.noise("ao", year, 0.08))
    v["ww_personen"] = pop * 0.017 * np.exp(0.25 * d + lat.noise("ww", year, 0.1)) * _WW_CYCLE[year]
    v["aow_personen"] = v["leeftijd_65_plus"] * np.clip(0.93 + lat.noise("aow", year, 0.01), 0.85, 1.0)
    youth_rate = np.clip(8.5 + 3.0 * d + 0.15 * t + lat.noise("jz", year, 0.8), 1, 30) / 100
    v["jeugdzorg_jongeren"] = v["_jongeren"] * youth_rate
    old_share = v["leeftijd_65_plus"] / np.maximum(pop, 1)
    wmo_rate = np.clip(45 + 17 * d + 160 * (old_share - 0.19) + lat.noise("wmo", year, 4), 5, 260)
    v["wmo_clienten"] = pop * wmo_rate / 1000

    # Facilities and land.
    reach = b["access"] * np.exp(-1.3 * u) * np.where(kind == BUITENGEBIED, 2.5, 1.0)
    v["afstand_huisarts_km"] = np.clip(1.1 * reach, 0.1, 15)
    v["afstand_supermarkt_km"] = np.clip(1.0 * reach * 0.95, 0.1, 15)
    v["afstand_kinderdagverblijf_km"] = np.clip(0.85 * reach, 0.1, 15)
    v["afstand_school_km"] = np.clip(0.8 * reach, 0.1, 15)
    v["scholen_binnen_3km"] = np.clip(30 * u**1.2 / b["access"] + 0.4, 0, 90)
    v["oppervlakte_totaal_ha"] = b["area"]
    v["oppervlakte_water_ha"] = b["area"] * b["water"]
    v["oppervlakte_land_ha"] = b["area"] - v["oppervlakte_water_ha"]
    v["omgevingsadressendichtheid_per_km2"] = b["oad"] * (1 + 0.004 * t)
    return v


@dataclass
class AreaValues:
    """One year's values per table row (gemeente, wijk, buurt rows in CBS order), canonical units.

    ``values`` maps canonical name -> float array with NaN for null. Counts are already rounded as CBS
    publishes them; means and shares are unrounded (the writer rounds them to each key's decimals).
    """

    year: int
    rows: RegionRows
    values: dict[str, np.ndarray]
    postcode: list[str | None]
    dekking: np.ndarray


def area_values(lat: Latent, year: int, extras: dict[str, str] | None = None) -> AreaValues:
    """Aggregate a year's atom values into that year's gemeente, wijk and buurt rows and apply CBS rules.

    ``extras`` names further variables wanted (name -> unit, canonical or CBS), which the model fills
    with generic but plausible values: aliases of modelled concepts, or values by unit.
    """
    world = lat.world
    geo = world.geography(year)
    rows = geo.rows()
    atoms = atom_values(lat, year)
    n = rows.n
    out: dict[str, np.ndarray] = {}

    def total(x: np.ndarray) -> np.ndarray:
        acc = np.zeros(n)
        for idx in rows.atom_rows:
            acc += np.bincount(idx, weights=x, minlength=n)
        return acc

    for name in _COUNTS + _AREAS + _HIDDEN_SUMS:
        out[name] = total(atoms[name])
    for name, weight in _MEANS.items():
        den = out[weight]
        num = total(atoms[name] * atoms[weight])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)

    pop = out["inwoners"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["gemiddelde_huishoudensgrootte"] = np.where(out["huishoudens"] > 0, pop / out["huishoudens"], np.nan)
        out["bevolkingsdichtheid_per_km2"] = np.where(
            out["oppervlakte_land_ha"] > 0, pop / (out["oppervlakte_land_ha"] / 100), np.nan
        )
        out["jeugdzorg_jongeren_pct"] = np.where(
            out["_jongeren"] > 0, 100 * out["jeugdzorg_jongeren"] / out["_jongeren"], np.nan
        )
        out["wmo_clienten_per_1000"] = np.where(pop > 0, 1000 * out["wmo_clienten"] / pop, np.nan)
    oad = out["omgevingsadressendichtheid_per_km2"]
    out["mate_van_stedelijkheid"] = np.select(
        [oad >= 2500, oad >= 1500, oad >= 1000, oad >= 500], [1, 2, 3, 4], default=5
    ).astype(float)

    generic_sums, generic_means = [], []
    for name, unit in (extras or {}).items():
        if name in out or name in _ALIASES:
            continue
        how, x = _generic_atoms(lat, atoms, name, normalise_unit(unit), year)
        if how == SUM:
            out[name] = total(x)
            generic_sums.append((name, normalise_unit(unit)))
        else:
            num, den = total(x * atoms["_gewicht"]), out["_gewicht"]
            out[name] = num / den
            generic_means.append(name)

    _publish(out, rows, year)
    lower = rows.lower
    few = lower & (pop < MIN_INHABITANTS_RELATIVE)
    for name, unit in generic_sums:
        if unit == "ha":
            out[name] = np.round(out[name])
        else:
            out[name] = np.where(lower, np.round(out[name] / 5) * 5, np.round(out[name]))
    _national_sums(out, rows, [name for name, _ in generic_sums])
    for name in generic_means:
        out[name] = np.where(few, np.nan, out[name])
    for name in extras or {}:
        if name in _ALIASES:
            source, factor = _ALIASES[name]
            out[name] = out[source] * factor
    buurt = rows.level == 2
    rng = stable_rng(lat.seed, f"postcode/{year}")
    # One draw per gemeente, wijk and buurt row (not the national row, so theirs do not shift because of it).
    regional = rows.level != LEVEL_LAND
    draws = np.zeros(n, dtype=np.int64)
    draws[regional] = rng.integers(1, 7, int(regional.sum()))
    dekking = np.where(buurt & (pop > 0), draws, np.nan).astype(float)
    postcode: list[str | None] = [None] * n
    for i in np.flatnonzero(buurt & (pop > 0)).tolist():
        # A four-digit "postcode" per buurt; a synthetic number, never looked up anywhere.
        gm_number = int(rows.code[i][2:6])
        postcode[i] = f"{1000 + (gm_number * 37 + zlib.crc32(rows.code[i].encode()) % 40) % 9000:>10d}"
    return AreaValues(year=year, rows=rows, values=out, postcode=postcode, dekking=dekking)


def _publish(out: dict[str, np.ndarray], rows: RegionRows, year: int) -> None:
    """CBS's rounding and suppression rules, in place."""
    lower = rows.lower  # buurten and wijken
    pop = out["inwoners"].copy()
    hh = out["huishoudens"].copy()
    for name in _COUNTS:
        x = out[name]
        if name in _BENEFITS:
            out[name] = np.round(x / 10) * 10
        else:
            out[name] = np.where(lower, np.round(x / 5) * 5, np.round(x))
    for name in _AREAS:
        out[name] = np.round(out[name])
    _national_sums(out, rows, _COUNTS + _AREAS)
    few = lower & (pop < MIN_INHABITANTS_RELATIVE)
    for name in MODELLED:
        if name in _COUNTS or name in _AREAS or name in _ALWAYS_SHOWN:
            continue
        if name in _ONLY_WITH_INHABITANTS:
            out[name] = np.where(pop > 0, out[name], np.nan)
        else:
            out[name] = np.where(few, np.nan, out[name])
    income_few = lower & ((pop < MIN_INHABITANTS_INCOME) | (hh < MIN_HOUSEHOLDS_INCOME))
    for name in _INCOME:
        out[name] = np.where(income_few, np.nan, out[name])
    for name in _SENSITIVE_COUNTS:
        raw = out[name]
        small = lower & (pop < MIN_INHABITANTS_RELATIVE)
        if name not in _BENEFITS:
            small |= lower & (raw < MIN_SENSITIVE_COUNT)
        out[name] = np.where(small, np.nan, raw)
    if year == PARTIAL_RELEASE_YEAR:
        for name in _INCOME:
            out[name] = np.full(rows.n, np.nan)


def _national_sums(out: dict[str, np.ndarray], rows: RegionRows, names) -> None:
    """Set the national row's counts to the sums of the (rounded) gemeente counts, in place.

    Summing the atoms and rounding once can differ from the sum of the rounded gemeenten by a few units
    for counts that are not whole per atom (benefit recipients, care clients, areas); CBS's national
    figures add up over its gemeenten, so the synthetic ones do too.
    """
    land = np.flatnonzero(rows.level == LEVEL_LAND)
    if len(land) == 0:
        return
    gemeente = rows.level == LEVEL_GEMEENTE
    for name in names:
        out[name][land] = out[name][gemeente].sum()


# --- generic values for variables the model has no concept for -----------------------------------

#: Variables derived from modelled ones: name -> (source, factor). The 2013 table's income concepts are
#: the later ones under older names and definitions.
_ALIASES = {
    "personen_laag_inkomen_kwb2013_pct": ("personen_laagste_40pct_inkomen_pct", 1.0),
    "personen_hoog_inkomen_kwb2013_pct": ("personen_hoogste_20pct_inkomen_pct", 1.0),
    "huishoudens_laag_inkomen_kwb2013_pct": ("huishoudens_laagste_40pct_inkomen_pct", 1.0),
    "huishoudens_hoog_inkomen_kwb2013_pct": ("huishoudens_hoogste_20pct_inkomen_pct", 1.0),
    "huishoudens_lage_koopkracht_pct": ("huishoudens_laag_inkomen_pct", 1.1),
}

#: Typical level of some shares the model does not otherwise know (default: a level from the name's hash).
_SHARE_LEVELS = {
    "woningen_bewoond_pct": 95.5,
    "woningen_onbewoond_pct": 4.5,
    "eengezinswoningen_pct": 64.0,
    "meergezinswoningen_pct": 36.0,
    "bouwjaar_voor_2000_pct": 78.0,
    "bouwjaar_vanaf_2000_pct": 22.0,
    "bouwjaar_ouder_dan_10_jaar_pct": 90.0,
    "bouwjaar_afgelopen_10_jaar_pct": 10.0,
    "eigendom_onbekend_pct": 0.5,
    "niet_actieven_pct": 30.0,
    "werknemers_pct": 85.0,
    "zelfstandigen_pct": 15.0,
}

#: Typical size of some counts the model does not otherwise know, as a fraction of the inhabitants, and how
#: strongly they rise with deprivation (elasticity).
_COUNT_LEVELS = {
    "ongehuwd": (0.47, 0.05), "gehuwd": (0.38, -0.08), "gescheiden": (0.08, 0.1), "verweduwd": (0.05, 0.0),
    "migratieachtergrond_westers": (0.10, 0.05), "migratieachtergrond_niet_westers": (0.13, 0.5),
    "migratieachtergrond_marokko": (0.025, 0.6), "migratieachtergrond_antillen_aruba": (0.009, 0.5),
    "migratieachtergrond_suriname": (0.02, 0.5), "migratieachtergrond_turkije": (0.023, 0.6),
    "migratieachtergrond_overig_niet_westers": (0.05, 0.4), "herkomstland_nederland": (0.74, -0.08),
    "herkomstland_europa_excl_nl": (0.12, 0.1), "herkomstland_buiten_europa": (0.14, 0.45),
    "geboren_in_nl_herkomstland_nederland": (0.73, -0.08), "geboren_in_nl_herkomstland_europa_excl_nl": (0.04, 0.1),
    "geboren_in_nl_herkomstland_buiten_europa": (0.06, 0.45),
    "geboren_buiten_nl_herkomstland_europa_excl_nl": (0.08, 0.1),
    "geboren_buiten_nl_herkomstland_buiten_europa": (0.08, 0.45), "geboorten": (0.010, 0.1), "sterfte": (0.009, 0.0),
    "nieuwbouw_woningen": (0.004, 0.0), "niet_woningvoorraad": (0.06, 0.0), "nieuwbouw_niet_woningen": (0.001, 0.0),
    "leerlingen_po": (0.085, 0.05), "leerlingen_vo": (0.06, 0.05), "studenten_mbo": (0.03, 0.2),
    "studenten_hbo": (0.03, -0.1), "studenten_wo": (0.02, -0.2), "opleidingsniveau_laag": (0.21, 0.35),
    "opleidingsniveau_middelbaar": (0.30, 0.0), "opleidingsniveau_hoog": (0.27, -0.35),
    "werkzame_beroepsbevolking": (0.50, -0.08), "bedrijfsvestigingen": (0.12, -0.05),
    "personenautos": (0.47, -0.15), "personenautos_jonger_dan_6_jaar": (0.14, -0.2),
    "personenautos_6_jaar_en_ouder": (0.33, -0.1), "personenautos_benzine": (0.38, -0.15),
    "personenautos_overige_brandstof": (0.09, -0.15), "bedrijfsmotorvoertuigen": (0.05, 0.0),
    "motorfietsen": (0.04, -0.1),
}

_UNIT_ALIASES = {
    "aantal": "count", "%": "pct", "per 1 000 inwoners": "per_1000", "per km²": "per_km2",
    "aantal inwoners per km²": "per_km2", "x 1 000 euro": "eur", "euro": "eur", "kwh": "kwh", "m³": "m3",
    "per huishouden": "per_household", "km": "km", "ha": "ha", "code": "code",
}


def normalise_unit(unit: str | None) -> str:
    """A CBS unit ('x 1 000 euro', 'aantal') or a canonical one ('eur', 'count') as the canonical one."""
    u = (unit or "").strip()
    return _UNIT_ALIASES.get(u.lower(), _UNIT_ALIASES.get(u, u.lower()))


def _generic_atoms(
    lat: Latent, atoms: dict[str, np.ndarray], name: str, unit: str, year: int
) -> tuple[str, np.ndarray]:
    """Atom values for a variable the model has no concept for: ("sum" or "mean", values) by its unit.

    Stable per ``name`` (the canonical name, or the key stem), so a column looks continuous over years.
    """
    pop = atoms["inwoners"]
    d = atoms["_deprivation"]
    u = atoms["_urbanity"]
    h = zlib.crc32(name.encode("utf-8"))
    f = 0.02 + (h % 1000) / 1000 * 0.4
    sign = 1.0 if (h >> 10) % 2 else -1.0
    noise = lat.noise(f"generic/{name}", year, 1.0)
    if unit == "count":
        level, slope = _COUNT_LEVELS.get(name, (f / 4, 0.15 * sign))
        return SUM, pop * level * np.exp(slope * d + 0.05 * noise)
    if unit == "ha":
        return SUM, lat.base["area"] * f
    if unit == "pct":
        level = _SHARE_LEVELS.get(name, 100 * f)
        spread = min(level, 100 - level) * 0.25
        return "mean", np.clip(level + spread * (sign * 0.8 * d + 0.3 * noise), 0, 100)
    if unit == "per_1000":
        level = {"geboorten_per_1000": 10.0, "sterfte_per_1000": 9.0}.get(name, 4 * (1 + f))
        return "mean", np.clip(level * np.exp(0.2 * sign * d + 0.1 * noise), 0, 1000)
    if unit == "kwh":
        return "mean", 2900 * (1 + f) * np.exp(-0.2 * u + 0.05 * noise)
    if unit == "m3":
        return "mean", 1250 * (1 + f) * np.exp(-0.3 * u + 0.05 * noise)
    if unit == "per_km2":
        return "mean", 800 * (1 + f) * np.exp(1.5 * u + 0.1 * noise)
    if unit == "per_household":
        return "mean", np.clip((0.5 + 2 * f) * np.exp(-0.6 * u + 0.05 * noise), 0.05, 4)
    if unit == "eur":
        return "mean", 30_000 * (1 + f) * np.exp(-0.2 * d + 0.05 * noise)
    if unit == "km":
        return "mean", np.clip(1.5 * (1 + f) * np.exp(-u + 0.2 * noise), 0.1, 30)
    if unit == "code":
        return "mean", np.clip(np.round(3 + sign * d + noise), 1, 5)
    return "mean", (1 + 10 * f) * np.exp(0.1 * sign * d + 0.05 * noise)


# --- health (50120NED layout) ----------------------------------------------------------------------------

# Per topic stem: level for 18-64 and 65+, slope per unit of deprivation, extra per unit of urbanity,
# change per year.
_HEALTH_MODEL = {
    "ErvarenGezondheidGoedZeerGoed": (80, 60, -5.5, 0, -0.1),
    "VoldoetAanBeweegrichtlijn": (50, 38, -4, 0, 0.2),
    "WekelijkseSporters": (55, 38, -6, 2, 0.1),
    "Ondergewicht": (2, 1.2, 0.2, 0.3, 0),
    "NormaalGewicht": (48, 38, -3, 2, -0.15),
    "Overgewicht": (48, 60, 3.5, -3, 0.15),
    "ErnstigOvergewicht": (14, 18, 3, -1, 0.12),
    "Roker": (22, 11, 4.5, 1, -0.25),
    "VoldoetAanAlcoholRichtlijn": (42, 45, 1, 0, 0.2),
    "Drinker": (82, 76, -3.5, 0, -0.1),
    "ZwareDrinker": (10, 5, -0.5, 1, -0.05),
    "OvermatigeDrinker": (8, 6, -0.5, 0.5, -0.05),
    "EenOfMeerLangdurigeAandoeningen": (27, 55, 3, 0, 0.1),
    "BeperktVanwegeGezondheid": (24, 45, 4, 0, 0.05),
    "ErnstigBeperktVanwegeGezondheid": (3.5, 10, 1.5, 0, 0.02),
    "LangdurigeZiekteEnBeperkt": (23, 42, 4, 0, 0.05),
    "EenOfMeerLichamelijkeBeperkingen": (8, 30, 3, 0, 0.05),
    "BeperkingInHoren": (2.5, 9, 0.6, 0, 0),
    "BeperkingInZien": (3, 7, 1, 0, 0),
    "BeperkingInBewegen": (4.5, 22, 2.5, 0, 0.03),
    "MatigHoogRisicoOpAngstOfDepressie": (45, 42, 6, 2, 0.2),
    "HoogRisicoOpAngstOfDepressie": (7, 6, 2.5, 1, 0.05),
    "HeelVeelStressInAfgelopen4Weken": (19, 10, 2, 2, 0.1),
    "MatigVeelRegieOverEigenLeven": (91, 86, -3, 0, 0),
    "Eenzaam": (44, 50, 6, 3, 0.25),
    "ErnstigZeerErnstigEenzaam": (11, 12, 4, 1, 0.1),
    "EmotioneelEenzaam": (30, 34, 4, 2, 0.15),
    "SociaalEenzaam": (29, 33, 4, 2, 0.15),
    "Mantelzorger": (15, 14, -1, -1, -0.05),
    "Vrijwilligerswerk": (28, 34, -5, -4, -0.2),
    "LopenEnOfFietsenNaarSchoolOfWerk": (45, None, -2, 8, 0.2),
    "LopenNaarSchoolOfWerk": (14, None, 0, 4, 0.05),
    "FietsenNaarSchoolOfWerk": (36, None, -2, 6, 0.15),
    "ErnstigeGeluidhinderDoorBuren": (9, 5, 2, 4, 0.05),
    "MoeiteMetRondkomen": (19, 11, 8, 1, -0.15),
}


@dataclass
class HealthValues:
    """Health values per (period, age group), per row of the health geography, in %, NaN = null."""

    rows: RegionRows
    values: dict[tuple[int, str], dict[str, np.ndarray]]  # (period, age) -> stem -> array
    half_width: dict[tuple[int, str], np.ndarray]  # (period, age) -> 95% half width per % point scale


def health_values(lat: Latent, stems: list[str]) -> HealthValues:
    """Modelled prevalences for the given topic stems, per period and age group (rows: 2022 geography)."""
    world = lat.world
    geo = world.geography(HEALTH_GEOGRAPHY_YEAR)
    rows = geo.rows()
    n = rows.n
    values: dict[tuple[int, str], dict[str, np.ndarray]] = {}
    half: dict[tuple[int, str], np.ndarray] = {}
    u = lat.base["urban"]

    def total(x: np.ndarray) -> np.ndarray:
        acc = np.zeros(n)
        for idx in rows.atom_rows:
            acc += np.bincount(idx, weights=x, minlength=n)
        return acc

    lower = rows.lower
    for period in HEALTH_PERIODS:
        year = min(max(period, KWB_YEARS[0]), KWB_YEARS[-1])
        av = atom_values(lat, year)
        d = lat.deprivation(period)
        n_old = av["leeftijd_65_plus"]
        n_young = av["leeftijd_45_65"] + av["leeftijd_25_45"] + 0.3 * av["leeftijd_15_25"]
        w_young, w_old = total(n_young), total(n_old)
        pop = total(av["inwoners"])
        for age in HEALTH_AGE_GROUPS:
            values[(period, age)] = {}
            size = {AGE_ALL: w_young + w_old, AGE_18_64: w_young, AGE_65_PLUS: w_old}[age]
            # Survey sample per area (the small-area estimates borrow strength, so intervals stay moderate).
            n_eff = np.clip(0.03 * size, 12, 4000)
            half[(period, age)] = 1.96 * np.sqrt(0.25 / n_eff) * 100 * 0.6
        for stem in stems:
            young, old, slope, urb, trend = _HEALTH_MODEL.get(stem, (30.0, 35.0, 3.0, 0.0, 0.0))
            noise = stable_rng(lat.seed, f"health/{stem}/{period}").normal(0, 1, world.n_atoms)
            shift = slope * d + urb * (u - 0.4) + trend * (period - 2012) + 0.8 * noise
            p_young = np.clip(young + shift, 0.3, 99.5)
            y_num = total(p_young * n_young)
            with np.errstate(invalid="ignore", divide="ignore"):
                v_young = np.where(w_young > 0, y_num / np.where(w_young > 0, w_young, 1), np.nan)
                if old is None:
                    v_old = np.full(n, np.nan)
                    v_all = v_young
                else:
                    p_old = np.clip(old + shift, 0.3, 99.5)
                    o_num = total(p_old * n_old)
                    v_old = np.where(w_old > 0, o_num / np.where(w_old > 0, w_old, 1), np.nan)
                    both = w_young + w_old
                    v_all = np.where(both > 0, (y_num + o_num) / np.where(both > 0, both, 1), np.nan)
            unpublished = stem in HEALTH_UNPUBLISHED.get(period, ())
            for age, val in ((AGE_ALL, v_all), (AGE_18_64, v_young), (AGE_65_PLUS, v_old)):
                suppress = lower & (pop < MIN_INHABITANTS_HEALTH)
                if age == AGE_65_PLUS:
                    suppress |= lower & (w_old < MIN_INHABITANTS_HEALTH_65)
                if unpublished:
                    suppress = np.ones(n, dtype=bool)
                values[(period, age)][stem] = np.where(suppress, np.nan, val)
    return HealthValues(rows=rows, values=values, half_width=half)


def key_stem(raw_key: str) -> str:
    """``Eenzaam_28`` -> ``Eenzaam``; ``k_65JaarOfOuder_12`` -> ``k_65JaarOfOuder``."""
    head, sep, tail = raw_key.rpartition("_")
    return head if sep and tail.isdigit() else raw_key
