"""How sure we are of the divide measures: divide.intervals and divide.change_intervals (bwm.divide.uncertainty).

Incremental per gemeente: the draws of a group depend on its own rows only (seeded by the group's key), so a
gemeente whose rows of divide.inputs, divide.measures and indicators.stapeling_inputs (the derived stapeling
share, bwm.stapeling) are the ones its intervals were drawn from keeps its intervals. ``ops.interval_state`` (the
bookkeeping schema: not output, tests/output_identity.py leaves it out) records, per gemeente, the fingerprint of
those rows (and of the code and the draw settings) that its rows of the two interval tables were computed from; a
refresh recomputes the gemeenten whose fingerprint changed, deletes their rows (and those of gemeenten that are
gone) and inserts the new ones. No state, or a missing table: every gemeente is computed and the tables replaced.
At national scale a full computation takes minutes; one gemeente's a second or two.
"""

import time
from pathlib import Path

import dagster as dg
import polars as pl

from bwm import catalogue, incremental, stapeling, warehouse
from bwm.divide import build, frame, measures, registry
from bwm.divide import uncertainty as unc
from bwm.divide.uncertainty import N_DRAWS, ROUNDING_DRAWS, SEED, compute_intervals
from pipelines.resources import BwmResource

INTERVALS = dg.AssetKey(["divide", "intervals"])
CHANGE_INTERVALS = dg.AssetKey(["divide", "change_intervals"])
#: An interval is computed from a gemeente's rows of divide.inputs, divide.measures and indicators.stapeling_inputs.
#: divide.inputs is a view over indicators.values (seconds nationally): it is read once into the temporary table
#: INPUTS_SNAPSHOT, which is hashed and read from.
INPUTS_SNAPSHOT = "interval_inputs"
#: indicators.stapeling_inputs is a view too: the same treatment.
STAPELING_SNAPSHOT = "interval_stapeling_inputs"
#: ops.interval_state, bookkeeping of the incremental computation. Grain: one row per gemeente_code;
#: fingerprint (SHA-256, hex text) of the gemeente's rows of divide.inputs and divide.measures, of the code and of
#: the draw settings that its rows of divide.intervals and divide.change_intervals were computed from.
STATE_SCHEMA, STATE_TABLE = "ops", "interval_state"


def code_version() -> str:
    """What shapes the intervals besides their input rows: this module, the maths, the catalogue, numpy/polars."""
    return incremental.code_version(
        [Path(__file__), Path(unc.__file__), Path(measures.__file__), Path(registry.__file__), Path(build.__file__),
         Path(frame.__file__), Path(catalogue.__file__), Path(stapeling.__file__), catalogue.CATALOGUE_PATH],
        libraries=("numpy", "polars"))


def interval_fingerprints(con) -> dict[str, str]:
    """``{gemeente_code: fingerprint}`` of every gemeente with rows in divide.inputs, divide.measures or
    indicators.stapeling_inputs (the two views by their snapshots, which :func:`refresh_intervals` makes). Doubles
    are rounded to 9 decimals: the last bits of DuckDB's parallel sums jitter between runs, and would make every
    gemeente "changed"; a difference below that moves no interval by anything that shows."""
    return incremental.table_fingerprints(con, code_version(), [INPUTS_SNAPSHOT, "divide.measures", STAPELING_SNAPSHOT],
                                          shared=(SEED, N_DRAWS, ROUNDING_DRAWS), decimals=9)


def recorded_fingerprints(con) -> dict[str, str]:
    """The state of the previous computation; empty (compute everything) when any of its tables is missing."""
    if not (all(warehouse.table_exists(con, "divide", t) for t in ("intervals", "change_intervals"))
            and warehouse.table_exists(con, STATE_SCHEMA, STATE_TABLE)):
        return {}
    return dict(con.execute(f"select gemeente_code, fingerprint from {STATE_SCHEMA}.{STATE_TABLE}").fetchall())


def _rows_of(con, table: str, gemeenten: list[str]) -> pl.DataFrame:
    con.register("_bwm_gemeenten", pl.DataFrame({"gemeente_code": gemeenten}, schema={"gemeente_code": pl.String}))
    try:
        return con.execute(f"select * from {table} where gemeente_code in "
                           "(select gemeente_code from _bwm_gemeenten)").pl()
    finally:
        con.unregister("_bwm_gemeenten")


def refresh_intervals(con, workers: int | None = None) -> dict:
    """Bring divide.intervals and divide.change_intervals up to date with divide.inputs and divide.measures,
    recomputing only the gemeenten whose fingerprint changed; what was done, for the asset's metadata.
    ``workers``: processes drawing (the same numbers with any count). Default 1: at national scale two processes
    took the tree to 4.7 GiB (over the 4 GiB target) and were not shown to be faster on the shared machine
    (benchmarks/README.md, 2 December 2026); ``unc.default_workers()`` gives both cores."""
    workers = 1 if workers is None else workers
    con.execute(f"create or replace temp table {INPUTS_SNAPSHOT} as select * from divide.inputs")
    # A warehouse without the stapeling layer (a test's, or one built before it) has no shares to draw: an empty
    # snapshot with the gemeente column keeps the fingerprints' shape.
    if _has_stapeling(con):
        con.execute(f"create or replace temp table {STAPELING_SNAPSHOT} as select * from indicators.stapeling_inputs")
    else:
        con.execute(f"create or replace temp table {STAPELING_SNAPSHOT} (gemeente_code varchar)")
    try:
        return _refresh(con, workers)
    finally:
        con.execute(f"drop table if exists {INPUTS_SNAPSHOT}")
        con.execute(f"drop table if exists {STAPELING_SNAPSHOT}")


def _has_stapeling(con) -> bool:
    return all(warehouse.table_exists(con, "indicators", t) for t in ("stapeling_inputs", "stapeling"))


def _share_intervals(con, measures_rows: pl.DataFrame, full: bool, redo: list[str]
                     ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The stapeling share's rows of the two interval tables for the gemeenten drawn (all when ``full``)."""
    shares = measures_rows.filter(pl.col("indicator_id") == stapeling.PSEUDO_INDICATOR)
    if shares.is_empty() or not _has_stapeling(con):
        return pl.DataFrame(schema=unc.INTERVAL_SCHEMA), pl.DataFrame(schema=unc.CHANGE_SCHEMA)
    core = con.execute(f"select * from {STAPELING_SNAPSHOT}").pl() if full else _rows_of(con, STAPELING_SNAPSHOT, redo)
    scored = (con.execute("select * from indicators.stapeling").pl() if full
              else _rows_of(con, "indicators.stapeling", redo))
    return stapeling.share_intervals(core, scored, shares)


def _refresh(con, workers: int) -> dict:
    prints = interval_fingerprints(con)
    recorded = recorded_fingerprints(con)
    redo = sorted(g for g, f in prints.items() if recorded.get(g) != f)
    gone = sorted(set(recorded) - set(prints))
    full = not recorded or len(redo) == len(prints)
    started = time.perf_counter()
    if full or redo:
        inputs = (con.execute(f"select * from {INPUTS_SNAPSHOT}").pl() if full
                  else _rows_of(con, INPUTS_SNAPSHOT, redo))
        measures_rows = con.execute("select * from divide.measures").pl() if full else _rows_of(
            con, "divide.measures", redo)
        # The snapshot is read: free it before drawing (a full computation draws in two more processes, and the
        # tree's peak memory counts against the 4 GiB target).
        con.execute(f"drop table if exists {INPUTS_SNAPSHOT}")
        intervals, changes = compute_intervals(inputs, measures_rows, workers=workers)
        del inputs
        # The derived stapeling share: draws of every core figure of a gemeente at once (bwm.stapeling).
        s_intervals, s_changes = _share_intervals(con, measures_rows, full, redo)
        intervals = pl.concat([intervals, s_intervals]).sort(["gemeente_code", "year", "level", "indicator_id",
                                                              "measure"])
        changes = pl.concat([changes, s_changes]).sort(["gemeente_code", "level", "indicator_id", "measure"])
        del measures_rows
    else:
        intervals = pl.DataFrame(schema=unc.INTERVAL_SCHEMA)
        changes = pl.DataFrame(schema=unc.CHANGE_SCHEMA)
    seconds = time.perf_counter() - started
    state = pl.DataFrame({"gemeente_code": sorted(prints), "fingerprint": [prints[g] for g in sorted(prints)]},
                         schema={"gemeente_code": pl.String, "fingerprint": pl.String})
    if full:
        warehouse.replace_table_from_frame(con, "divide", "intervals", intervals)
        warehouse.replace_table_from_frame(con, "divide", "change_intervals", changes)
    else:
        warehouse.replace_gemeenten_from_frames(con, "divide", {"intervals": intervals, "change_intervals": changes},
                                                redo + gone)
    con.execute(f"create schema if not exists {STATE_SCHEMA}")
    warehouse.replace_table_from_frame(con, STATE_SCHEMA, STATE_TABLE, state)
    methods = dict(con.execute("select method, count(*) from divide.intervals group by 1 order by 1").fetchall())
    return {"rows": warehouse.row_count(con, "divide", "intervals"),
            "change_rows": warehouse.row_count(con, "divide", "change_intervals"),
            "gemeenten_computed": len(prints) if full else len(redo), "gemeenten_kept": 0 if full else
            len(prints) - len(redo), "gemeenten_removed": len(gone), "full": full, "seconds": round(seconds, 1),
            "methods": methods}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(INTERVALS, group_name="divide", kinds={"python"},
                     deps=[dg.AssetKey(["divide", "inputs"]), dg.AssetKey(["divide", "measures"]),
                           dg.AssetKey(["indicators", "stapeling"]), dg.AssetKey(["indicators", "stapeling_inputs"])],
                     description="The interval of each divide measure, one row per (gemeente_code, year, level, "
                                 "indicator_id, measure): ci_low, ci_high, method 'monte_carlo_95' (health: "
                                 "2.5th-97.5th percentile of draws within the published 95% bounds) or "
                                 "'rounding_range' (KWB: range under CBS's rounding), n_draws. Recomputed only "
                                 "for the gemeenten whose input rows changed (ops.interval_state)."),
        dg.AssetSpec(CHANGE_INTERVALS, group_name="divide", kinds={"python"},
                     deps=[dg.AssetKey(["divide", "inputs"]), dg.AssetKey(["divide", "measures"])],
                     description="The interval of each divide measure's change, one row per (gemeente_code, "
                                 "level, indicator_id, measure): change_low/change_high (latest minus first "
                                 "year), change_previous_low/high (latest minus previous year); divide.trends "
                                 "reads it."),
    ],
    pool=warehouse.WAREHOUSE_POOL,
)
def intervals(context: dg.AssetExecutionContext, bwm: BwmResource):
    """Draws of every group's figures (seed bwm.divide.uncertainty.SEED and the group's key), the measures of
    each draw, and their percentiles or range: the maths and its limits are bwm.divide.uncertainty's. Only the
    gemeenten whose rows changed are drawn again (module docstring)."""
    with bwm.connect() as con:
        done = refresh_intervals(con)
    context.log.info(f"divide.intervals: {done['gemeenten_computed']} gemeenten computed, {done['gemeenten_kept']} "
                     f"kept, {done['gemeenten_removed']} removed ({done['seconds']} s)")
    yield dg.MaterializeResult(asset_key=INTERVALS, metadata={
        "rows": done["rows"], "n_draws": N_DRAWS, "rounding_draws": ROUNDING_DRAWS, "seed": SEED,
        "seconds": done["seconds"], "gemeenten_computed": done["gemeenten_computed"],
        "gemeenten_kept": done["gemeenten_kept"], "gemeenten_removed": done["gemeenten_removed"],
        **{f"rows_{m}": k for m, k in sorted(done["methods"].items())}})
    yield dg.MaterializeResult(asset_key=CHANGE_INTERVALS, metadata={"rows": done["change_rows"]})


uncertainty_assets = [intervals]
