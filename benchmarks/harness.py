"""The benchmark harness of issue 7: prepare the mirror once, run every scenario in a fresh subprocess, report.

    python -m benchmarks [--quick] [--only a,b,...] [--profile SCENARIO] [--keep] [-v]

Wall time is measured around the child process (interpreter start and imports included: that is what an
operator waits for); peak memory is the larger of the largest resident set of any process of the child's tree (as
the kernel reports it to ``wait4``) and the largest sum of the tree's resident sets sampled every 0.2 s (two
processes at once). Results go to ``benchmarks/results/<scale>.json`` (gitignored), the work folder (warehouse,
site, exports, Dagster storage, drop folder) to ``benchmarks/results/<scale>/``; the generated mirror is cached
in ``benchmarks/results/cache/mirror-<scale>`` and reused while its scale, seed and generator version match.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bwm.settings import child_environment

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SEED = 20240101
GIB = 1024 ** 3

#: Scenarios in the order they run; each needs the ones before it (the refresh builds the warehouse the rest use).
ORDER = ["physical_floor", "floor", "full_rebuild", "nightly", "nightly_bwm_run", "municipal_change", "site",
         "exports", "core", "baseline"]
LABELS = {
    "mirror": "generate the synthetic mirror (once, cached)",
    "physical_floor": "physical floor: read_json of the mirror, KWB long",
    "floor": "floor: DuckDB reads the raw mirror into staging",
    "full_rebuild": "(a) full rebuild: mirror -> site and exports",
    "nightly": "(b) nightly refresh, nothing changed (schedule)",
    "nightly_bwm_run": "(b') for contrast: `bwm run`, nothing changed",
    "municipal_change": "(c) refresh after one municipal file changed",
    "site": "(d) build the site alone",
    "exports": "(e) export all indicators, all gemeenten (Parquet+XLSX)",
    "core": "compute core: mirror -> divide.measures (in-process)",
    "baseline": "baseline: pandas, the same values and measures",
}
#: Targets of issue 16 (national scale, this 2-core machine): figure -> goal. Seconds are "at most", the others
#: say which way is better in GOAL_HIGHER.
GOALS = {
    "full_rebuild": 120.0,            # (a) s
    "full_rebuild_over_floor": 4.0,   # (a) / physical floor, x
    "municipal_change": 15.0,         # (c) s
    "nightly": 5.0,                   # (b) s
    "pages_per_second": 400.0,        # (d)
    "exports": 20.0,                  # (e) s
    "baseline_over_core": 3.0,        # baseline / compute core, x
    "peak_memory_gib": 4.0,           # any scenario
    "median_buurt_page_kb": 80.0,     # HTML without the shared scripts
}
GOAL_HIGHER = {"pages_per_second", "baseline_over_core"}
#: The municipal file the municipal_change scenario edits (one of the demo's files, valid at both scales).
CHANGED_FILE = "schuldhulp_zuiderhaven.csv"


def log(msg: str = "") -> None:
    print(msg, flush=True)


# --- the mirror ---------------------------------------------------------------------------------------------


def prepare_mirror(scale: str) -> tuple[Path, dict]:
    """The cached synthetic mirror of ``scale``, generated (in a subprocess, timed) when missing or outdated."""
    from bwm.sources import DEMO_GENERATOR_VERSION, DEMO_MARKER

    mirror = RESULTS / "cache" / f"mirror-{scale}"
    wanted = {"scale": scale, "seed": SEED, "generator_version": DEMO_GENERATOR_VERSION}
    marker = mirror / DEMO_MARKER
    if marker.is_file() and json.loads(marker.read_text()) == wanted and _mirror_complete(mirror):
        log(f"mirror: {mirror} (cached; {_size(mirror) / GIB:.2f} GiB)")
        return mirror, {"cached": True, "bytes": _size(mirror)}
    shutil.rmtree(mirror, ignore_errors=True)
    mirror.mkdir(parents=True)
    log(f"mirror: generating the synthetic {scale} mirror in {mirror} ...")
    code = (f"from bwm.synth.writer import generate_mirror; "
            f"generate_mirror({str(mirror)!r}, scale={scale!r}, seed={SEED})")
    result = measure("mirror", [sys.executable, "-c", code], child_environment(drop_prefixes=()),
                     RESULTS / f"mirror-{scale}.log")
    if not result["ok"]:
        raise SystemExit(f"generating the mirror failed; see {RESULTS / f'mirror-{scale}.log'}")
    marker.write_text(json.dumps(wanted, indent=2) + "\n")
    result.update(cached=False, bytes=_size(mirror))
    return mirror, result


def _mirror_complete(mirror: Path) -> bool:
    from bwm.cbs.mirror import read_manifest
    from bwm.settings import Settings
    from bwm.sources import expected_tables

    tables = expected_tables(Settings.from_env({"BWM_SOURCE": "mirror", "BWM_MIRROR_DIR": str(mirror)}))
    return all(read_manifest(mirror, t.table_id) is not None for t in tables)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --- running one scenario -----------------------------------------------------------------------------------


class TreeMemory(threading.Thread):
    """Samples the summed resident memory of a process and all its descendants (every 0.2 s, from /proc).

    ``wait4``'s maximum RSS is that of the largest single process; a scenario that runs two processes at once
    (the site and the exports render in two) takes their sum, which is what the memory target is about.
    """

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop_event = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _tree_rss(self) -> int:
        parents, rss = {}, {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
                rss[int(entry.name)] = int(fields[21]) * self._page
            except (OSError, IndexError, ValueError):
                continue
        tree, todo = set(), [self.pid]
        while todo:
            pid = todo.pop()
            tree.add(pid)
            todo += [p for p, parent in parents.items() if parent == pid and p not in tree]
        return sum(rss.get(p, 0) for p in tree)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.peak = max(self.peak, self._tree_rss())

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def measure(name: str, argv: list[str], env: dict, log_path: Path, verbose: bool = False,
            timeout: float | None = None) -> dict:
    """Run ``argv`` as a child; wall seconds, peak RSS of its process tree (bytes), exit code, its BENCH fields."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as out:
        child = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE if verbose else out,
                                 stderr=subprocess.STDOUT, text=verbose)
        sampler = TreeMemory(child.pid)
        sampler.start()
        if verbose:
            for line in child.stdout:
                out.write(line)
                print(f"    | {line}", end="", flush=True)
        deadline = None if timeout is None else started + timeout
        stopped = False
        while True:  # wait4 gives this child's own resource usage (max RSS over it and its waited-for children)
            pid, status, usage = os.wait4(child.pid, os.WNOHANG if deadline else 0)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                stopped, deadline = True, None
            time.sleep(0.05)
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    # the largest of: any single process (wait4), and the sampled sum of the processes running at once
    peak = max(usage.ru_maxrss * 1024, sampler.stop())
    if stopped:
        log(f"  stopped after {timeout:.0f} s (--timeout); the figure is a lower bound")
        fields = {}
        for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("BENCH "):
                fields.update(json.loads(line[6:]))
        return {"name": name, "seconds": round(wall, 2), "peak_rss_bytes": peak,
                "exit_code": child.returncode, "ok": True, "stopped": True, "log": str(log_path.relative_to(ROOT)),
                "load": load, **fields}
    fields = {}
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("BENCH "):
            fields.update(json.loads(line[6:]))
    result = {"name": name, "seconds": round(wall, 2), "peak_rss_bytes": peak,
              "exit_code": child.returncode, "ok": child.returncode == 0, "log": str(log_path.relative_to(ROOT)),
              "load": load, **fields}
    if not result["ok"]:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        log(f"  FAILED (exit {child.returncode}); last lines of {log_path}:")
        log("\n".join(f"    {t}" for t in tail))
    return result


def bench_env(mirror: Path, work: Path, warehouse: Path | None = None) -> dict:
    """The environment of a scenario: this one's BWM_* settings only (none inherited from the caller)."""
    env = child_environment()
    env.update({
        "BWM_SOURCE": "mirror", "BWM_MIRROR_DIR": str(mirror),
        "BWM_WAREHOUSE": str(warehouse or work / "warehouse" / "bwm.duckdb"),
        "BWM_SITE_DIR": str(work / "site"), "BWM_EXPORT_DIR": str(work / "exports"),
        "BWM_DAGSTER_STORAGE": str(work / "dagster"), "BWM_MUNICIPAL_DIR": str(work / "municipal"),
        "DAGSTER_HOME": str(ROOT), "PYTHONUNBUFFERED": "1",
    })
    return env


def _refresh_steps(log_path: Path) -> dict[str, float]:
    """Seconds per asset from the progress lines of `bwm run` ('done  <asset> (<s> s)')."""
    steps = {}
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        part = line.split("] done  ", 1)
        if len(part) == 2 and part[1].endswith(" s)"):
            asset, _, took = part[1].rpartition(" (")
            steps[asset] = float(took[:-3])
    return dict(sorted(steps.items(), key=lambda kv: -kv[1]))


# --- what is measured after the scenarios ------------------------------------------------------------------


def page_sizes(site: Path) -> dict:
    """Sizes of the neighbourhood pages (wijk and buurt; plotly.min.js is shared, so not counted) and others."""
    out = {}
    for kind in ("buurt", "wijk", "gemeente", "indicator"):
        sizes = sorted(p.stat().st_size for p in (site / kind).glob("*.html")) if (site / kind).is_dir() else []
        if sizes:
            largest = max((site / kind).glob("*.html"), key=lambda p: p.stat().st_size)
            out[kind] = {"pages": len(sizes), "max_bytes": sizes[-1], "median_bytes": int(statistics.median(sizes)),
                         "largest": largest.name}
    shared = site / "assets" / "plotly.min.js"
    if shared.is_file():
        out["shared_plotly_js_bytes"] = shared.stat().st_size
    out["site_bytes"] = _size(site) if site.is_dir() else 0
    return out


def compare_with_pipeline(baseline_csv: Path, warehouse: Path) -> dict:
    """Largest difference between the baseline's divide measures and the pipeline's (divide.measures, buurten)."""
    import duckdb

    with open(baseline_csv, encoding="utf-8") as fh:
        base = {(r["gemeente_code"], int(r["year"]), r["indicator_id"]): r for r in csv.DictReader(fh)}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select gemeente_code, year, indicator_id, worst20_mean, best20_mean, gap, ratio, theil_total "
            "from divide.measures where level = 'buurt' and indicator_id in ('inkomen_per_inwoner', 'eenzaam')"
        ).fetchall()
    finally:
        con.close()
    columns = ["worst20_mean", "best20_mean", "gap", "ratio", "theil_total"]
    worst = {c: 0.0 for c in columns}
    where = {}
    compared, missing, both_null = 0, 0, 0
    for gm, year, ind, *values in rows:
        b = base.get((gm, int(year), ind))
        if b is None:
            missing += 1
            continue
        compared += 1
        for col, v in zip(columns, values):
            bv = float(b[col]) if b[col] not in ("", "nan") else math.nan
            if v is None or math.isnan(bv):
                both_null += (v is None) == math.isnan(bv)
                if (v is None) != math.isnan(bv) and not (col == "theil_total" and ind != "inkomen_per_inwoner"):
                    worst[col] = math.inf
                    where[col] = (gm, year, ind, v, bv)
                continue
            diff = abs(v - bv) / max(1.0, abs(v))  # relative for large values (euro), absolute for small
            if diff > worst[col]:
                worst[col], where[col] = diff, (gm, year, ind, v, bv)
    return {"groups_compared": compared, "groups_only_in_pipeline": missing,
            "baseline_groups": len(base), "max_difference": worst,
            "max_difference_at": {k: list(v) for k, v in where.items()},
            "note": "difference relative to the pipeline's value where that exceeds 1, absolute otherwise"}


# --- report -------------------------------------------------------------------------------------------------


def _gib(n: float) -> str:
    return f"{n / GIB:.2f} GiB"


def _verdict(value: float, target: float, higher_is_better: bool = False, unit: str = "") -> str:
    met = value >= target if higher_is_better else value <= target
    if met:
        return "met"
    if higher_is_better:
        return f"MISSED ({target / value:.1f}x short)" if value else "MISSED"
    return f"MISSED by {value - target:,.1f}{unit} ({value / target:.1f}x the goal)"


def _load(r: dict | None) -> str:
    """The machine's 1-minute load average at the start and the end of a scenario (the machine is shared)."""
    if not r or "load" not in r:
        return ""
    return f"{r['load'][0]:.1f}-{r['load'][1]:.1f}"


def targets(report: dict) -> list[dict]:
    """Every figure of issue 16's table beside its goal: figure, measured, goal, verdict, load (``uptime``'s
    1-minute average at the start and end of the scenarios it comes from)."""
    s = report["scenarios"]
    rows = []

    def row(figure: str, key: str, value: float | None, unit: str, fmt: str, more: bool = False,
            load: str = "", note: str = "") -> None:
        goal = GOALS[key]
        higher = key in GOAL_HIGHER
        goal_text = f"{'>=' if higher else '<='} {goal:{fmt}}{unit}"
        if value is None:
            rows.append({"figure": figure, "value": "not measured", "goal": goal_text,
                         "verdict": note or "not measured", "load": load})
            return
        verdict = _verdict(value, goal, higher_is_better=higher, unit=unit)
        if more:  # stopped by --timeout: the value is a bound
            verdict = verdict.replace("MISSED by", "MISSED by more than")
        rows.append({"figure": figure, "value": f"{'> ' if more else ''}{value:{fmt}}{unit}", "goal": goal_text,
                     "verdict": verdict, "load": load})

    def seconds(name: str) -> float | None:
        return s[name]["seconds"] if s.get(name, {}).get("ok") else None

    a = s.get("full_rebuild")
    row("(a) full rebuild, mirror -> site and exports, every check", "full_rebuild", seconds("full_rebuild"),
        " s", ".1f", bool(a and a.get("stopped")), _load(a))
    ratio = report.get("ratios", {}).get("full_rebuild_over_physical_floor")
    row("(a) / physical floor (benchmarks/physical_floor.py)", "full_rebuild_over_floor", ratio, "x", ".2f",
        load=_load(s.get("physical_floor")))
    row("(c) one municipal file of one gemeente changed", "municipal_change", seconds("municipal_change"), " s",
        ".1f", bool(s.get("municipal_change", {}).get("stopped")), _load(s.get("municipal_change")))
    row("(b) nightly, nothing changed", "nightly", seconds("nightly"), " s", ".1f", load=_load(s.get("nightly")))
    d = s.get("site")
    pages = d.get("pages") if d else None
    pages = sum(pages.values()) if isinstance(pages, dict) else pages  # the site reports pages per kind
    pps = pages / d["seconds"] if d and d.get("ok") and pages and d["seconds"] else None
    row("(d) site pages rendered per second, every page", "pages_per_second", pps, "/s", ".0f", load=_load(d))
    row("(e) exports of all gemeenten (Parquet + XLSX)", "exports", seconds("exports"), " s", ".1f",
        load=_load(s.get("exports")))
    core, base = s.get("core"), s.get("baseline")
    core_s = core.get("compute_seconds", core["seconds"]) if core and core.get("ok") else None
    base_s = base.get("compute_seconds", base["seconds"]) if base and base.get("ok") else None
    agrees = (base or {}).get("agrees", True)
    note = ("the baseline's values differ from the pipeline's" if base_s and not agrees
            else "needs the core and baseline scenarios")
    row("compute core (mirror -> divide.measures) vs pandas baseline (baseline / core)", "baseline_over_core",
        base_s / core_s if core_s and base_s and agrees else None, "x", ".2f",
        load=f"{_load(core)} / {_load(base)}" if core or base else "", note=note)
    peaks = {n: r["peak_rss_bytes"] for n, r in s.items() if n not in ("baseline", "physical_floor")}
    top = max(peaks, key=peaks.get) if peaks else None
    row(f"peak memory of any scenario{f' ({top})' if top else ''}", "peak_memory_gib",
        peaks[top] / GIB if top else None, " GiB", ".2f", load=_load(s.get(top)) if top else "")
    buurt = report.get("pages", {}).get("buurt")
    row("median buurt page (HTML, without the shared scripts)", "median_buurt_page_kb",
        buurt["median_bytes"] / 1024 if buurt else None, " KB", ".0f", load=_load(s.get("full_rebuild")))
    return rows


def _earlier(report: dict, name: str, r: dict) -> str:
    """For a result that an --only run kept from an earlier run: when, and whether on this code."""
    if name == "mirror" or name in report.get("run_now", ORDER):
        return ""
    when = f" of {r['when'][:16]}" if r.get("when") else ""
    code = ("same code" if r.get("git") == report.get("git") else f"other code: {r['git']}") if r.get("git") \
        else "code not recorded"
    return f"  (earlier run{when}, {code})"


def print_report(report: dict) -> None:
    s = report["scenarios"]
    log()
    log(f"== Benchmark results: scale {report['scale']} ({report['areas']}) on {report['machine']['cpus']} cores, "
        f"{report['machine']['memory_gib']} GiB")
    log(f"{'scenario':<58} {'wall':>9} {'peak RSS':>10}  status")
    for name in ["mirror", *ORDER]:
        r = s.get(name) or (report["mirror"] if name == "mirror" and not report["mirror"].get("cached") else None)
        if r is None:
            continue
        status = "stopped (--timeout): more than this" if r.get("stopped") else "ok" if r["ok"] else "FAILED"
        log(f"{LABELS[name]:<58} {r['seconds']:>7.1f} s {_gib(r['peak_rss_bytes']):>10}  {status}"
            + (f"  (load {_load(r)})" if r.get("load") else "") + _earlier(report, name, r))
    if "full_rebuild" in s and s["full_rebuild"].get("steps"):
        top = list(s["full_rebuild"]["steps"].items())[:8]
        log("   slowest assets of (a): " + ", ".join(f"{k} {v:.1f} s" for k, v in top))
    if "nightly" in s:
        n = s["nightly"]
        log(f"   (b) schedule decided '{n.get('decision')}' in {n.get('decide_seconds')} s"
            + (f" ({n.get('skip_message')})" if n.get("skip_message")
               else f", ran {len(n.get('selected', []))} assets"))
    if "municipal_change" in s:
        m = s["municipal_change"]
        log(f"   (c) sensor selected {len(m.get('sensor_selected', []))} assets "
            f"({', '.join(m.get('sensor_selected', []))}); ran {len(m.get('executed', []))} "
            f"(with the multi-asset's other outputs and everything downstream)")
    for k, v in report.get("ratios", {}).items():
        log(f"   {k.replace('_', ' ')}: x{v:.2f}")
    if report.get("ratio_note"):
        log(f"   note: {report['ratio_note']}")
    pages = report.get("pages", {})
    for kind in ("buurt", "wijk", "gemeente", "indicator"):
        if kind in pages:
            p = pages[kind]
            log(f"   {kind} pages: {p['pages']:,}, largest {p['max_bytes'] / 1024:.0f} KB ({p['largest']}), "
                f"median {p['median_bytes'] / 1024:.0f} KB")
    if "baseline_pages" in report:
        b = report["baseline_pages"]
        log(f"   baseline pages: {b['pages']}, median {b['median_bytes'] / 1024:.0f} KB each (plotly.js inlined)")
    if "agreement" in report:
        a = report["agreement"]
        diffs = ", ".join(f"{k} {v:.2g}" for k, v in a["max_difference"].items())
        log(f"   baseline vs divide.measures: {a['groups_compared']} (gemeente, year, indicator) compared; "
            f"max difference: {diffs}")
    log()
    log("Targets of issue 16" + ("" if report["scale"] == "national"
                                 else " (they apply to the national scale; shown for form)"))
    log(f"  {'figure':<78} {'measured':>16} {'goal':>12}  {'load (1 min)':<13} verdict")
    for t in report["targets"]:
        log(f"  {t['figure']:<78} {t['value']:>16} {t['goal']:>12}  {t['load']:<13} {t['verdict']}")
    stale = [n for n in ORDER if n in s and _earlier(report, n, s[n])]
    if stale:
        log(f"  Kept from an earlier run (marked above, with whether it ran this code): {', '.join(stale)}; a "
            "row above that uses them mixes runs.")
    log()
    log(f"Written: {report['json']}")


# --- main ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="demo scale (3 municipalities): a minute, for CI")
    parser.add_argument("--only", help=f"comma-separated scenarios of {','.join(ORDER)} (default all); the ones "
                                       "after full_rebuild reuse the work folder of an earlier run")
    parser.add_argument("--profile", metavar="SCENARIO",
                        help="run this scenario (not the baseline) under pyinstrument instead of timing the rest; "
                             "writes benchmarks/results/<scale>/profile-<scenario>.txt")
    parser.add_argument("--timeout", type=float, help="stop a scenario after this many seconds and report it as "
                                                       "'more than' (default: none; 900 with --quick)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the scenarios' own output")
    args = parser.parse_args(argv)
    scale = "demo" if args.quick else "national"
    only = [s.strip() for s in args.only.split(",")] if args.only else list(ORDER)
    unknown = [s for s in only if s not in ORDER]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(ORDER)}")
    sys.path.insert(0, str(ROOT))
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = RESULTS / scale
    logs = work / "logs"
    mirror, mirror_result = prepare_mirror(scale)
    py = sys.executable
    timeout = args.timeout or (900 if args.quick else None)

    if args.profile:
        env = bench_env(mirror, work)
        out = work / f"profile-{args.profile}.txt"
        argv = [py, "-m", "pyinstrument", "-r", "text", "-o", str(out), "-m", "benchmarks.scenarios",
                *_scenario_argv(args.profile, work)]
        if args.profile == "municipal_change":
            _change_municipal_file(work)
        r = measure(args.profile, argv, env, logs / f"profile-{args.profile}.log", args.verbose, timeout)
        log(f"profile of {args.profile}: {r['seconds']:.1f} s (with profiler overhead) -> {out}")
        return 0 if r["ok"] else 1

    if "full_rebuild" in only or not (work / "warehouse" / "bwm.duckdb").exists():
        if not set(only) <= {"physical_floor", "floor", "core"} and "full_rebuild" not in only:
            parser.error(f"no warehouse in {work}: run with full_rebuild first (or without --only)")
        shutil.rmtree(work, ignore_errors=True)
        (work / "municipal").mkdir(parents=True)
        for f in (ROOT / "data" / "municipal" / "demo").iterdir():
            if f.is_file():
                shutil.copy2(f, work / "municipal" / f.name)

    scenarios: dict[str, dict] = {}
    json_path = RESULTS / f"{scale}.json"
    previous = json.loads(json_path.read_text()) if json_path.exists() and args.only else {}
    scenarios.update(previous.get("scenarios", {}))
    for name in ORDER:
        if name not in only:
            continue
        log(f"running {LABELS[name]} ...")
        env = bench_env(mirror, work)
        if name in ("floor", "core", "physical_floor"):  # a warehouse of their own, removed afterwards
            own_wh = work / name / f"{name}.duckdb"
            shutil.rmtree(own_wh.parent, ignore_errors=True)
            own_wh.parent.mkdir(parents=True)
            env = bench_env(mirror, work, warehouse=own_wh)
        if name == "municipal_change":
            _change_municipal_file(work)
        argv = ([py, "-m", "benchmarks.baseline", "--mirror", str(mirror), "--out", str(work / "baseline")]
                if name == "baseline" else
                [py, "-m", "benchmarks.physical_floor", str(mirror), str(work / name / f"{name}.duckdb")]
                if name == "physical_floor" else [py, "-m", "benchmarks.scenarios", *_scenario_argv(name, work)])
        if name == "baseline":
            shutil.rmtree(work / "baseline", ignore_errors=True)
        r = measure(name, argv, env, logs / f"{name}.log", args.verbose, timeout)
        if name in ("full_rebuild", "nightly_bwm_run"):
            r["steps"] = _refresh_steps(logs / f"{name}.log")
        if name in ("floor", "core", "physical_floor"):
            shutil.rmtree(work / name, ignore_errors=True)
        # when and on which code: a later --only run keeps this result beside its own, and says so
        r.update(when=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), git=_git())
        scenarios[name] = r
        log(f"  {r['seconds']:.1f} s, peak {_gib(r['peak_rss_bytes'])}{'' if r['ok'] else '  FAILED'}")

    report = {"scale": scale, "when": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
              "machine": _machine(), "git": _git(), "mirror": mirror_result, "scenarios": scenarios,
              "areas": _areas(work / "warehouse" / "bwm.duckdb"), "json": str(json_path.relative_to(ROOT)),
              "run_now": [n for n in ORDER if n in only]}
    if (work / "site").is_dir():
        report["pages"] = page_sizes(work / "site")
    base_pages = sorted(p.stat().st_size for p in (work / "baseline" / "gemeente").glob("*.html")) \
        if (work / "baseline" / "gemeente").is_dir() else []
    if base_pages:
        report["baseline_pages"] = {"pages": len(base_pages), "median_bytes": int(statistics.median(base_pages))}
    if (work / "baseline" / "measures.csv").is_file() and (work / "warehouse" / "bwm.duckdb").is_file():
        report["agreement"] = compare_with_pipeline(work / "baseline" / "measures.csv",
                                                    work / "warehouse" / "bwm.duckdb")
    ratios = {}
    complete = {n: r for n, r in scenarios.items() if r.get("ok")}  # a stopped (a) gives bounds, not figures
    if scenarios.get("full_rebuild", {}).get("stopped"):
        report["ratio_note"] = "(a) was stopped: (a)/floor and (a)/physical floor are lower bounds"
    if "full_rebuild" in complete and "floor" in complete:
        ratios["full_rebuild_over_floor"] = scenarios["full_rebuild"]["seconds"] / scenarios["floor"]["seconds"]
    if "full_rebuild" in complete and "physical_floor" in complete:
        ratios["full_rebuild_over_physical_floor"] = (scenarios["full_rebuild"]["seconds"]
                                                      / scenarios["physical_floor"]["seconds"])
    report["ratios"] = {k: round(v, 2) for k, v in ratios.items()}
    report["targets"] = targets(report)
    json_path.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    print_report(report)
    failed = [n for n, r in scenarios.items() if not r["ok"]]
    if failed:
        log(f"FAILED scenarios: {', '.join(failed)} (see their logs in {logs})")
    return 1 if failed else 0


def _scenario_argv(name: str, work: Path) -> list[str]:
    return {"floor": ["floor"], "full_rebuild": ["refresh"], "nightly": ["nightly"], "nightly_bwm_run": ["refresh"],
            "municipal_change": ["municipal", str(work / "municipal.cursor")], "site": ["site"],
            "exports": ["exports", str(work / "exports-e")], "core": ["core"]}[name]


def _change_municipal_file(work: Path) -> None:
    """Remember the drop folder as the sensor last saw it (its cursor), then change one figure of one file."""
    from bwm.ops.changes import current_files

    folder = work / "municipal"
    files = current_files(folder)
    (work / "municipal.cursor").write_text(",".join(f"{n}={d}" for n, d in sorted(files.items())), encoding="utf-8")
    path = folder / CHANGED_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    code, year, indicator, value, cases = lines[1].rstrip("\r\n").split(",")
    lines[1] = f"{code},{year},{indicator},{int(value) + 1},{cases}\n"
    path.write_text("".join(lines), encoding="utf-8")


def _areas(warehouse: Path) -> str:
    if not warehouse.is_file():
        return "no warehouse"
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
        year, gm, wk, bu = con.execute(
            "select max(year), count(*) filter (area_level = 'gemeente'), count(*) filter (area_level = 'wijk'), "
            "count(*) filter (area_level = 'buurt') from staging.areas "
            "where year = (select max(year) from staging.areas)"
        ).fetchone()
        years = con.execute("select count(distinct year) from staging.areas").fetchone()[0]
        con.close()
    except Exception as exc:  # noqa: BLE001 - a description only
        return f"warehouse unreadable: {exc}"
    return f"{gm} gemeenten, {wk:,} wijken, {bu:,} buurten in {year}; {years} KWB years"


def _machine() -> dict:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    import duckdb
    import polars

    return {"cpus": os.cpu_count(), "memory_gib": round(mem / GIB, 1), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "polars": polars.__version__, "platform": platform.platform()}


def _git() -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{head}{'+changes' if dirty else ''}" or None
    except (OSError, subprocess.SubprocessError):
        return None
