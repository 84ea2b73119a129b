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
#: Why a staged KWB value is what it is (staging.kwb's value_status).
STATUSES = ["published", "suppressed", "not_published_yet", "quarantined"]


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
            longs.append(pd.DataFrame({
                "year": year, "area_code": regions["area_code"],
                "variable": pd.Categorical([canonical] * len(raw), categories=sorted(wanted)),
                "value": value, "status": pd.Categorical(status, categories=STATUSES), "table_id": table_id})[keep])
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
    by_var = {v: g.drop(columns="variable") for v, g in kwb.groupby("variable", observed=True)}
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


def load_health(mirror: Path, table_id: str, wanted: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The health table: (areas, long). areas: every (year, area, age group) it has; long: the ``wanted``
    variables per area with the value and its 95% bounds, and whether the variable was measured that period
    (a figure for any area)."""
    tables = read.tables()
    keymap = tables.loc[tables["table_id"] == table_id, "keymap"].iloc[0]
    specs = pd.read_csv(read.REFERENCE / keymap, dtype=str)
    specs = specs[~specs["canonical"].isin(["gemeentenaam", "soort_regio", "codering"])]
    props = read.read_json(mirror / table_id / "DataProperties.json")
    keys = read.map_keys([p for p in props if p.get("Type") == "Topic"], specs, None, None,
                         lambda c: "pct")
    keys = keys[(keys["action"] == "map") & keys["canonical"].isin(wanted)]
    data = read.read_json(mirror / table_id / "TypedDataSet.json")
    rows = pd.DataFrame(data, columns=["Perioden", "WijkenEnBuurten", "Leeftijd", "Marges", *keys["raw_key"]])
    del data  # the national table is ~600,000 rows of ~40 fields: keep one copy only
    key = ["year", "area_code", "age_group"]
    ids = pd.DataFrame({"year": rows["Perioden"].str.strip().str[:4].astype(int),
                        "area_code": rows["WijkenEnBuurten"].str.strip().str.upper(),
                        "age_group": rows["Leeftijd"].str.strip()})
    marges = rows["Marges"].str.strip()
    numbers = pd.DataFrame({raw: read.numeric(rows[raw]) for raw in keys["raw_key"]}, index=rows.index)
    del rows
    areas = ids.drop_duplicates(ignore_index=True).copy()
    index = pd.MultiIndex.from_frame(areas)
    # The estimate and the two bounds of the interval are rows of their own (Marges): one column each.
    parts = {name: pd.concat([ids[marges == m], numbers[marges == m]], axis=1).groupby(key).max().reindex(index)
             for m, name in (("MW00000", "value"), ("MOG0095", "ci_lower"), ("MBG0095", "ci_upper"))}
    long = []
    for raw_key, canonical in zip(keys["raw_key"], keys["canonical"], strict=True):
        f = areas.assign(variable=canonical, **{name: part[raw_key].to_numpy() for name, part in parts.items()})
        f["measured"] = f.groupby("year")["value"].transform("count") > 0  # over every area, the land included
        long.append(f)
    long = pd.concat(long, ignore_index=True) if long else areas.iloc[:0].assign(
        variable="", value=NAN, ci_lower=NAN, ci_upper=NAN, measured=False)
    for frame in (areas, long):
        frame["area_level"] = read.level_of(frame["area_code"])
        frame["gemeente_code"] = np.where(frame["area_level"] != "land", "GM" + frame["area_code"].str[2:6], None)
    return areas[areas["area_level"].notna()], long[long["area_level"].notna()]


def health_values(catalogue: list[dict], areas: pd.DataFrame, health: pd.DataFrame, table_id: str) -> pd.DataFrame:
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


def health_weights(health_areas: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Residents and households of a health area from the KWB year nearest the period where its code exists
    (the earlier year on a tie)."""
    h = health_areas[["year", "area_code"]].drop_duplicates()
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


def _shifted_mean(x: pd.Series, w: pd.Series, by) -> pd.Series:
    """Weighted mean per group, computed on the values minus the group's first value (exact for equal values)."""
    ref = x.groupby(by).transform("first")
    return ref.groupby(by).first() + (w * (x - ref)).groupby(by).sum() / w.groupby(by).sum()


def divide_measures(rows: pd.DataFrame, thresholds: dict[int, float]) -> pd.DataFrame:
    """One row per group of neighbourhood rows: every divide measure, before the catalogue says which apply."""
    grouped = rows.groupby(GROUP, sort=True, observed=True)
    out = grouped.size().rename("n_rows").reset_index()  # groups in the order of ngroup: group g is row g
    rows = rows.assign(g=grouped.ngroup().to_numpy())
    use = rows[np.isfinite(rows["value"]) & np.isfinite(rows["inhabitants"]) & (rows["inhabitants"] > 0)]
    use = use.sort_values(["g", "value"], kind="mergesort")
    x, w, g = use["value"], use["inhabitants"], use["g"]

    def per_group(series: pd.Series) -> np.ndarray:
        return series.reindex(out.index).to_numpy()

    out["n_areas"] = per_group(g.value_counts())
    out["weight_total"] = per_group(w.groupby(g).sum())
    # Population quintiles: each buurt holds the stretch [lower, upper) of its gemeente's line of residents.
    upper = w.groupby(g).cumsum()
    lower = upper - w
    total = w.groupby(g).transform("sum")
    bottom = per_group(_shifted_mean(x, (np.minimum(upper, total * 0.2) - lower).clip(lower=0), g))
    top = per_group(_shifted_mean(x, (upper - np.maximum(lower, total * 0.8)).clip(lower=0), g))
    mean = _shifted_mean(x, w, g)
    dev = x - mean.reindex(g).to_numpy()
    std = per_group(np.sqrt((w * dev * dev).groupby(g).sum() / w.groupby(g).sum()))
    mean = per_group(mean)
    directions = rows.groupby("g")["direction"].first()
    worse_high = per_group(directions) == "higher_is_worse"
    out["worst20_mean"] = np.where(worse_high, top, bottom)
    out["best20_mean"] = np.where(worse_high, bottom, top)
    out["gap"] = np.clip(top - bottom, 0, None)
    low, high = np.minimum(bottom, top), np.maximum(bottom, top)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ratio"] = np.where(low > 0, high / low, NAN)
        out["cv"] = np.where(mean != 0, std / mean, NAN)
    out["weighted_std"] = std
    # Theil over buurten with a wijk and a positive value; split over wijken.
    labelled = use[use["wijk_code"].notna()]
    out["theil_n_nonpositive"] = per_group((labelled["value"] <= 0).groupby(labelled["g"]).sum())
    th = labelled[labelled["value"] > 0]
    tx, tw, tg = th["value"], th["inhabitants"], th["g"]
    t_mean = _shifted_mean(tx, tw, tg)
    share = tw * tx / (tw * tx).groupby(tg).transform("sum")
    out["theil_total"] = per_group((share * np.log(tx / t_mean.reindex(tg).to_numpy())).groupby(tg).sum())
    pair = [tg, th["wijk_code"]]
    wijk_mean = _shifted_mean(tx, tw, pair)
    wijk_share = share.groupby(pair).sum()
    pair_group = wijk_mean.index.get_level_values(0)
    between = wijk_share * np.log(wijk_mean / t_mean.reindex(pair_group).to_numpy())
    out["theil_between"] = per_group(between.groupby(level=0).sum())
    wijk_of_row = wijk_mean.reindex(pd.MultiIndex.from_arrays([tg, th["wijk_code"]])).to_numpy()
    out["theil_within"] = per_group((share * np.log(tx / wijk_of_row)).groupby(tg).sum())
    # Dissimilarity of low-income against other households, over rows whose two counts are known.
    counted = rows[np.isfinite(rows["low"]) & np.isfinite(rows["other"]) & (rows["low"] >= 0) & (rows["other"] >= 0)]
    a_total = counted["low"].groupby(counted["g"]).transform("sum")
    b_total = counted["other"].groupby(counted["g"]).transform("sum")
    d = 0.5 * (counted["low"] / a_total - counted["other"] / b_total).abs().groupby(counted["g"]).sum()
    ok = (counted["low"].groupby(counted["g"]).sum() > 0) & (counted["other"].groupby(counted["g"]).sum() > 0)
    out["dissimilarity"] = per_group(d.where(ok))
    # Share of residents in neighbourhoods at or above the threshold.
    limit = use["year"].map(thresholds).astype(float)
    share_pct = 100 * (w * (x >= limit)).groupby(g).sum() / w.groupby(g).sum()
    out["concentration_share_pct"] = per_group(share_pct.where(limit.groupby(g).first().notna()))
    out["n_areas"] = out["n_areas"].fillna(0).astype(int)
    out["n_dropped"] = out["n_rows"] - out["n_areas"]
    out["weight_total"] = out["weight_total"].fillna(0.0)
    out["theil_n_nonpositive"] = out["theil_n_nonpositive"].fillna(0).astype(int)
    return out.drop(columns="n_rows")


def measures(values: pd.DataFrame, catalogue: list[dict], areas: pd.DataFrame, health_w: pd.DataFrame,
             terr: pd.DataFrame, concentration_factor: float) -> pd.DataFrame:
    cat = pd.DataFrame(catalogue).set_index("id")
    columns = ["year", "area_code", "area_level", "gemeente_code", "indicator_id", "value", "source_table"]
    rows = (values["area_level"].isin(["buurt", "wijk"]) & values["indicator_id"].isin(cat.index)
            & (values["indicator_id"].map(cat["unit"]) != "count"))
    v = values.loc[rows, columns]
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
    v["wijk_code"] = np.where(v["area_level"] == "buurt", "WK" + v["area_code"].str[2:8],
                              np.where(v["area_level"] == "wijk", v["area_code"], None))
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
    health_areas, health = load_health(mirror, health_table, wanted)
    if municipalities:
        keep = set(municipalities)
        areas = areas[(areas["area_level"] == "land") | areas["gemeente_code"].isin(keep)]
        health_areas = health_areas[(health_areas["area_level"] == "land")
                                    | health_areas["gemeente_code"].isin(keep)]
        health = health[(health["area_level"] == "land") | health["gemeente_code"].isin(keep)]
    values = pd.concat([kwb_values(catalogue, areas, kwb),
                        health_values(catalogue, health_areas, health, health_table)], ignore_index=True)
    del kwb, health
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
    m = measures(values, catalogue, areas, health_weights(health_areas, areas), territory(areas),
                 concentration_factor)
    return values, m
