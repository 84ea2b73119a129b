"""The compute core in plain pandas: the mirror to ``indicators.values`` and ``divide.measures``.

A second, independent implementation of what the warehouse computes (pipelines/defs/staging, indicators,
divide), written as an analyst would with pandas and numpy from the CBS JSON files and the reference data.
It reads no ``bwm`` code; where a definition had to be matched exactly it is named in a comment.
Municipal data files are not read (their figures pass the monitor's own disclosure control, which is not
the mirror's maths); so ``values`` has the KWB and health indicators, ``measures`` their divide rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.baseline import read

NAN = float("nan")
VALUE_COLUMNS = ["year", "area_code", "area_level", "gemeente_code", "indicator_id", "theme", "unit", "value",
                 "numerator", "denominator", "ci_lower", "ci_upper", "source_table", "period", "missing_reason",
                 "series_id", "series_break", "break_reason"]
GROUP = ["gemeente_code", "year", "level", "indicator_id"]
#: Which columns belong to which divide measure, and at which levels it exists (registry of the monitor).
MEASURE_COLUMNS = {
    "gap": ["worst20_mean", "best20_mean", "gap"], "ratio": ["ratio"], "weighted_std": ["weighted_std"],
    "cv": ["cv"], "theil_total": ["theil_total", "theil_n_nonpositive"], "theil_between": ["theil_between"],
    "theil_within": ["theil_within"], "dissimilarity": ["dissimilarity"],
    "concentration_share_pct": ["concentration_share_pct"],
}
BUURT_ONLY = {"theil_between", "theil_within", "dissimilarity"}


# --- KWB --------------------------------------------------------------------------------------------------


def load_kwb(mirror: Path, years: list[int] | None, wanted: set[str]):
    """areas (one row per year and area, with weights) and kwb (long: year, area_code, variable, value,
    status, table_id) for the canonical variables in ``wanted``."""
    tables = read.tables()
    kwb = tables[tables["kind"] == "kwb"]
    keymap = pd.read_csv(read.REFERENCE / "kwb_keymap.csv", dtype=str)
    variables = pd.read_csv(read.REFERENCE / "kwb_variables.csv", dtype=str)
    aliases = pd.read_csv(read.REFERENCE / "kwb_key_aliases.csv", dtype=str)
    areas, longs = [], []
    for table_id, year in zip(kwb["table_id"], kwb["year"].astype(int), strict=True):
        if not (mirror / table_id / "TypedDataSet.json").is_file() or (years and year not in years):
            continue
        regions, values, keys = read.kwb_year(mirror, year, table_id, keymap[keymap["year"] == str(year)],
                                              variables, aliases)
        regions["area_level"] = read.level_of(regions["area_code"])
        keep = regions["area_level"].notna()
        areas.append(regions[keep])
        keys = keys[keys["canonical"].isin(wanted)]
        for _raw_key, canonical, action, scale in keys.itertuples(index=False):
            raw = values[canonical]
            filled = raw.notna().any()  # over every row of the table, the national row included
            status = np.where(raw.notna(), "published", "suppressed" if filled else "not_published_yet")
            value = raw * scale if action == "map" else pd.Series(NAN, index=raw.index)
            if action == "quarantine":
                status = np.full(len(raw), "quarantined")
            longs.append(pd.DataFrame({"year": year, "area_code": regions["area_code"], "variable": canonical,
                                       "value": value, "status": status, "table_id": table_id})[keep])
    areas = pd.concat(areas, ignore_index=True)
    areas["gemeente_code"] = np.where(areas["area_level"] != "land", "GM" + areas["area_code"].str[2:6], None)
    return areas, pd.concat(longs, ignore_index=True)


def area_series(areas: pd.DataFrame) -> pd.DataFrame:
    """Per (year, area): series_id, series_break, break_reason (CBS comparability code 3 or 2, or new)."""
    years = sorted(areas["year"].unique())
    previous_table = dict(zip(years, [None, *years[:-1]], strict=True))
    s = areas[["year", "area_code", "comparability_code"]].sort_values(["area_code", "year"]).copy()
    s["previous_present"] = s.groupby("area_code")["year"].shift()
    s["previous_table"] = s["year"].map(previous_table)
    first = s["previous_table"].isna()
    s["break_reason"] = np.select(
        [first, s["comparability_code"] == 3, s["comparability_code"] == 2,
         s["previous_present"].isna() | (s["previous_present"] != s["previous_table"])],
        [None, "boundary_changed", "recoded", "new_area"], default=None)
    s.loc[first, "break_reason"] = None
    starts = s["year"].where(first | s["break_reason"].notna())
    s["series_start"] = starts.groupby(s["area_code"]).ffill().astype(int)
    s["series_id"] = s["area_code"] + "@" + s["series_start"].astype(str)
    s["series_break"] = s["break_reason"].notna()
    return s[["year", "area_code", "series_id", "series_break", "break_reason"]]


def kwb_values(catalogue: list[dict], areas: pd.DataFrame, kwb: pd.DataFrame) -> pd.DataFrame:
    frames = []
    by_var = {v: g.drop(columns="variable") for v, g in kwb.groupby("variable")}
    empty = kwb.iloc[:0].drop(columns="variable")
    base = areas[["year", "area_code", "area_level", "gemeente_code", "table_id"]]
    for ind in (i for i in catalogue if i["source"] == "kwb"):
        targets = base[base["year"].isin(ind["years"])]
        if ind["method"] == "direct":
            v = targets.merge(by_var.get(ind["variable"], empty), on=["year", "area_code"], how="left",
                              suffixes=("", "_v"), indicator=True)
            present = v["_merge"] == "both"
            reason = v["status"].map({"not_published_yet": "not_published_yet", "quarantined": "unit_quarantined",
                                      "suppressed": "suppressed_by_cbs"})
            v["missing_reason"] = np.where(~present, "not_published", np.where(v["value"].isna(), reason, None))
            v["numerator"] = v["denominator"] = NAN
        else:
            num = by_var.get(ind["numerator"], empty).rename(columns={"value": "numerator", "status": "num_status"})
            den = by_var.get(ind["denominator"], empty).rename(columns={"value": "denominator", "status": "den_status"})
            v = targets.merge(num, on=["year", "area_code"], how="left", suffixes=("", "_v")) \
                .merge(den.drop(columns="table_id"), on=["year", "area_code"], how="left")
            n, d, factor = v["numerator"], v["denominator"], float(ind["factor"])
            minimum = float(ind.get("min_denominator") or 0)
            inconsistent = (factor == 100) & (n > d)
            ok = (d > 0) & (d >= minimum) & ~inconsistent
            v["value"] = np.where(ok, n / d * factor, NAN)
            statuses = v[["num_status", "den_status"]]
            conditions = [v["num_status"].isna() | v["den_status"].isna(),
                          (statuses == "quarantined").any(axis=1), (statuses == "not_published_yet").any(axis=1),
                          n.isna(), d.isna() | (d <= 0),
                          (d < float(ind["min_denominator"])) if ind.get("min_denominator") is not None
                          else pd.Series(False, index=v.index), inconsistent]
            v["missing_reason"] = np.select(
                conditions, ["not_published", "unit_quarantined", "not_published_yet", "suppressed_by_cbs",
                             "no_denominator", "denominator_too_small", "inconsistent_counts"], default=None)
        v["source_table"] = v["table_id_v"].fillna(v["table_id"])
        v["indicator_id"] = ind["id"]
        v["ci_lower"] = v["ci_upper"] = NAN
        frames.append(v[["year", "area_code", "area_level", "gemeente_code", "indicator_id", "value", "numerator",
                         "denominator", "ci_lower", "ci_upper", "source_table", "missing_reason"]])
    return pd.concat(frames, ignore_index=True)


# --- health -----------------------------------------------------------------------------------------------


def load_health(mirror: Path, table_id: str) -> pd.DataFrame:
    """The health table long: year, area_code, age group, variable, value and its 95% bounds, and whether the
    variable was measured that period (a figure for any area)."""
    tables = read.tables()
    keymap = tables.loc[tables["table_id"] == table_id, "keymap"].iloc[0]
    specs = pd.read_csv(read.REFERENCE / keymap, dtype=str)
    specs = specs[~specs["canonical"].isin(["gemeentenaam", "soort_regio", "codering"])]
    props = read.read_json(mirror / table_id / "DataProperties.json")
    keys = read.map_keys([p for p in props if p.get("Type") == "Topic"], specs, None, None,
                         lambda c: "pct")
    keys = keys[keys["action"] == "map"]
    rows = pd.DataFrame(read.read_json(mirror / table_id / "TypedDataSet.json"))
    ids = pd.DataFrame({"year": rows["Perioden"].str.strip().str[:4].astype(int),
                        "area_code": rows["WijkenEnBuurten"].str.strip().str.upper(),
                        "age_group": rows["Leeftijd"].str.strip(), "marges": rows["Marges"].str.strip()})
    long = []
    for raw_key, canonical in zip(keys["raw_key"], keys["canonical"], strict=True):
        long.append(ids.assign(variable=canonical, v=read.numeric(rows[raw_key])))
    long = pd.concat(long, ignore_index=True)
    wide = long.pivot_table(index=["year", "area_code", "age_group", "variable"], columns="marges", values="v",
                            aggfunc="max", dropna=False)
    keys_only = long[["year", "area_code", "age_group", "variable"]].drop_duplicates()
    wide = keys_only.merge(wide.reset_index(), on=["year", "area_code", "age_group", "variable"], how="left")
    for marge in ("MW00000", "MOG0095", "MBG0095"):
        if marge not in wide:
            wide[marge] = NAN
    wide = wide.rename(columns={"MW00000": "value", "MOG0095": "ci_lower", "MBG0095": "ci_upper"})
    wide["measured"] = wide.groupby(["year", "variable"])["value"].transform("count") > 0
    wide["area_level"] = read.level_of(wide["area_code"])
    wide = wide[wide["area_level"].notna()]
    wide["gemeente_code"] = np.where(wide["area_level"] != "land", "GM" + wide["area_code"].str[2:6], None)
    return wide


def health_values(catalogue: list[dict], health: pd.DataFrame, table_id: str) -> pd.DataFrame:
    areas = health[["year", "area_code", "area_level", "gemeente_code", "age_group"]].drop_duplicates()
    frames = []
    for ind in (i for i in catalogue if i["source"] == "health"):
        targets = areas[areas["year"].isin(ind["years"]) & (areas["age_group"] == ind["age_group"])]
        mine = health.loc[health["variable"] == ind["variable"],
                          ["year", "area_code", "age_group", "value", "ci_lower", "ci_upper", "measured"]]
        v = targets.merge(mine, on=["year", "area_code", "age_group"], how="left", indicator=True)
        v["missing_reason"] = np.select(
            [v["_merge"] != "both", v["value"].isna() & ~v["measured"].astype(bool), v["value"].isna()],
            ["not_measured", "not_measured", "suppressed_by_cbs"], default=None)
        v["indicator_id"], v["source_table"] = ind["id"], table_id
        v["numerator"] = v["denominator"] = NAN
        frames.append(v[["year", "area_code", "area_level", "gemeente_code", "indicator_id", "value", "numerator",
                         "denominator", "ci_lower", "ci_upper", "source_table", "missing_reason"]])
    return pd.concat(frames, ignore_index=True)


def health_weights(health: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Residents and households of a health area from the KWB year nearest the period where its code exists
    (the earlier year on a tie)."""
    h = health[["year", "area_code"]].drop_duplicates()
    k = areas[["year", "area_code", "inwoners", "huishoudens"]].rename(columns={"year": "weight_year"})
    c = h.merge(k, on="area_code")
    c["distance"] = (c["weight_year"] - c["year"]).abs()
    c = c.sort_values(["year", "area_code", "distance", "weight_year"]).drop_duplicates(["year", "area_code"])
    return c[["year", "area_code", "inwoners", "huishoudens"]]


# --- mergers ----------------------------------------------------------------------------------------------


def territory(areas: pd.DataFrame) -> pd.DataFrame:
    """Per (year, gemeente of that year): the series it counts towards (itself and, after a complete merger
    into a gemeente that exists in the latest year, that gemeente on today's territory)."""
    h = pd.read_csv(read.REFERENCE / "gemeente_herindelingen.csv", dtype=str).fillna("")
    edges = []
    for _, row in h.iterrows():
        if row["partial_codes"].strip():
            continue  # only changes of whole gemeenten give today's gemeente a series on its territory
        date = dt.date.fromisoformat(row["effective_date"])
        first = date.year if (date.month, date.day) == (1, 1) else date.year + 1
        for old in (c.strip().upper() for c in row["old_codes"].split(";") if c.strip()):
            if old != row["new_code"].strip().upper():
                edges.append((old, row["new_code"].strip().upper(), first))
    gemeenten = areas.loc[areas["area_level"] == "gemeente", ["year", "area_code"]].drop_duplicates()
    latest = int(gemeenten["year"].max())
    current = set(gemeenten.loc[gemeenten["year"] == latest, "area_code"])
    rows = []
    for year, code in gemeenten.itertuples(index=False):
        target, hop, depth = code, year, 0
        while depth < 20:  # follow the chain of later mergers (Molenwaard -> Molenlanden)
            nxt = [(new, first) for old, new, first in edges if old == target and first > hop]
            if not nxt:
                break
            target, hop = nxt[0]
            depth += 1
        rows.append((year, code, target if target in current else code))
    t = pd.DataFrame(rows, columns=["year", "source_code", "today"])
    t["n"] = t.groupby(["year", "today"])["source_code"].transform("size")
    moved = (t["n"] > 1) | (t["source_code"] != t["today"])
    out = pd.concat([
        pd.DataFrame({"year": t["year"], "source_code": t["source_code"], "gemeente_code": t["today"],
                      "territory_year": np.where(moved, latest, np.nan)}),
        pd.DataFrame({"year": t["year"], "source_code": t["source_code"], "gemeente_code": t["source_code"],
                      "territory_year": NAN})[t["source_code"] != t["today"]],
    ], ignore_index=True)
    return out


# --- divide measures --------------------------------------------------------------------------------------


def _shifted_mean(x: pd.Series, w: pd.Series, keys: list[pd.Series]) -> pd.Series:
    """Weighted mean per group, computed on the values minus the group's first value (exact for equal values)."""
    ref = x.groupby(keys).transform("first")
    num = (w * (x - ref)).groupby(keys).sum()
    return ref.groupby(keys).first() + num / w.groupby(keys).sum()


def divide_measures(rows: pd.DataFrame, thresholds: dict[int, float]) -> pd.DataFrame:
    """One row per group of neighbourhood rows: every divide measure, before the catalogue says which apply."""
    keys = GROUP
    all_rows = rows.groupby(keys, dropna=False).size().rename("n_rows")
    use = rows[np.isfinite(rows["value"]) & np.isfinite(rows["inhabitants"]) & (rows["inhabitants"] > 0)]
    use = use.sort_values([*keys, "value"], kind="mergesort")
    x, w = use["value"], use["inhabitants"]
    g = [use[k] for k in keys]
    out = pd.DataFrame({"n_rows": all_rows})
    out["n_areas"] = use.groupby(keys).size()
    out["weight_total"] = w.groupby(g).sum()
    # Population quintiles: each buurt holds the stretch [lower, upper) of its gemeente's line of residents.
    upper = w.groupby(g).cumsum()
    lower = upper - w
    total = w.groupby(g).transform("sum")
    in_bottom = (np.minimum(upper, total * 0.2) - lower).clip(lower=0)
    in_top = (upper - np.maximum(lower, total * 0.8)).clip(lower=0)
    bottom = _shifted_mean(x, in_bottom, g)
    top = _shifted_mean(x, in_top, g)
    mean = _shifted_mean(x, w, g)
    dev = x - mean.reindex(pd.MultiIndex.from_frame(use[keys])).to_numpy()
    std = np.sqrt((w * dev * dev).groupby(g).sum() / w.groupby(g).sum())
    worse_high = out.index.get_level_values("indicator_id").map(rows.groupby("indicator_id")["direction"].first()) \
        == "higher_is_worse"
    b, t = bottom.reindex(out.index), top.reindex(out.index)
    out["worst20_mean"] = np.where(worse_high, t, b)
    out["best20_mean"] = np.where(worse_high, b, t)
    out["gap"] = (t - b).clip(lower=0)
    low, high = np.minimum(b, t), np.maximum(b, t)
    out["ratio"] = np.where(low > 0, high / low, NAN)
    m, s = mean.reindex(out.index), std.reindex(out.index)
    out["weighted_std"] = s
    out["cv"] = np.where(m != 0, s / m, NAN)
    # Theil over buurten with a wijk and a positive value; split over wijken.
    labelled = use[use["wijk_code"].notna()]
    out["theil_n_nonpositive"] = (labelled["value"] <= 0).groupby([labelled[k] for k in keys]).sum()
    th = labelled[labelled["value"] > 0]
    tg = [th[k] for k in keys]
    tx, tw = th["value"], th["inhabitants"]
    t_mean = _shifted_mean(tx, tw, tg)
    share = tw * tx / (tw * tx).groupby(tg).transform("sum")
    index = pd.MultiIndex.from_frame(th[keys])
    out["theil_total"] = (share * np.log(tx / t_mean.reindex(index).to_numpy())).groupby(tg).sum()
    wg = [*tg, th["wijk_code"]]
    wijk_mean = _shifted_mean(tx, tw, wg)
    wijk_share = share.groupby(wg).sum()
    windex = wijk_mean.index
    between = wijk_share * np.log(wijk_mean / t_mean.reindex(windex.droplevel("wijk_code")).to_numpy())
    out["theil_between"] = between.groupby(level=keys).sum()
    wijk_of_row = wijk_mean.reindex(pd.MultiIndex.from_frame(th[[*keys, "wijk_code"]])).to_numpy()
    out["theil_within"] = (share * np.log(tx / wijk_of_row)).groupby(tg).sum()
    # Dissimilarity of low-income against other households, over rows whose two counts are known.
    counted = rows[np.isfinite(rows["low"]) & np.isfinite(rows["other"]) & (rows["low"] >= 0) & (rows["other"] >= 0)]
    cg = [counted[k] for k in keys]
    a_total = counted["low"].groupby(cg).transform("sum")
    b_total = counted["other"].groupby(cg).transform("sum")
    d = 0.5 * (counted["low"] / a_total - counted["other"] / b_total).abs().groupby(cg).sum()
    ok = (counted["low"].groupby(cg).sum() > 0) & (counted["other"].groupby(cg).sum() > 0)
    out["dissimilarity"] = d.where(ok)
    # Share of residents in neighbourhoods at or above the threshold.
    limit = use["year"].map(thresholds).astype(float)
    above = (w * (x >= limit)).groupby(g).sum()
    share_pct = 100 * above / w.groupby(g).sum()
    has_limit = limit.groupby(g).first().notna()
    out["concentration_share_pct"] = share_pct.where(has_limit)
    out["n_areas"] = out["n_areas"].fillna(0).astype(int)
    out["n_dropped"] = out["n_rows"] - out["n_areas"]
    out["weight_total"] = out["weight_total"].fillna(0.0)
    out["theil_n_nonpositive"] = out["theil_n_nonpositive"].fillna(0).astype(int)
    return out.drop(columns="n_rows").reset_index()


def measures(values: pd.DataFrame, catalogue: list[dict], areas: pd.DataFrame, health_w: pd.DataFrame,
             terr: pd.DataFrame, concentration_factor: float) -> pd.DataFrame:
    cat = pd.DataFrame(catalogue).set_index("id")
    v = values[values["area_level"].isin(["buurt", "wijk"]) & values["indicator_id"].isin(cat.index)].copy()
    v = v[v["indicator_id"].map(cat["unit"]) != "count"]
    v["source"] = v["indicator_id"].map(cat["source"])
    v["direction"] = v["indicator_id"].map(cat["direction"])
    kwb_w = areas[["year", "area_code", "inwoners", "huishoudens"]]
    weights = pd.concat([kwb_w.assign(source="kwb"), health_w.assign(source="health")], ignore_index=True)
    v = v.merge(weights, on=["source", "year", "area_code"], how="left")
    v["inhabitants"] = v["inwoners"].round()  # staging casts the counts to whole numbers
    households = v["huishoudens"].round()
    low_income = v["indicator_id"] == "huishoudens_laag_inkomen"
    v["low"] = np.where(low_income, v["value"] / 100 * households, NAN)
    v["other"] = np.where(low_income, (1 - v["value"] / 100) * households, NAN)
    v["wijk_code"] = np.where(v["area_level"] == "buurt", "WK" + v["area_code"].str[2:8], None)
    v["level"] = v["area_level"]
    # A predecessor's neighbourhoods also count for today's gemeente (KWB only: health is on one geography).
    kwb_rows = v[v["source"] == "kwb"].merge(terr, left_on=["year", "gemeente_code"],
                                             right_on=["year", "source_code"], how="left", suffixes=("_own", ""))
    kwb_rows["gemeente_code"] = kwb_rows["gemeente_code"].fillna(kwb_rows["gemeente_code_own"])
    other = v[v["source"] != "kwb"].assign(territory_year=NAN)
    v = pd.concat([kwb_rows.drop(columns=["gemeente_code_own", "source_code"]), other], ignore_index=True)

    share = national_share(values, areas)
    concentration = [i for i in cat.index if "concentration_share_pct" in cat.loc[i, "divide_measures"]]
    thresholds = {y: s * concentration_factor for y, (s, _) in share.items()}
    v["value"] = v["value"].astype(float)
    m = divide_measures(v, thresholds)
    flags = v.groupby(GROUP).agg(territory_year=("territory_year", "max"),
                                 source_table=("source_table", "first"),  # the first that is not null
                                 direction=("direction", "first"))
    m = m.merge(flags.reset_index(), on=GROUP, how="left")
    listed = m["indicator_id"].map(cat["divide_measures"])
    for measure, columns in MEASURE_COLUMNS.items():
        applies = listed.map(lambda ms, measure=measure: measure in ms)
        if measure in BUURT_ONLY:
            applies &= m["level"] == "buurt"
        for c in columns:
            m[c] = m[c].where(applies)
    conc = m["indicator_id"].isin(concentration)
    m["concentration_threshold_pct"] = m["year"].map(thresholds).where(conc)
    m["concentration_basis"] = m["year"].map({y: b for y, (_, b) in share.items()}).where(conc)
    return m.sort_values(GROUP, ignore_index=True)


def national_share(values: pd.DataFrame, areas: pd.DataFrame) -> dict[int, tuple[float, str]]:
    """Per year, the % of households at the social minimum: CBS's national figure, else the household-weighted
    mean over the gemeenten."""
    v = values[(values["indicator_id"] == "huishoudens_sociaal_minimum") & values["value"].notna()]
    v = v.merge(areas[["year", "area_code", "huishoudens"]], on=["year", "area_code"], how="left")
    out = {}
    for year, g in v.groupby("year"):
        land = g.loc[g["area_level"] == "land", "value"]
        gm = g[g["area_level"] == "gemeente"]
        hh = gm["huishoudens"].round()
        weighted = (gm["value"] * hh).sum(min_count=1) / hh.sum(min_count=1)
        national = land.max() if len(land) else None
        if not (national or (pd.notna(weighted) and weighted)):
            continue  # neither figure: no threshold that year
        out[int(year)] = (float(national), "nederland") if national is not None else (float(weighted), "warehouse")
    return out


# --- the whole core ---------------------------------------------------------------------------------------


def compute(mirror_dir: Path | str, *, health_table: str = "50120NED", municipalities: list[str] | None = None,
            years: list[int] | None = None, concentration_factor: float = 2.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The mirror to (values, measures): ``indicators.values`` and ``divide.measures`` of the KWB and health
    indicators, with the warehouse's columns (BWM_HEALTH_TABLE, BWM_MUNICIPALITIES, BWM_YEARS and
    BWM_CONCENTRATION_FACTOR are the keyword arguments)."""
    mirror = Path(mirror_dir)
    catalogue = read.catalogue()
    wanted = {i.get(k) for i in catalogue for k in ("variable", "numerator", "denominator")} - {None}
    areas, kwb = load_kwb(mirror, years, wanted)
    health = load_health(mirror, health_table)
    if municipalities:
        keep = set(municipalities)
        areas = areas[(areas["area_level"] == "land") | areas["gemeente_code"].isin(keep)]
        health = health[(health["area_level"] == "land") | health["gemeente_code"].isin(keep)]
    values = pd.concat([kwb_values(catalogue, areas, kwb), health_values(catalogue, health, health_table)],
                       ignore_index=True)
    cat = pd.DataFrame(catalogue).set_index("id")
    values["theme"] = values["indicator_id"].map(cat["theme"])
    values["unit"] = values["indicator_id"].map(cat["unit"])
    values["period"] = values["year"].astype(str)
    series = area_series(areas)
    values = values.merge(series, on=["year", "area_code"], how="left")
    is_health = values["indicator_id"].map(cat["source"]) == "health"
    values.loc[is_health, "series_id"] = values.loc[is_health, "area_code"] + "@health"
    values.loc[is_health, "series_break"] = False
    values.loc[is_health, "break_reason"] = None
    values["series_break"] = values["series_break"].astype("boolean").fillna(False).astype(bool)
    values = values[VALUE_COLUMNS].sort_values(["year", "area_code", "indicator_id"], ignore_index=True)
    m = measures(values, catalogue, areas, health_weights(health, areas), territory(areas), concentration_factor)
    return values, m
