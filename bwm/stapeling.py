"""Where disadvantages pile up (stapeling): per buurt and year, on how many core indicators and themes it is among
the worst-off 20% of residents; how the core indicators coincide over a gemeente's buurten (samenhang); and the
share of a gemeente's residents in buurten worst-off on several themes (a divide measure), with its interval.

Pure numpy and polars, no Dagster. The core set and the thresholds are the ``stapeling:`` section of
data/reference/indicators.yaml (:func:`bwm.catalogue.stapeling`).

**The worst-off 20% of residents** (:func:`worst20`). Among the buurten of a scope (a gemeente, or every buurt in
the warehouse) that have a value and residents, sort from worst-off to best-off by the indicator's ``direction``.
A buurt is *among the worst-off 20%* when the residents of the buurten **strictly worse** than it are fewer than
20% of all residents of those buurten: its own residents then (at least partly) fall within the first 20%, so a
buurt that straddles the 20% line counts, as in divide.contributions. **Ties**: buurten with the same value have
the same residents strictly worse than them, so they are in or out together; a buurt whose strictly-worse
residents are exactly 20% is out (the line is full). A buurt without a value is never counted and adds no
residents to the total.

**Themes.** A buurt is worst-off on a theme when it is among the worst-off 20% on at least half of the theme's core
indicators that have a value for it (2 of 3, 1 of 2, 1 of 1); a theme without any value is not covered.

**Coverage.** ``n_core`` core indicators apply to a buurt (all of the catalogue's, also those without a row for it,
plus in its own gemeente the municipal indicators declared with ``stapeling_theme`` that the gemeente delivered
for that year); a buurt with a value on fewer than ``min_coverage_pct`` % of them,
or without residents, gets no score (the counts are null and ``score_reason`` says why), never a silent 0.

**Years.** The health periods (the years in which a health core indicator has a buurt value), each with the KWB
figures of the same year; a health period without KWB (2012) has too little coverage and gets no score.

**Samenhang** (:func:`weighted_spearman`): per gemeente and year, for each pair of the ``samenhang`` indicators
over the buurten that have both values and residents, the population-weighted Spearman correlation: each value's
weighted mid-rank (residents of buurten with a lower value plus half of those with the same value), then the
residents-weighted Pearson correlation of the two mid-ranks. Values are oriented so that higher is worse (an
indicator where higher is better is negated), so a positive correlation means the disadvantages coincide.

**The divide measure** ``stapeling_share_pct``: per gemeente and year, the residents of scored buurten that are
worst-off (within the gemeente) on at least ``min_themes`` themes, as a % of the residents of all scored buurten.
Its interval (:func:`share_intervals`): every core figure of the gemeente's buurten is drawn as the divide
intervals draw it (health: the split normal within the published 95% bounds, truncated to 0-100; KWB: uniform
within CBS's rounding, ratios from their rounded counts; municipal figures: as published), the flags, themes and
share are computed per draw, and the interval is the draws' 2.5th-97.5th percentiles placed about the published
share (:func:`bwm.divide.uncertainty.centred`, then kept within 0-100); method ``monte_carlo_95`` for all, as the
draws mix both sources.
Residents are kept as published in the draws, and which figures are missing does not change.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from bwm import catalogue
from bwm.catalogue import StapelingRule
from bwm.divide import uncertainty as unc

#: The fraction of residents that makes the worst-off group.
WORST_SHARE = 0.2
#: Relative tolerance of the 20% line (sums of residents in floating point).
_EPS = 1e-9
SCOPES = ("gemeente", "warehouse")
PSEUDO_INDICATOR = "stapeling"
MEASURE = "stapeling_share_pct"

#: indicators.stapeling: one row per (year, area_code, scope).
STAPELING_SCHEMA = {
    "year": pl.Int64, "area_code": pl.String, "gemeente_code": pl.String, "scope": pl.String,
    "inhabitants": pl.Float64, "n_core": pl.Int64, "n_with_value": pl.Int64, "coverage_pct": pl.Float64,
    "min_coverage_pct": pl.Float64, "n_themes": pl.Int64, "n_themes_covered": pl.Int64,
    "n_indicators_worst20": pl.Int64, "n_themes_worst20": pl.Int64, "themes_worst20": pl.String,
    "indicators_worst20": pl.String, "score_reason": pl.String,
}
#: indicators.samenhang: one row per (year, gemeente_code, indicator_a, indicator_b), a < b in samenhang order.
SAMENHANG_SCHEMA = {
    "year": pl.Int64, "gemeente_code": pl.String, "indicator_a": pl.String, "indicator_b": pl.String,
    "n_buurten": pl.Int64, "min_buurten": pl.Int64, "rho": pl.Float64, "status": pl.String,
}


# --- the maths ----------------------------------------------------------------------------------------------


def worst20(values, weights, higher_is_worse: bool) -> np.ndarray:
    """Which buurten are among the worst-off 20% of residents (module docstring): a bool array of ``values``'
    shape, ``(n,)`` or ``(draws, n)``; ``weights`` ``(n,)`` or the same shape; NaN values are never in."""
    x = np.atleast_2d(np.asarray(values, dtype=float))
    w = np.broadcast_to(np.asarray(weights, dtype=float), x.shape)
    bad = x if higher_is_worse else -x
    valid = np.isfinite(bad) & np.isfinite(w) & (w > 0)
    b = np.where(valid, bad, -np.inf)
    ww = np.where(valid, w, 0.0)
    order = np.argsort(-b, axis=1, kind="stable")  # worst first; the missing (-inf) last
    sb = np.take_along_axis(b, order, axis=1)
    sw = np.take_along_axis(ww, order, axis=1)
    before = np.cumsum(sw, axis=1) - sw
    n = x.shape[1]
    start = np.ones(sb.shape, dtype=bool)
    start[:, 1:] = sb[:, 1:] != sb[:, :-1]
    run_start = np.maximum.accumulate(np.where(start, np.arange(n), 0), axis=1)
    strictly_worse = np.take_along_axis(before, run_start, axis=1)
    total = sw.sum(axis=1, keepdims=True)
    in_sorted = strictly_worse < (WORST_SHARE - _EPS) * total
    flags = np.empty_like(in_sorted)
    np.put_along_axis(flags, order, in_sorted, axis=1)
    flags &= valid
    return flags.reshape(np.shape(values)) if np.ndim(values) == 1 else flags


def weighted_ranks(x, w) -> np.ndarray:
    """Weighted mid-ranks: the weight of the values below plus half of the weight of the values equal to each."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    uniq, inverse = np.unique(x, return_inverse=True)
    tie_weight = np.bincount(inverse, weights=w, minlength=uniq.size)
    below = np.cumsum(tie_weight) - tie_weight
    return (below + tie_weight / 2)[inverse]


def weighted_spearman(x, y, w) -> float | None:
    """Population-weighted Spearman correlation of ``x`` and ``y`` (finite, weights > 0; module docstring); None
    when either has no variation."""
    x, y, w = (np.asarray(a, dtype=float) for a in (x, y, w))
    rx, ry = weighted_ranks(x, w), weighted_ranks(y, w)
    total = w.sum()
    dx, dy = rx - (w * rx).sum() / total, ry - (w * ry).sum() / total
    vx, vy = (w * dx * dx).sum(), (w * dy * dy).sum()
    if vx <= 1e-12 * total ** 3 or vy <= 1e-12 * total ** 3:
        return None
    return float(np.clip((w * dx * dy).sum() / math.sqrt(vx * vy), -1.0, 1.0))


# --- inputs -------------------------------------------------------------------------------------------------


def core_inputs(values: pl.DataFrame, rule: StapelingRule) -> pl.DataFrame:
    """The rows of the core set: ``values`` (year, area_code, gemeente_code, indicator_id, direction, source,
    value, ci_lower, ci_upper, numerator, denominator, factor, inhabitants, stapeling_theme) with the
    ``theme`` of each row; municipal indicators join through their declared ``stapeling_theme``, in their own
    gemeente only (``municipal`` true). Only the scored years (module docstring)."""
    theme_of = rule.theme_of
    frame = values.with_columns(
        pl.col("indicator_id").replace_strict(theme_of, default=None, return_dtype=pl.String).alias("cbs_theme"))
    frame = frame.with_columns(
        pl.coalesce("cbs_theme", pl.when(pl.col("source") == "municipal").then(pl.col("stapeling_theme")))
        .alias("theme"),
        (pl.col("source") == "municipal").alias("municipal"),
    ).filter(pl.col("theme").is_not_null() & (pl.col("direction") != "neutral")).drop("cbs_theme")
    years = frame.filter((pl.col("source") == "health") & pl.col("value").is_not_null())["year"].unique()
    return frame.filter(pl.col("year").is_in(years.implode())).with_columns(pl.col("year").cast(pl.Int64))


def _buurten(core: pl.DataFrame) -> pl.DataFrame:
    """One row per (year, area_code): gemeente and residents (the largest any of its rows carries)."""
    return core.group_by("year", "area_code").agg(
        pl.col("gemeente_code").sort_by(pl.col("source") != "kwb").first(),
        pl.col("inhabitants").max()).sort("year", "area_code")


def _flags_long(core: pl.DataFrame, buurten: pl.DataFrame, scope: str) -> pl.DataFrame:
    """One row per (year, area_code, indicator_id) of the scope's core set: has_value, worst20."""
    rows = core if scope == "gemeente" else core.filter(~pl.col("municipal"))
    rows = rows.drop("gemeente_code", "inhabitants").join(buurten, on=["year", "area_code"])
    by = ["year", "gemeente_code", "indicator_id"] if scope == "gemeente" else ["year", "indicator_id"]
    parts = []
    for part in rows.sort([*by, "area_code"]).partition_by(by, maintain_order=True):
        flags = worst20(part["value"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
                        part["inhabitants"].fill_null(0).to_numpy(), part["direction"][0] == "higher_is_worse")
        parts.append(part.select("year", "area_code", "indicator_id", "theme").with_columns(
            part["value"].is_not_null().alias("has_value"), pl.Series("worst20", flags)))
    if not parts:
        return pl.DataFrame(schema={"year": pl.Int64, "area_code": pl.String, "indicator_id": pl.String,
                                    "theme": pl.String, "has_value": pl.Boolean, "worst20": pl.Boolean})
    return pl.concat(parts)


def _joined(names: list[str], order: list[str]) -> str | None:
    chosen = [n for n in order if n in set(names)]
    return ";".join(chosen) if chosen else None


def score_table(values: pl.DataFrame, rule: StapelingRule | None = None) -> pl.DataFrame:
    """indicators.stapeling: one row per (year, area_code, scope) of every buurt in a scored year (module docstring).

    ``values``: see :func:`core_inputs` (buurt rows only). Counts are null where ``score_reason`` is set
    ('coverage_below_threshold' or 'no_residents').
    """
    rule = rule or catalogue.stapeling()
    core = core_inputs(values, rule)
    if not core.height:
        return pl.DataFrame(schema=STAPELING_SCHEMA)
    buurten = _buurten(core)
    theme_order = [t.id for t in rule.themes]
    indicator_order = [*rule.theme_of, *sorted(set(core.filter(pl.col("municipal"))["indicator_id"]))]
    out = []
    for scope in SCOPES:
        flags = _flags_long(core, buurten, scope)
        themes = flags.group_by("year", "area_code", "theme").agg(
            pl.col("has_value").sum().alias("n_valued"), pl.col("worst20").sum().alias("n_worst"),
            pl.len().alias("n_in_theme"))
        themes = themes.with_columns(
            (pl.col("n_valued") > 0).alias("covered"),
            ((pl.col("n_valued") > 0) & (2 * pl.col("n_worst") >= pl.col("n_valued"))).alias("theme_worst"))
        per_theme = themes.group_by("year", "area_code").agg(
            pl.len().alias("n_themes"), pl.col("covered").sum().alias("n_themes_covered"),
            pl.col("theme_worst").sum().alias("n_themes_worst20"),
            pl.col("theme").filter(pl.col("theme_worst")).alias("themes_list"))
        per_indicator = flags.group_by("year", "area_code").agg(
            pl.len().alias("n_core"), pl.col("has_value").sum().alias("n_with_value"),
            pl.col("worst20").sum().alias("n_indicators_worst20"),
            pl.col("indicator_id").filter(pl.col("worst20")).alias("indicators_list"))
        frame = buurten.join(per_indicator.drop("n_core"), on=["year", "area_code"]).join(
            per_theme.drop("n_themes"), on=["year", "area_code"])
        # The whole core set counts, also an indicator without any row for the buurt (a source without that year):
        # the catalogue's, plus in the gemeente scope the municipal ones its gemeente delivered for that year.
        municipal = core.filter(pl.col("municipal")).group_by("year", "gemeente_code").agg(
            pl.col("indicator_id").n_unique().alias("n_municipal"))
        frame = frame.join(municipal, on=["year", "gemeente_code"], how="left").with_columns(
            (pl.lit(len(rule.theme_of)) + (pl.col("n_municipal").fill_null(0) if scope == "gemeente" else 0))
            .cast(pl.Int64).alias("n_core"),
            pl.lit(len(rule.themes)).cast(pl.Int64).alias("n_themes"))
        frame = frame.with_columns(
            (100.0 * pl.col("n_with_value") / pl.col("n_core")).alias("coverage_pct"),
            pl.lit(rule.min_coverage_pct).alias("min_coverage_pct"), pl.lit(scope).alias("scope"),
        ).with_columns(
            pl.when(~(pl.col("inhabitants") > 0)).then(pl.lit("no_residents"))
            .when(pl.col("coverage_pct") < rule.min_coverage_pct - 1e-9).then(pl.lit("coverage_below_threshold"))
            .alias("score_reason"))
        scored = pl.col("score_reason").is_null()
        frame = frame.with_columns(
            pl.when(scored).then(pl.col(c)).alias(c) for c in ("n_indicators_worst20", "n_themes_worst20")
        ).with_columns(
            pl.when(scored).then(pl.col("themes_list").map_elements(
                lambda v: _joined(v.to_list(), theme_order), return_dtype=pl.String)).alias("themes_worst20"),
            pl.when(scored).then(pl.col("indicators_list").map_elements(
                lambda v: _joined(v.to_list(), indicator_order), return_dtype=pl.String)).alias("indicators_worst20"),
        )
        out.append(frame.select([pl.col(c).cast(t) for c, t in STAPELING_SCHEMA.items()]))
    return pl.concat(out).sort("year", "area_code", "scope")


def samenhang_table(values: pl.DataFrame, rule: StapelingRule | None = None) -> pl.DataFrame:
    """indicators.samenhang: per (year, gemeente, pair of samenhang indicators) the weighted Spearman correlation
    over the buurten with both values and residents (module docstring); ``status`` 'computed', 'too_few_buurten'
    (fewer than ``min_buurten``: rho null) or 'no_variation' (one of the two is the same everywhere: rho null)."""
    rule = rule or catalogue.stapeling()
    core = core_inputs(values, rule)
    core = core.filter(pl.col("indicator_id").is_in(list(rule.samenhang)) & ~pl.col("municipal"))
    if not core.height:
        return pl.DataFrame(schema=SAMENHANG_SCHEMA)
    buurten = _buurten(core)
    oriented = core.drop("gemeente_code", "inhabitants").join(buurten, on=["year", "area_code"]).filter(
        pl.col("value").is_not_null() & (pl.col("inhabitants") > 0)).with_columns(
        pl.when(pl.col("direction") == "higher_is_better").then(-pl.col("value")).otherwise(pl.col("value"))
        .alias("worse"))
    wide = oriented.pivot(on="indicator_id", index=["year", "gemeente_code", "area_code", "inhabitants"],
                          values="worse")
    rows = []
    for (year, gm), part in wide.sort("year", "gemeente_code", "area_code").group_by(
            ["year", "gemeente_code"], maintain_order=True):
        for i, a in enumerate(rule.samenhang):
            for b in rule.samenhang[i + 1:]:
                if a not in part.columns or b not in part.columns:
                    sub = part.head(0)
                else:
                    sub = part.select(a, b, "inhabitants").drop_nulls()
                n = sub.height
                rho, status = None, "too_few_buurten"
                if n >= rule.min_buurten:
                    rho = weighted_spearman(sub[a].to_numpy(), sub[b].to_numpy(), sub["inhabitants"].to_numpy())
                    status = "computed" if rho is not None else "no_variation"
                rows.append((year, gm, a, b, n, rule.min_buurten, rho, status))
    return pl.DataFrame(rows, schema=SAMENHANG_SCHEMA, orient="row").sort(
        "year", "gemeente_code", "indicator_a", "indicator_b")


# --- the divide measure and its interval --------------------------------------------------------------------


def source_tables(values: pl.DataFrame, rule: StapelingRule | None = None) -> pl.DataFrame:
    """Per (gemeente_code, year) the tables (or municipal files) the core figures came from, ', '-joined."""
    core = core_inputs(values, rule or catalogue.stapeling()).filter(pl.col("value").is_not_null())
    return core.group_by("gemeente_code", "year").agg(
        pl.col("source_table").drop_nulls().unique().sort().str.join(", ").alias("source_table"))


def share_measures(stapeling: pl.DataFrame, rule: StapelingRule | None = None,
                   source_tables: pl.DataFrame | None = None) -> pl.DataFrame:
    """Rows of divide.measures for the pseudo-indicator 'stapeling', level 'buurt': per (gemeente_code, year) the
    share (%) of residents of scored buurten that are worst-off within the gemeente on at least ``min_themes``
    themes; n_areas scored buurten, n_dropped unscored, weight_total their residents."""
    rule = rule or catalogue.stapeling()
    rows = stapeling.filter(pl.col("scope") == "gemeente")
    scored = pl.col("score_reason").is_null()
    frame = rows.group_by("gemeente_code", "year").agg(
        scored.sum().cast(pl.Int64).alias("n_areas"), (~scored).sum().cast(pl.Int64).alias("n_dropped"),
        pl.col("inhabitants").filter(scored).sum().alias("weight_total"),
        pl.col("inhabitants").filter(scored & (pl.col("n_themes_worst20") >= rule.min_themes)).sum().alias("piled"),
    ).with_columns(
        pl.when(pl.col("weight_total") > 0).then(100.0 * pl.col("piled") / pl.col("weight_total")).alias(MEASURE),
        pl.lit("buurt").alias("level"), pl.lit(PSEUDO_INDICATOR).alias("indicator_id"),
        pl.lit("higher_is_worse").alias("direction"),
    ).drop("piled")
    if source_tables is not None:
        frame = frame.join(source_tables, on=["gemeente_code", "year"], how="left")
    return frame.sort("gemeente_code", "year")


def _draw_values(part: pl.DataFrame, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_draws, n)`` draws of one indicator's figures over a gemeente's buurten (module docstring)."""
    value = part["value"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    source, iid = part["source"][0], part["indicator_id"][0]
    if source == "health":
        lo = part["ci_lower"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        hi = part["ci_upper"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        fixed = ~(np.isfinite(lo) & np.isfinite(hi))  # no published interval: as published
        lo, hi = np.where(fixed, value, lo), np.where(fixed, value, hi)
        ok = np.isfinite(value)
        x = np.full((n_draws, value.size), np.nan)
        if ok.any():
            x[:, ok] = unc.draw_split_normal(value[ok], np.minimum(lo[ok], value[ok]), np.maximum(hi[ok], value[ok]),
                                             rng, n_draws)
        return x
    if source == "kwb":
        kind, unit = unc.rounding_unit(iid)
        if kind == "ratio":
            num = part["numerator"].cast(pl.Float64).fill_null(np.nan).to_numpy()
            den = part["denominator"].cast(pl.Float64).fill_null(np.nan).to_numpy()
            factor = float(catalogue.by_id()[iid].factor or 1.0)
            dn = unc.draw_rounding(num, unit / 2, rng, n_draws)[1:]
            dd = unc.draw_rounding(den, unit / 2, rng, n_draws)[1:]
            with np.errstate(invalid="ignore", divide="ignore"):
                x = np.where(dd > 0, np.clip(dn, 0, None) / dd * factor, np.nan)
            x[:, ~np.isfinite(value)] = np.nan
            return x
        return unc.draw_rounding(value, unit / 2, rng, n_draws)[1:]
    return np.broadcast_to(value, (n_draws, value.size)).copy()


def _share_draws(core: pl.DataFrame, scored_buurten: pl.DataFrame, rule: StapelingRule, n_draws: int,
                 gemeente: str, year: int, seed: int) -> np.ndarray:
    """The share of each draw for one (gemeente, year): ``(n_draws,)``. The flags of every core indicator and draw
    come from one :func:`worst20` call over a ``(indicators x draws, buurten)`` matrix (values turned so that higher
    is worse): one sort instead of one per indicator."""
    codes = scored_buurten["area_code"].to_list()
    w = scored_buurten["inhabitants"].to_numpy().astype(float)
    piled = scored_buurten["scored"].to_numpy()
    rng = unc.group_generator("stapeling", gemeente, year, seed=seed)
    position = {c: i for i, c in enumerate(codes)}
    core = core.filter(pl.col("area_code").is_in(codes)).sort("indicator_id", "area_code")
    parts = core.partition_by("indicator_id", maintain_order=True)
    bad = np.full((len(parts), n_draws, len(codes)), np.nan)
    has = np.zeros((len(parts), len(codes)))
    themes = []
    for k, part in enumerate(parts):
        idx = np.array([position[c] for c in part["area_code"]])
        x = _draw_values(part, n_draws, rng)
        bad[k][:, idx] = x if part["direction"][0] == "higher_is_worse" else -x
        has[k, idx] = part["value"].is_not_null().to_numpy()
        themes.append(part["theme"][0])
    flags = worst20(bad.reshape(-1, len(codes)), w, True).reshape(bad.shape)
    n_themes = np.zeros((n_draws, len(codes)), dtype=int)
    for t in sorted(set(themes)):
        rows = [k for k, tk in enumerate(themes) if tk == t]
        valued = has[rows].sum(axis=0)
        worst = flags[rows].sum(axis=0)
        n_themes += (valued > 0) & (2 * worst >= valued)
    total = (w * piled).sum()
    if not total > 0:
        return np.full(n_draws, np.nan)
    return ((n_themes >= rule.min_themes) * (w * piled)).sum(axis=1) / total * 100.0


def share_intervals(values: pl.DataFrame, stapeling: pl.DataFrame, measures: pl.DataFrame,
                    rule: StapelingRule | None = None, *, n_draws: int = unc.N_DRAWS, seed: int = unc.SEED
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows of divide.intervals and divide.change_intervals for ``stapeling_share_pct`` (module docstring):
    ``measures`` are the rows of :func:`share_measures`."""
    rule = rule or catalogue.stapeling()
    core = core_inputs(values, rule)
    buurten = _buurten(core)
    core = core.drop("gemeente_code", "inhabitants").join(buurten, on=["year", "area_code"])
    scope = stapeling.filter(pl.col("scope") == "gemeente").with_columns(
        pl.col("score_reason").is_null().alias("scored"))
    published = {(r["gemeente_code"], r["year"]): r[MEASURE] for r in measures.iter_rows(named=True)
                 if r[MEASURE] is not None}
    draws: dict[tuple[str, int], np.ndarray] = {}
    by_group = {k: v for k, v in core.partition_by(["gemeente_code", "year"], as_dict=True).items()}
    scoped = {k: v for k, v in scope.partition_by(["gemeente_code", "year"], as_dict=True).items()}
    rows = []
    for (gm, year) in sorted(published):
        b = scoped[(gm, year)].filter(pl.col("inhabitants") > 0).sort("area_code")
        d = _share_draws(by_group[(gm, year)], b, rule, n_draws, gm, year, seed)
        draws[(gm, year)] = d
        low, high, n = unc._summarise(d[None, :], np.array([unc.MONTE_CARLO], dtype=object),
                                      np.array([published[(gm, year)]]))
        # A share stays within 0..100 also when the interval is moved about the published share.
        low, high = np.clip(low, 0.0, 100.0), np.clip(high, 0.0, 100.0)
        rows.append((gm, year, "buurt", PSEUDO_INDICATOR, MEASURE, published[(gm, year)], low[0], high[0],
                     unc.MONTE_CARLO, int(n[0])))
    intervals = pl.DataFrame(rows, schema=unc.INTERVAL_SCHEMA, orient="row")
    changes = []
    years_of: dict[str, list[int]] = {}
    for gm, year in sorted(published):
        years_of.setdefault(gm, []).append(year)
    for gm, years in years_of.items():
        if len(years) < 2:
            continue
        first, previous, last = years[0], years[-2], years[-1]
        methods = np.array([unc.MONTE_CARLO], dtype=object)
        c_low, c_high, n = unc._summarise((draws[(gm, last)] - draws[(gm, first)])[None, :], methods,
                                          np.array([published[(gm, last)] - published[(gm, first)]]))
        p_low, p_high, _ = unc._summarise((draws[(gm, last)] - draws[(gm, previous)])[None, :], methods,
                                          np.array([published[(gm, last)] - published[(gm, previous)]]))
        changes.append((gm, "buurt", PSEUDO_INDICATOR, MEASURE, unc.MONTE_CARLO, first, previous, last,
                        c_low[0], c_high[0], p_low[0], p_high[0], int(n[0])))
    return intervals, pl.DataFrame(changes, schema=unc.CHANGE_SCHEMA, orient="row")
