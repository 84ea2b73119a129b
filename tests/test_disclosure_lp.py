"""The attack on disclosure control: linear programming over everything published.

For every suppressed cell, an attacker minimises and maximises its value subject to what is published: published
cells fixed, every published relation total = sum of its parts, every cell >= 0 (and for rates the same for the
numerators and for the complements, cases minus numerator), plus whatever the published rules tell about
suppressed cells. With one marker for all of our own suppression the rules tell nothing about a particular
suppressed cell (whether it is small or protects another is not published), so no further constraints apply. The
attack must find no suppressed cell whose [min, max] is narrower than the threshold: on the cases of the issue, on
random hierarchies, on rates, and on what ``publishable`` makes of the demo's municipal files.

scipy is only needed here (not by the pipeline, which computes the same intervals exactly by maximum flow).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import polars as pl
import pytest

from bwm import disclosure
from bwm.disclosure import DisclosureRule, intervals, suppress
from bwm.municipal.folder import scan_folder
from bwm.municipal.geography import Geography
from bwm.municipal.publish import publishable
from bwm.settings import PROJECT_ROOT
from bwm.synth.geography import build_world

linprog = pytest.importorskip("scipy.optimize").linprog

T = 10
DEMO_DIR = PROJECT_ROOT / "data" / "municipal" / "demo"
RULE = DisclosureRule(min_count=T, min_cases=T)


def lp_bounds(parent, values, hidden, known=None) -> dict[str, tuple[float, float]]:
    """[min, max] of every suppressed cell by linear programming. ``values`` are the true values (only the
    published ones enter the programme); ``known`` adds bounds the rules would leak: {cell: (lo, hi)}."""
    unknown = sorted(c for c in hidden if c in parent)
    if not unknown:
        return {}
    col = {c: i for i, c in enumerate(unknown)}
    children = defaultdict(list)
    for c, p in parent.items():
        if p is not None and p in parent:
            children[p].append(c)
    a_eq, b_eq = [], []
    for p, kids in sorted(children.items()):
        row, rhs = np.zeros(len(unknown)), 0.0
        for c, sign in [(p, 1.0)] + [(k, -1.0) for k in kids]:
            if c in col:
                row[col[c]] += sign
            else:
                rhs -= sign * values[c]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
        else:
            assert abs(rhs) < 1e-6, f"published relation {p} does not add up"
    bounds = [(0, None)] * len(unknown)
    for c, (lo, hi) in (known or {}).items():
        bounds[col[c]] = (lo, hi)
    a = np.array(a_eq) if a_eq else None
    b = np.array(b_eq) if b_eq else None
    out = {}
    for c in unknown:
        e = np.zeros(len(unknown))
        e[col[c]] = 1.0
        low = linprog(e, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        high = linprog(-e, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        assert low.status == 0, f"infeasible: {low.message}"
        out[c] = (low.fun, math.inf if high.status == 3 else -high.fun)
    return out


def same(a, b) -> bool:
    """Two {cell: (lo, hi)} agree (to LP precision; math.inf for unbounded)."""
    return a.keys() == b.keys() and all(
        x == y or abs(x - y) <= 1e-6 * max(1.0, abs(y)) for c in a for x, y in zip(a[c], b[c]))


def narrowest(bounds) -> float:
    return min((hi - lo for lo, hi in bounds.values()), default=math.inf)


def _suppress_counts(parent, values, threshold=T):
    rule = DisclosureRule(min_count=threshold, min_cases=threshold)
    primary = [c for c in parent if rule.is_primary("count", values[c])]
    return suppress(parent, values, primary, threshold)


# --- the cases of the issue -----------------------------------------------------------------------------------

ISSUE_1 = ({"GM9901": None, "WK990100": "GM9901", "A": "WK990100", "B": "WK990100", "C": "WK990100"},
           {"GM9901": 23, "WK990100": 23, "A": 3, "B": 10, "C": 10})
ISSUE_2 = ({"GM9901": None, "WK990100": "GM9901", "A": "WK990100", "B": "WK990100", "C": "WK990100",
            "D": "WK990100"},
           {"GM9901": 105, "WK990100": 105, "A": 0, "B": 10, "C": 45, "D": 50})


def test_the_attack_recovers_what_the_old_markers_gave_away():
    """The check itself. The old output hid A ('x', small: at most 9) and B ('x*', not small itself: at least 10,
    and by the published rule the smallest other part: at most C = 10). The programme then pins both."""
    parent, values = ISSUE_1
    bounds = lp_bounds(parent, values, {"A", "B"}, known={"A": (0, T - 1), "B": (T, values["C"])})
    assert bounds["A"] == pytest.approx((3, 3)) and bounds["B"] == pytest.approx((10, 10))
    parent, values = ISSUE_2
    bounds = lp_bounds(parent, values, {"A", "B"}, known={"A": (0, T - 1), "B": (T, values["C"])})
    assert bounds["A"] == pytest.approx((0, 0))
    # And with no knowledge at all, two small cells that protect each other bound each other: 2 + 3.
    parent = {"WK": None, "A": "WK", "B": "WK", "C": "WK"}
    values = {"WK": 45, "A": 2, "B": 3, "C": 40}
    assert narrowest(lp_bounds(parent, values, {"A", "B"})) == pytest.approx(5)


@pytest.mark.parametrize("case", [ISSUE_1, ISSUE_2], ids=["3-10-10", "0-10-45-50"])
def test_the_issue_cases_withstand_the_attack(case):
    parent, values = case
    hidden = _suppress_counts(parent, values)
    assert set(hidden.values()) == {disclosure.SUPPRESSED_SMALL_COUNT}  # one reason, one marker
    bounds = lp_bounds(parent, values, hidden)
    assert narrowest(bounds) >= T - 1e-6, bounds
    assert same(bounds, intervals(parent, values, hidden))


# --- random hierarchies ---------------------------------------------------------------------------------------


def random_counts(seed):
    """A gemeente with 1-6 wijken of 1-7 buurten; counts often small (0-9), otherwise 10-150; sometimes the
    figures are delivered per wijk only (a two-level hierarchy) or a wijk has a single buurt."""
    rng = np.random.default_rng(seed)
    parent, values = {"GM": None}, {}
    two_levels = rng.random() < 0.15
    for w in range(int(rng.integers(1, 7))):
        wk = f"W{w}"
        parent[wk] = "GM"
        if two_levels:
            values[wk] = int(rng.integers(0, 10) if rng.random() < 0.35 else rng.integers(10, 150))
            continue
        values[wk] = 0
        for b in range(int(rng.integers(1, 8))):
            bu = f"b{w}_{b}"
            parent[bu] = wk
            values[bu] = int(rng.integers(0, 10) if rng.random() < 0.35 else rng.integers(10, 150))
            values[wk] += values[bu]
    values["GM"] = sum(v for c, v in values.items() if parent.get(c) == "GM")
    return parent, values


@pytest.mark.parametrize("chunk", range(10))
def test_random_count_hierarchies_withstand_the_attack(chunk):
    """250 seeds in 10 chunks; thresholds 10 mostly, also 5 and 20."""
    for seed in range(chunk * 25, chunk * 25 + 25):
        threshold = (10, 10, 10, 5, 20)[seed % 5]
        parent, values = random_counts(seed)
        hidden = _suppress_counts(parent, values, threshold)
        bounds = lp_bounds(parent, values, hidden)
        assert narrowest(bounds) >= threshold - 1e-6, (seed, bounds)
        for c, (lo, hi) in bounds.items():  # the true value is inside, and the pipeline's own intervals agree
            assert lo - 1e-6 <= values[c] <= hi + 1e-6
        assert same(bounds, intervals(parent, values, hidden)), seed


def random_rates(seed):
    """Per buurt a number of cases (1-120) and people with the characteristic at a share that is often near 0 or
    1; wijk and gemeente as summed numerators over summed cases."""
    rng = np.random.default_rng(10_000 + seed)
    parent, num, den = {"GM": None}, defaultdict(float), defaultdict(float)
    for w in range(int(rng.integers(1, 6))):
        wk = f"W{w}"
        parent[wk] = "GM"
        for b in range(int(rng.integers(1, 7))):
            bu = f"b{w}_{b}"
            parent[bu] = wk
            den[bu] = float(rng.integers(1, 121))
            num[bu] = float(rng.binomial(int(den[bu]), rng.choice([0.0, 0.03, 0.1, 0.3, 0.5, 0.9, 0.97, 1.0])))
            for up in (wk, "GM"):
                num[up] += num[bu]
                den[up] += den[bu]
    return parent, dict(num), dict(den)


@pytest.mark.parametrize("chunk", range(6))
def test_random_rate_hierarchies_withstand_the_attack_on_numerators_and_complements(chunk):
    """150 seeds in 6 chunks."""
    for seed in range(chunk * 25, chunk * 25 + 25):
        parent, num, den = random_rates(seed)
        comp = {c: den[c] - num[c] for c in parent}
        primary = [c for c in parent if RULE.is_primary("rate", None, den[c], numerator=num[c])]
        hidden = suppress(parent, {c: (num[c], comp[c]) for c in parent}, primary, T, cost=den)
        for c in parent:
            if c not in hidden:  # a published rate has enough people with and without the characteristic
                assert num[c] >= T and comp[c] >= T
        for quantity in (num, comp):
            bounds = lp_bounds(parent, quantity, hidden)
            assert narrowest(bounds) >= T - 1e-6, (seed, bounds)


# --- through publishable: rates of the issue, and the demo's files ---------------------------------------------


def _geo():
    rows = [(2024, "GM9901", "gemeente", "GM9901", None, "Test")]
    for w, n in ((0, 3), (1, 2)):
        rows.append((2024, f"WK99010{w}", "wijk", "GM9901", None, f"Wijk {w}"))
        rows += [(2024, f"BU99010{w}0{b}", "buurt", "GM9901", f"WK99010{w}", f"Buurt {w}{b}") for b in range(1, n + 1)]
    return Geography.from_rows(rows)


def _rate_values(rows):
    return pl.DataFrame([
        {"year": 2024, "area_code": code, "area_level": "buurt", "gemeente_code": "GM9901", "indicator_id": "share",
         "count_or_rate": "rate", "value": value, "n_cases": n, "geography_year": 2024, "file": "f.csv",
         "sheet": None, "row_number": i + 2}
        for i, (code, value, n) in enumerate(rows)])


SHARE = pl.DataFrame([{"indicator_id": "share", "count_or_rate": "rate", "unit": "pct", "level": "buurt"}])


@pytest.mark.parametrize(("value", "cases", "published"), [(10.0, 10, False), (0.0, 25, False), (50.0, 40, True)],
                         ids=["10pct-of-10", "0pct-of-25", "50pct-of-40"])
def test_a_rate_is_published_only_with_enough_people_with_and_without(value, cases, published):
    out = publishable(_rate_values([("BU99010001", value, cases), ("BU99010002", 50.0, 100),
                                    ("BU99010003", 40.0, 200), ("BU99010101", 30.0, 50), ("BU99010102", 60.0, 50)]),
                      SHARE, _geo(), RULE)
    row = out.filter(pl.col("area_code") == "BU99010001").row(0, named=True)
    if published:
        assert (row["value"], row["numerator"], row["denominator"], row["missing_reason"]) == (50.0, 20.0, 40.0, None)
    else:
        assert (row["value"], row["numerator"], row["denominator"]) == (None, None, None)
        assert row["missing_reason"] == disclosure.SUPPRESSED_SMALL_COUNT
    shown = out.filter(pl.col("value").is_not_null())
    assert shown.filter((pl.col("numerator") < T) | (pl.col("denominator") - pl.col("numerator") < T)).is_empty()
    assert set(out["missing_reason"].drop_nulls()) <= {disclosure.SUPPRESSED_SMALL_COUNT}
    assert attack_published(out, _geo()) >= T - 1e-6


def attack_published(frame: pl.DataFrame, geo: Geography) -> float:
    """The narrowest interval the attack finds on ``publishable`` output, from the published rows alone: per
    (indicator, year) the relations over the delivered areas, published counts (or numerators and complements)
    fixed, suppressed cells free. Only one reason may mark our own suppression."""
    assert set(frame["missing_reason"].drop_nulls()) <= {disclosure.SUPPRESSED_SMALL_COUNT, "not_published"}
    worst = math.inf
    for (_ident, _year), rows in frame.group_by("indicator_id", "year"):
        rows = rows.filter(pl.col("missing_reason").is_null() | (pl.col("missing_reason") != "not_published"))
        if rows.is_empty():
            continue
        geo_year = rows["geography_year"][0]
        areas = geo.areas[geo_year]
        codes = set(rows["area_code"])
        parent = {}
        for code in codes:
            a = areas[code]
            up = a.wijk_code if a.level == "buurt" else a.gemeente_code if a.level == "wijk" else None
            parent[code] = up if up in codes else None
        hidden = set(rows.filter(pl.col("missing_reason").is_not_null())["area_code"])
        if not hidden:
            continue
        if rows["count_or_rate"][0] == "count":
            quantities = [{r["area_code"]: r["value"] for r in rows.iter_rows(named=True)}]
        else:
            quantities = [{r["area_code"]: r["numerator"] for r in rows.iter_rows(named=True)},
                          {r["area_code"]: (r["denominator"] - r["numerator"]) if r["numerator"] is not None else None
                           for r in rows.iter_rows(named=True)}]
        for q in quantities:
            worst = min(worst, narrowest(lp_bounds(parent, q, hidden)))
    return worst


def test_the_demo_files_withstand_the_attack():
    """The demo's three municipalities, every indicator and year, as ``publishable`` makes them."""
    rows, world = [], build_world("demo")
    for year in range(2021, 2025):
        g = world.geography(year)
        rows += [(year, code, "gemeente", code, None, g.gm_name[i]) for i, code in enumerate(g.gm_code)]
        rows += [(year, code, "wijk", g.gm_code[int(g.wk_gm[i])], None, g.wk_name[i])
                 for i, code in enumerate(g.wk_code)]
        for i, code in enumerate(g.bu_code):
            w = int(g.bu_wk[i])
            rows.append((year, code, "buurt", g.gm_code[int(g.wk_gm[w])], g.wk_code[w], g.bu_name[i]))
    geo = Geography.from_rows(rows)
    result = scan_folder(DEMO_DIR, geo, frozenset())
    out = publishable(result.values_frame(), result.indicators_frame(), geo, RULE)
    n_hidden = out.filter(pl.col("missing_reason") == disclosure.SUPPRESSED_SMALL_COUNT).height
    assert n_hidden > 20
    assert attack_published(out, geo) >= T - 1e-6
