"""Synthetic municipalities, wijken and buurten, per year, with CBS-style codes and boundary changes.

The synthetic world is built from *atoms*: every buurt of the first year is two atoms (its west and its
east half). Atoms never change; a year's geography only groups them differently. A split buurt becomes
its two atoms, a merge joins the atoms of two neighbouring buurten, a recoded wijk keeps its atoms under
new codes. Values (``bwm.synth.values``) are computed per atom and summed or averaged into whatever
buurten, wijken and gemeenten exist in a year, so the figures of all years describe one consistent place.

Codes cannot be taken for real ones: real gemeente codes stay below GM2000, synthetic ones are GM99xx
(the three demo municipalities, and the two small ones GM9904 and GM9905 that merge on 1 January 2019 into
GM9906, the demo's herindeling) and GM9000-GM93xx (the rest of the national scale). A merger is a gemeente-level
regrouping like a buurt merge: the atoms stay, from the merger year they belong to the new gemeente, whose wijken
and buurten carry new codes (comparability code 2, recoded, in the merger year). Names carry
"(synthetisch)". Like CBS's tables, every year's rows start with a national row ``NL01``; here it is the
total of the synthetic gemeenten of the scale, named "Nederland (synthetisch)" (never the real country).
The map is a set of rectangles: a gemeente is a block of rows, a wijk one row, a buurt
one cell of its row (half a cell after a split, two cells after a merge).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

KWB_YEARS = tuple(range(2013, 2025))
#: Like the real 50120NED (and 50090NED), the health table uses one boundary year for all its periods.
HEALTH_GEOGRAPHY_YEAR = 2022
SCALES = ("demo", "national")

# Indelingswijziging codes as CBS uses them (compared with the previous year's indeling).
UNCHANGED, RECODED, BOUNDARY_CHANGED = "1", "2", "3"

#: The national row: CBS's region key for the Netherlands, and a name nobody takes for the real country.
NATIONAL_CODE = "NL01"
NATIONAL_NAME = "Nederland (synthetisch)"

# Buurt "kinds" steer the value model: ordinary residential buurten, business parks with (almost) no
# inhabitants, and large rural buurten with few inhabitants.
WONEN, BEDRIJVEN, BUITENGEBIED = 0, 1, 2

_DEMO_MUNICIPALITIES = (
    # code number, name, buurten per wijk (one entry per wijk)
    (9901, "Zuiderhaven (synthetisch)", (8, 7, 6, 9, 5, 7)),
    (9902, "Noordveen (synthetisch)", (6, 5, 7, 4)),
    (9903, "Kanaalzijl (synthetisch)", (5, 6, 4)),
)
#: Two small municipalities that merge into a new one (the demo's herindeling; in
#: data/reference/gemeente_herindelingen.csv as the row with synthetic = true). They come last in the world, after
#: every other municipality, and draw their values from a stream of their own, so that adding them changed no
#: figure of the others.
_MERGING_MUNICIPALITIES = (
    (9904, "Beekwolde (synthetisch)", (4, 3, 4)),
    (9905, "Zandhorst (synthetisch)", (3, 4, 4)),
)
#: The first KWB year of the merger (effective 1 January 2019), and the new gemeente's code number and name.
MERGER_YEAR = 2019
MERGED_NUMBER = 9906
MERGED_NAME = "Lindenmeer (synthetisch)"
# Where the demo buurten of kind BEDRIJVEN / BUITENGEBIED are: (municipality index, wijk, slot).
_DEMO_KINDS = {
    (0, 0, 7): BEDRIJVEN,
    (0, 4, 4): BEDRIJVEN,
    (1, 3, 3): BUITENGEBIED,
    (1, 0, 5): BEDRIJVEN,
    (2, 2, 3): BUITENGEBIED,
}

_NAME_HEADS = (
    "Zuider", "Noorder", "Ooster", "Wester", "Hoog", "Laag", "Nieuw", "Oud", "Groot", "Klein", "Mid",
    "Beek", "Zand", "Klei", "Linde", "Eiken", "Wilgen", "Heide", "Molen", "Kerk", "Vlier", "Riet", "Vos",
    "Raven", "Meeu", "Stork", "Wolk", "Dauw", "Mos", "Veld",
)
_NAME_TAILS = (
    "haven", "veen", "dam", "dijk", "broek", "wolde", "horst", "loo", "rade", "sloot", "meer", "hout",
    "bergen", "zijl", "drecht", "wijk", "stede", "hoven", "kamp", "schoten",
)
_BUURT_NAMES = (
    "Centrum", "Molenkwartier", "Vogelbuurt", "Bloemenbuurt", "Stationsbuurt", "Havenkwartier", "Parkzoom",
    "De Akkers", "Kerkebuurt", "Schildersbuurt", "Bomenbuurt", "De Weide", "Oude Dorp", "Singelbuurt",
    "Sterrenwijk", "Waterfront", "De Hoven", "Vlinderbuurt", "Componistenbuurt", "De Brink", "Rietland",
    "Dijkzicht", "Kanaalzone", "Zonnehof", "Lindenhof", "Beekdal", "Het Veld", "Tuinstad", "De Kamp",
    "Polderrand",
)
_WIJK_NAMES = (
    "Binnenstad", "Noord", "Oost", "Zuid", "West", "Haven", "Buitengebied", "Nieuwland", "Oud-West",
    "Parkstad", "Dorpskern", "De Polder",
)


@dataclass(frozen=True)
class Event:
    """A boundary change effective from ``year`` (the first KWB year that shows it)."""

    kind: str  # "split" | "merge" | "recode"
    year: int
    wijk: int  # base wijk index
    buurten: tuple[int, ...] = ()  # base buurt indices (one for split, two neighbours for merge)
    numbers: tuple[int, ...] = ()  # new buurt numbers (split: two, merge: one) or new wijk number (recode)


@dataclass
class World:
    """The base (first-year) geography, its atoms and the boundary changes of later years."""

    scale: str
    seed: int
    gm_number: np.ndarray  # per municipality: 4-digit code number
    gm_name: list[str]
    gm_origin: np.ndarray  # (n_gm, 2) lon, lat of the south-west corner
    gm_cell: np.ndarray  # (n_gm, 2) cell width, height in degrees
    wk_gm: np.ndarray  # per base wijk: municipality index
    wk_number: np.ndarray  # per base wijk: 2-digit wijk number in the first year
    wk_row: np.ndarray  # per base wijk: row inside its municipality (0 = south)
    wk_name: list[str]
    bb_wk: np.ndarray  # per base buurt: base wijk index
    bb_slot: np.ndarray  # per base buurt: column inside its row
    bb_number: np.ndarray  # per base buurt: 2-digit buurt number in the first year
    bb_kind: np.ndarray  # WONEN / BEDRIJVEN / BUITENGEBIED
    bb_name: list[str]
    events: list[Event] = field(default_factory=list)
    #: Indices of the municipalities that merge in MERGER_YEAR (the last ones of the world; empty: none).
    merging: tuple[int, ...] = ()

    @property
    def n_base_gm(self) -> int:
        """The municipalities before the merging ones (their values never depend on the merging ones)."""
        return self.n_gm - len(self.merging)

    def subworld(self, gms: range) -> World:
        """The world of a contiguous range of municipalities, re-indexed (for drawing their values apart)."""
        wk = np.flatnonzero((self.wk_gm >= gms.start) & (self.wk_gm < gms.stop))
        bb = np.flatnonzero(np.isin(self.bb_wk, wk))
        sl = slice(gms.start, gms.stop)
        return World(
            scale=self.scale, seed=self.seed, gm_number=self.gm_number[sl], gm_name=self.gm_name[sl],
            gm_origin=self.gm_origin[sl], gm_cell=self.gm_cell[sl], wk_gm=self.wk_gm[wk] - gms.start,
            wk_number=self.wk_number[wk], wk_row=self.wk_row[wk], wk_name=[self.wk_name[i] for i in wk],
            bb_wk=self.bb_wk[bb] - int(wk[0]) if len(wk) else self.bb_wk[bb], bb_slot=self.bb_slot[bb],
            bb_number=self.bb_number[bb], bb_kind=self.bb_kind[bb], bb_name=[self.bb_name[i] for i in bb],
        )

    @property
    def n_gm(self) -> int:
        return len(self.gm_number)

    @property
    def n_atoms(self) -> int:
        return 2 * len(self.bb_wk)

    @cached_property
    def wk_members(self) -> list[list[int]]:
        """Per base wijk: its base buurten, by slot."""
        members: list[list[int]] = [[] for _ in range(len(self.wk_gm))]
        for b, w in enumerate(self.bb_wk.tolist()):
            members[w].append(b)
        return members

    @cached_property
    def wk_slots(self) -> np.ndarray:
        """Per base wijk: the number of cells in its row."""
        n_slots = np.zeros(len(self.wk_gm), dtype=int)
        np.maximum.at(n_slots, self.bb_wk, self.bb_slot + 1)
        return n_slots

    @cached_property
    def gm_wijken(self) -> list[list[int]]:
        wijken: list[list[int]] = [[] for _ in range(self.n_gm)]
        for w, g in enumerate(self.wk_gm.tolist()):
            wijken[g].append(w)
        return wijken

    @cached_property
    def atom_bb(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.bb_wk)), 2)

    @cached_property
    def atom_wk(self) -> np.ndarray:
        return self.bb_wk[self.atom_bb]

    @cached_property
    def atom_gm(self) -> np.ndarray:
        return self.wk_gm[self.atom_wk]

    @cached_property
    def atom_kind(self) -> np.ndarray:
        return self.bb_kind[self.atom_bb]

    @cached_property
    def atom_rel_pos(self) -> np.ndarray:
        """Per atom, its position inside its municipality block: (x, y) in 0..1 (for spatial gradients)."""
        n_slots = self.wk_slots
        gm_cols = np.zeros(self.n_gm, dtype=int)
        np.maximum.at(gm_cols, self.wk_gm, n_slots)
        gm_rows = np.bincount(self.wk_gm, minlength=self.n_gm)
        half = np.tile([0.25, 0.75], len(self.bb_wk))
        x = (self.bb_slot[self.atom_bb] + half) / gm_cols[self.atom_gm]
        y = (self.wk_row[self.atom_wk] + 0.5) / gm_rows[self.atom_gm]
        return np.column_stack([x, y])

    def gm_outline(self, g: int) -> list[tuple[float, float]]:
        cache = self.__dict__.setdefault("_outline_cache", {})
        if g not in cache:
            cache[g] = _staircase(self, g)
        return cache[g]

    def gm_code(self, i: int) -> str:
        return f"GM{self.gm_number[i]:04d}"

    def geography(self, year: int) -> YearGeography:
        cache = self.__dict__.setdefault("_geo_cache", {})
        if year not in cache:
            cache[year] = _build_year(self, year)
        return cache[year]


@dataclass
class YearGeography:
    """All gemeenten, wijken and buurten of one year, in CBS order, with the atom -> area mapping."""

    year: int
    gm_code: list[str]
    gm_name: list[str]
    wk_code: list[str]
    wk_name: list[str]
    wk_gm: np.ndarray
    wk_change: list[str]
    wk_rect: np.ndarray  # (n_wk, 4) lon0, lat0, lon1, lat1
    bu_code: list[str]
    bu_name: list[str]
    bu_wk: np.ndarray
    bu_change: list[str]
    bu_rect: np.ndarray  # (n_bu, 4)
    atom_bu: np.ndarray  # per atom: index into bu_*
    gm_outline: list[list[tuple[float, float]]]  # per gemeente: exterior ring (lon, lat), closed

    @property
    def bu_gm(self) -> np.ndarray:
        return self.wk_gm[self.bu_wk]

    @property
    def atom_wk(self) -> np.ndarray:
        return self.bu_wk[self.atom_bu]

    @property
    def atom_gm(self) -> np.ndarray:
        return self.wk_gm[self.atom_wk]

    def rows(self) -> RegionRows:
        """The table rows in CBS order: the national row, then each gemeente with per wijk the wijk and its buurten."""
        cache = self.__dict__.setdefault("_rows", None)
        if cache is None:
            cache = self.__dict__["_rows"] = _region_rows(self)
        return cache


@dataclass
class RegionRows:
    """Row order of a year's table and, per atom, the row of its gemeente, wijk and buurt."""

    level: np.ndarray  # 0 gemeente, 1 wijk, 2 buurt, 3 land (the national row)
    code: list[str]
    name: list[str]
    gm_name: list[str]  # the row's gemeente name
    change: list[str]
    atom_rows: tuple[np.ndarray, ...]  # per atom: national row, gemeente row, wijk row, buurt row
    row_gm: np.ndarray  # per row: gemeente index (-1 for the national row)

    @property
    def n(self) -> int:
        return len(self.code)

    @property
    def lower(self) -> np.ndarray:
        """Per row: a wijk or buurt (rounded to 5 and suppressed when small; gemeenten and the land are not)."""
        return (self.level == LEVEL_WIJK) | (self.level == LEVEL_BUURT)


LEVEL_GEMEENTE, LEVEL_WIJK, LEVEL_BUURT, LEVEL_LAND = 0, 1, 2, 3


def build_world(scale: str = "demo", seed: int = 20240101) -> World:
    """The synthetic country of a scale: ``demo`` (3 municipalities) or ``national`` (about 345)."""
    if scale not in SCALES:
        raise ValueError(f"unknown synthetic scale {scale!r}; use one of {', '.join(SCALES)}")
    rng = np.random.default_rng([seed, 1])
    specs: list[tuple[int, str, tuple[int, ...]]] = list(_DEMO_MUNICIPALITIES)
    kinds_fixed = dict(_DEMO_KINDS)
    if scale == "national":
        specs += _national_specs(rng, n=342)
    n_base = len(specs)
    specs += list(_MERGING_MUNICIPALITIES)
    n_gm = len(specs)

    # Lay the municipality blocks out on a grid over the Netherlands (demo: three blocks side by side).
    if scale == "demo":
        cols, block = 3, (0.11, 0.08)
        west, south = 5.02, 51.93
    else:
        cols, block = 19, (0.175, 0.125)
        west, south = 3.75, 51.0
    gm_number = np.array([s[0] for s in specs])
    gm_name = [s[1] for s in specs]
    origin = np.zeros((n_gm, 2))
    cell = np.zeros((n_gm, 2))
    wk_gm, wk_number, wk_row, wk_name = [], [], [], []
    bb_wk, bb_slot, bb_number, bb_kind, bb_name = [], [], [], [], []
    for g, (_, _, per_wijk) in enumerate(specs):
        gx, gy = g % cols, g // cols
        gap = 0.12 if scale == "demo" else 0.06
        origin[g] = (west + gx * block[0] * (1 + gap), south + gy * block[1] * (1 + gap))
        cell[g] = (block[0] / max(per_wijk), block[1] / len(per_wijk))
        if g == n_base + 1:
            # The second merging municipality lies directly north of the first, so that together they are one
            # block (the merged gemeente's outline); same cell size by construction (4 columns, 3 rows).
            g0 = n_base
            n_rows0 = len(specs[g0][2])
            origin[g] = (origin[g0][0], origin[g0][1] + n_rows0 * cell[g0][1])
        for w, n_bu in enumerate(per_wijk):
            wi = len(wk_gm)
            wk_gm.append(g)
            wk_number.append(w)
            wk_row.append(w)
            wk_name.append(f"Wijk {w:02d} {_WIJK_NAMES[(w + g) % len(_WIJK_NAMES)]}")
            for j in range(n_bu):
                bb_wk.append(wi)
                bb_slot.append(j)
                bb_number.append(j + 1)
                kind = kinds_fixed.get((g, w, j))
                if kind is None:
                    kind = WONEN
                    if scale == "national" and len(_DEMO_MUNICIPALITIES) <= g < n_base:
                        r = rng.random()
                        kind = BEDRIJVEN if r < 0.05 else BUITENGEBIED if r < 0.11 else WONEN
                bb_kind.append(kind)
                if kind == BEDRIJVEN:
                    bb_name.append(f"Bedrijventerrein {_BUURT_NAMES[(j + 3 * w) % len(_BUURT_NAMES)]}")
                elif kind == BUITENGEBIED:
                    bb_name.append(f"Verspreide huizen {_WIJK_NAMES[(w + g) % len(_WIJK_NAMES)]}")
                else:
                    base = _BUURT_NAMES[(j + 5 * w + 7 * g) % len(_BUURT_NAMES)]
                    bb_name.append(base if j < len(_BUURT_NAMES) else f"{base} {j}")
    world = World(
        scale=scale,
        seed=seed,
        gm_number=gm_number,
        gm_name=gm_name,
        gm_origin=origin,
        gm_cell=cell,
        wk_gm=np.array(wk_gm),
        wk_number=np.array(wk_number),
        wk_row=np.array(wk_row),
        wk_name=wk_name,
        bb_wk=np.array(bb_wk),
        bb_slot=np.array(bb_slot),
        bb_number=np.array(bb_number),
        bb_kind=np.array(bb_kind),
        bb_name=bb_name,
        merging=tuple(range(n_base, n_gm)),
    )
    world.events = _demo_events(world) + (_random_events(world, rng) if scale == "national" else [])
    return world


def _national_specs(rng: np.random.Generator, n: int) -> list[tuple[int, str, tuple[int, ...]]]:
    """``n`` synthetic municipalities GM9000.. with a skewed size distribution (~3,300 wijken, ~14,000 buurten
    together with the demo three)."""
    names = [h + t for h in _NAME_HEADS for t in _NAME_TAILS]
    order = rng.permutation(len(names))[:n]
    n_wijken = np.clip(np.round(rng.lognormal(np.log(7.3), 0.62, size=n)), 1, 60).astype(int)
    specs = []
    for i in range(n):
        # Larger municipalities have more buurten per wijk, too.
        lam = 2.6 + 0.05 * n_wijken[i]
        per_wijk = tuple(int(x) for x in np.clip(rng.poisson(lam, size=n_wijken[i]) + 1, 1, 30))
        specs.append((9000 + i, f"{names[order[i]]} (synthetisch)", per_wijk))
    return specs


def _demo_events(world: World) -> list[Event]:
    """The fixed boundary changes in the three demo municipalities (also part of the national scale)."""

    def bb(g: int, w: int, slot: int) -> int:
        wi = int(np.flatnonzero((world.wk_gm == g) & (world.wk_row == w))[0])
        return int(np.flatnonzero((world.bb_wk == wi) & (world.bb_slot == slot))[0])

    def wk(g: int, w: int) -> int:
        return int(np.flatnonzero((world.wk_gm == g) & (world.wk_row == w))[0])

    return [
        # Zuiderhaven: a large buurt split in two (2016), and wijk 03 renumbered to 13 (2020).
        Event("split", 2016, wk(0, 1), (bb(0, 1, 2),), (21, 22)),
        Event("recode", 2020, wk(0, 3), (), (13,)),
        # Noordveen: two neighbouring buurten merged (2018).
        Event("merge", 2018, wk(1, 2), (bb(1, 2, 1), bb(1, 2, 2)), (31,)),
        # Kanaalzijl: a split (2022, so the health table's geography has it) and a merge (2015).
        Event("split", 2022, wk(2, 1), (bb(2, 1, 4),), (41, 42)),
        Event("merge", 2015, wk(2, 0), (bb(2, 0, 0), bb(2, 0, 1)), (51,)),
    ]


def _random_events(world: World, rng: np.random.Generator) -> list[Event]:
    """Boundary changes in about one in six of the other municipalities."""
    events: list[Event] = []
    n_demo = len(_DEMO_MUNICIPALITIES)
    for g in range(n_demo, world.n_base_gm):
        if rng.random() > 0.17:
            continue
        wijken = np.flatnonzero(world.wk_gm == g)
        w = int(rng.choice(wijken))
        members = np.flatnonzero(world.bb_wk == w)
        year = int(rng.integers(2014, 2025))
        kind = rng.choice(["split", "merge", "recode"], p=[0.45, 0.35, 0.2])
        if kind == "merge" and len(members) >= 2:
            k = int(rng.integers(0, len(members) - 1))
            events.append(Event("merge", year, w, (int(members[k]), int(members[k + 1])), (90,)))
        elif kind == "recode":
            used = set(world.wk_number[wijken].tolist())
            new = next(n for n in range(99, 0, -1) if n not in used)
            events.append(Event("recode", year, w, (), (new,)))
        else:
            events.append(Event("split", year, w, (int(rng.choice(members)),), (91, 92)))
    return events


def _build_year(world: World, year: int) -> YearGeography:
    # State per base wijk: its current number and change code; per buurt unit: atoms, number, name, change.
    wk_number = world.wk_number.copy()
    wk_change = [UNCHANGED] * len(world.wk_gm)
    bb_number = world.bb_number.tolist()
    units: dict[int, list[dict]] = {
        w: [
            {"atoms": (2 * b, 2 * b + 1), "number": bb_number[b], "name": world.bb_name[b], "change": UNCHANGED,
             "bb": (b,)}
            for b in members
        ]
        for w, members in enumerate(world.wk_members)
    }
    for ev in sorted(world.events, key=lambda e: e.year):
        if ev.year > year:
            continue
        now = ev.year == year
        lst = units[ev.wijk]
        if ev.kind == "recode":
            wk_number[ev.wijk] = ev.numbers[0]
            if now:
                wk_change[ev.wijk] = RECODED
                for u in lst:
                    u["change"] = RECODED
        elif ev.kind == "split":
            (b,) = ev.buurten
            i = next(k for k, u in enumerate(lst) if u["bb"] == (b,))
            old = lst.pop(i)
            change = BOUNDARY_CHANGED if now else UNCHANGED
            halves = [
                {"atoms": (2 * b,), "number": ev.numbers[0], "name": f"{old['name']}-West", "change": change, "bb": ()},
                {"atoms": (2 * b + 1,), "number": ev.numbers[1], "name": f"{old['name']}-Oost", "change": change,
                 "bb": ()},
            ]
            lst[i:i] = halves
        elif ev.kind == "merge":
            b1, b2 = ev.buurten
            i1 = next(k for k, u in enumerate(lst) if u["bb"] == (b1,))
            i2 = next(k for k, u in enumerate(lst) if u["bb"] == (b2,))
            u1, u2 = lst[i1], lst[i2]
            merged = {
                "atoms": u1["atoms"] + u2["atoms"],
                "number": ev.numbers[0],
                "name": f"{u1['name']} en {u2['name']}",
                "change": BOUNDARY_CHANGED if now else UNCHANGED,
                "bb": (),
            }
            for k in sorted((i1, i2), reverse=True):
                lst.pop(k)
            lst.insert(min(i1, i2), merged)

    # The output gemeenten of the year: one per base municipality, except that from MERGER_YEAR the merging
    # ones are one gemeente (MERGED_NUMBER) whose wijken are numbered on: the first member's, then the next's.
    merged = bool(world.merging) and year >= MERGER_YEAR
    members: dict[int, list[int]] = {g: [g] for g in range(world.n_gm)}
    gm_numbers = world.gm_number.tolist()
    out_number = dict(enumerate(gm_numbers))
    out_name = dict(enumerate(world.gm_name))
    if merged:
        first = world.merging[0]
        offset = 0
        for g in world.merging:
            for w in world.gm_wijken[g]:
                wk_number[w] += offset
                if year == MERGER_YEAR:
                    wk_change[w] = RECODED
                    for u in units[w]:
                        u["change"] = RECODED
            offset += len(world.gm_wijken[g])
            if g != first:
                del members[g]
        members[first] = list(world.merging)
        out_number[first] = MERGED_NUMBER
        out_name[first] = MERGED_NAME
    # CBS orders by code: gemeenten by code, wijken by code within their gemeente, buurten likewise.
    gm_order = sorted(members, key=lambda g: out_number[g])
    wk_codes, wk_names, wk_gms, wk_changes, wk_rects = [], [], [], [], []
    bu_codes, bu_names, bu_wks, bu_changes, bu_rects = [], [], [], [], []
    atom_bu = np.empty(world.n_atoms, dtype=np.int64)
    new_gm_index = {g: i for i, g in enumerate(gm_order)}
    slot = world.bb_slot.tolist()
    wk_slots = world.wk_slots.tolist()
    wk_rows = world.wk_row.tolist()
    for g in gm_order:
        number = out_number[g]
        wijken = [w for m in members[g] for w in world.gm_wijken[m]]
        for w in sorted(wijken, key=lambda w: wk_number[w]):
            base_g = int(world.wk_gm[w])
            lon0, lat0 = world.gm_origin[base_g].tolist()
            cw, ch = world.gm_cell[base_g].tolist()
            wcode = f"WK{number:04d}{wk_number[w]:02d}"
            wi = len(wk_codes)
            row = wk_rows[w]
            n_slots = wk_slots[w]
            wk_codes.append(wcode)
            wk_names.append(world.wk_name[w])
            wk_gms.append(new_gm_index[g])
            wk_changes.append(wk_change[w])
            wk_rects.append((lon0, lat0 + row * ch, lon0 + n_slots * cw, lat0 + (row + 1) * ch))
            for u in sorted(units[w], key=lambda u: u["number"]):
                bi = len(bu_codes)
                bu_codes.append(f"BU{number:04d}{wk_number[w]:02d}{u['number']:02d}")
                bu_names.append(u["name"])
                bu_wks.append(wi)
                bu_changes.append(u["change"])
                for a in u["atoms"]:
                    atom_bu[a] = bi
                # Atom a covers columns [slot + (a % 2) / 2, slot + (a % 2) / 2 + 1/2) of its row.
                x0 = min(slot[a // 2] + 0.5 * (a % 2) for a in u["atoms"])
                x1 = max(slot[a // 2] + 0.5 * (a % 2) + 0.5 for a in u["atoms"])
                bu_rects.append((lon0 + x0 * cw, lat0 + row * ch, lon0 + x1 * cw, lat0 + (row + 1) * ch))
    outlines = [world.gm_outline(g) if len(members[g]) == 1 else _staircase(world, *members[g]) for g in gm_order]
    return YearGeography(
        year=year,
        gm_code=[f"GM{out_number[g]:04d}" for g in gm_order],
        gm_name=[out_name[g] for g in gm_order],
        wk_code=wk_codes,
        wk_name=wk_names,
        wk_gm=np.array(wk_gms, dtype=np.int64),
        wk_change=wk_changes,
        wk_rect=np.array(wk_rects),
        bu_code=bu_codes,
        bu_name=bu_names,
        bu_wk=np.array(bu_wks, dtype=np.int64),
        bu_change=bu_changes,
        bu_rect=np.array(bu_rects),
        atom_bu=atom_bu,
        gm_outline=outlines,
    )


def _staircase(world: World, g: int, *stacked: int) -> list[tuple[float, float]]:
    """The outline of a gemeente: its wijk rows stacked from the south, left-aligned (counter-clockwise).

    ``stacked``: municipalities lying directly north of ``g`` with its cell size (the merged gemeente).
    """
    lon0, lat0 = world.gm_origin[g].tolist()
    cw, ch = world.gm_cell[g].tolist()
    parts = []
    for m in (g, *stacked):
        wijken = world.gm_wijken[m]
        part = np.zeros(len(wijken), dtype=int)
        for w in wijken:
            part[world.wk_row[w]] = world.wk_slots[w]
        parts.append(part)
    lengths = np.concatenate(parts)
    pts = [(0, 0), (int(lengths[0]), 0)]
    for r in range(len(lengths)):
        pts.append((int(lengths[r]), r + 1))
        if r + 1 < len(lengths):
            pts.append((int(lengths[r + 1]), r + 1))
    pts += [(0, len(lengths)), (0, 0)]
    ring = [pts[0]]
    for p in pts[1:]:
        if p != ring[-1]:
            ring.append(p)
    return [(lon0 + x * cw, lat0 + y * ch) for x, y in ring]


def _region_rows(geo: YearGeography) -> RegionRows:
    level, code, name, gm_name, change, row_gm = [], [], [], [], [], []
    gm_row = np.empty(len(geo.gm_code), dtype=np.int64)
    wk_row = np.empty(len(geo.wk_code), dtype=np.int64)
    bu_row = np.empty(len(geo.bu_code), dtype=np.int64)
    wk_by_gm: dict[int, list[int]] = {}
    for w, g in enumerate(geo.wk_gm.tolist()):
        wk_by_gm.setdefault(g, []).append(w)
    bu_by_wk: dict[int, list[int]] = {}
    for b, w in enumerate(geo.bu_wk.tolist()):
        bu_by_wk.setdefault(w, []).append(b)
    # The national row first, as in CBS's tables: the sum of all gemeenten, unchanged like a gemeente.
    level.append(LEVEL_LAND)
    code.append(NATIONAL_CODE)
    name.append(NATIONAL_NAME)
    gm_name.append(NATIONAL_NAME)
    change.append(UNCHANGED)
    row_gm.append(-1)
    for g, gcode in enumerate(geo.gm_code):
        gm_row[g] = len(code)
        level.append(LEVEL_GEMEENTE)
        code.append(gcode)
        name.append(geo.gm_name[g])
        gm_name.append(geo.gm_name[g])
        change.append(UNCHANGED)
        row_gm.append(g)
        for w in wk_by_gm.get(g, []):
            wk_row[w] = len(code)
            level.append(LEVEL_WIJK)
            code.append(geo.wk_code[w])
            name.append(geo.wk_name[w])
            gm_name.append(geo.gm_name[g])
            change.append(geo.wk_change[w])
            row_gm.append(g)
            for b in bu_by_wk.get(w, []):
                bu_row[b] = len(code)
                level.append(LEVEL_BUURT)
                code.append(geo.bu_code[b])
                name.append(geo.bu_name[b])
                gm_name.append(geo.gm_name[g])
                change.append(geo.bu_change[b])
                row_gm.append(g)
    atom_b = geo.atom_bu
    atom_w = geo.bu_wk[atom_b]
    atom_g = geo.wk_gm[atom_w]
    return RegionRows(
        level=np.array(level, dtype=np.int8),
        code=code,
        name=name,
        gm_name=gm_name,
        change=change,
        atom_rows=(np.zeros(len(atom_b), dtype=np.int64), gm_row[atom_g], wk_row[atom_w], bu_row[atom_b]),
        row_gm=np.array(row_gm, dtype=np.int64),
    )
