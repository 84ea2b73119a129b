"""`bwm`: the command line of the Brede Welvaart Monitor.

    bwm demo                      build the demo (synthetic) mirror and warehouse, print where they are
    bwm run                       run the refresh job with the BWM_* settings of the environment
    bwm mirror download IDS...    download CBS tables into a mirror folder (for locked-down networks)
    bwm mirror list               list the tables in a mirror folder
    bwm mirror import DIRS...     check folders written by cbsodata.download_data and add them to a mirror
    bwm mirror serve              serve a mirror folder as a local CBS OData feed (replay server)
    bwm mirror geo                download the CBS wijk- en buurtkaart (boundaries) into a mirror folder
    bwm synth                     write a synthetic mirror (demo or national scale) to a folder
    bwm site build                build the static site (dashboards) from the warehouse
    bwm export                    write indicator tables (CSV, Parquet, XLSX) for chosen municipalities, themes, years
    bwm dev                       start the Dagster UI with this code location
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bwm.settings import CSV_DIALECTS, Settings, SettingsError, prepare_dagster_home


def _say(msg: str) -> None:
    print(f"  {msg}", flush=True)


def run_refresh(settings: Settings) -> bool:
    """Run the refresh job in this process, one progress line per asset and check. Returns success.

    Holds the refresh lock for the whole run (a second refresh stops at once with a clear message), and
    first marks runs of earlier `bwm run` processes that died (killed, power cut) as failed, so they
    neither show as running forever nor hold concurrency slots.
    """
    prepare_dagster_home(settings)
    import dagster as dg

    from bwm.ops.alerts import failed_checks, failed_checks_message, notify_failure
    from bwm.ops.lock import RefreshLocked, refresh_lock
    from pipelines.definitions import definitions
    from pipelines.ops.progress import failure_text
    from pipelines.ops.recover import fail_dead_runs
    from pipelines.resources import BwmResource

    instance = dg.DagsterInstance.get()
    job = definitions(BwmResource.of(settings)).resolve_job_def("refresh")
    started = time.monotonic()
    print(f"Refresh: source={settings.source}, mirror={settings.mirror_dir}", flush=True)
    try:
        with refresh_lock(settings.warehouse_path, owner=f"bwm run (pid {os.getpid()})"):
            for run_id in fail_dead_runs(instance):
                print(f"  note: marked run {run_id} as failed (its process is gone); redoing its work", flush=True)
            result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                tags={"bwm/pid": str(os.getpid()), "bwm/trigger": "cli"},
                run_config={"loggers": {"progress": {}}},
            )
    except RefreshLocked as exc:
        print(f"Refresh NOT started: {exc}", file=sys.stderr, flush=True)
        return False
    failed = failed_checks(e.event_specific_data for e in result.all_events
                           if e.event_type_value == "ASSET_CHECK_EVALUATION")
    for data in failed:
        report = data.metadata.get("report")
        if report is not None:  # e.g. a rejected municipal file: say what to fix right here
            text = str(getattr(report, "value", report)).strip().strip("`").strip()
            print(f"  {data.check_name}:", flush=True)
            print("\n".join(f"        {line}" for line in text.splitlines()), flush=True)
    print(f"Refresh {'finished' if result.success else 'FAILED'} in {time.monotonic() - started:.1f} s "
          f"(run {result.run_id})", flush=True)
    if failed:
        message = failed_checks_message(failed)
        print(f"{message}. See the check's metadata in the Dagster UI (`make dev`) for the rows concerned.", flush=True)
        if result.success:  # a failed run is alerted below, with its failed step
            notify_failure("refresh", result.run_id, message, webhook=settings.alert_webhook)
    if not result.success:
        failure = next((e for e in result.all_events if e.event_type_value == "STEP_FAILURE"), None)
        message = failure_text(failure.event_specific_data.error) if failure else "the run failed"
        if failed:
            message += f" ({failed_checks_message(failed)})"
        notify_failure("refresh", result.run_id, message, webhook=settings.alert_webhook)
        print("Nothing of the failed steps was published: the previous warehouse tables and site stay in place. "
              "Fix the error above and run again.", flush=True)
    return result.success and not failed


def cmd_demo(args: argparse.Namespace) -> int:
    settings = Settings.from_env()  # BWM_SOURCE defaults to demo
    ok = run_refresh(settings)
    print()
    print(f"Mirror (synthetic CBS tables): {settings.mirror_dir}")
    print(f"Warehouse (DuckDB):            {settings.warehouse_path}")
    print(f"Municipal data files:          {settings.municipal_dir}{_file_summary(settings)}")
    print(f"Exports (CSV, Parquet, XLSX):  {settings.export_dir}")
    if ok:
        print(f"Open it with: .venv/bin/python -c \"import duckdb; duckdb.connect('{settings.warehouse_path}', "
              "read_only=True).sql('select * from staging.areas limit 5').show()\"")
    _print_site_index(settings.site_dir)  # the last line: where the pages are
    return 0 if ok else 1


def _file_summary(settings: Settings) -> str:
    """' (3 accepted, 0 rejected)' from municipal.file_status, or '' when the warehouse does not have it."""
    from bwm import warehouse

    try:
        with warehouse.connect(settings.warehouse_path, read_only=True) as con:
            accepted, rejected = con.execute(
                "select count(distinct file) filter (status = 'accepted'), "
                "count(distinct file) filter (status = 'rejected') from municipal.file_status").fetchone()
    except Exception:  # noqa: BLE001 - only a summary line; the refresh itself reported any failure
        return ""
    return f" ({accepted} accepted, {rejected} rejected)"


def _print_site_index(site_dir: Path) -> None:
    index = site_dir / "index.html"
    if index.is_file():
        print("Site (open this file in a browser; it works offline, also from a file share):")
        print(index)


def cmd_site_build(args: argparse.Namespace) -> int:
    from bwm.site.build import SiteBuildError, build_site
    from bwm.warehouse import WarehouseError

    settings = Settings.from_env()
    out = Path(args.out).resolve() if args.out else settings.site_dir
    try:
        result = build_site(settings.warehouse_path, out, mirror_dir=settings.mirror_dir, progress=_say,
                            reuse=not args.full)
    except (SiteBuildError, WarehouseError) as exc:
        print(f"The site was not built (the previous one, if any, is unchanged): {exc}", file=sys.stderr)
        return 1
    pages = ", ".join(f"{n} {kind}" for kind, n in sorted(result.pages.items()))
    print(f"Built {sum(result.pages.values())} pages ({pages}) in {result.seconds:.1f} s; "
          f"{result.rendered} gemeenten rendered, {result.reused} unchanged since the previous build")
    _print_site_index(out)
    return 0


def cmd_mirror_geo(args: argparse.Namespace) -> int:
    from bwm import geo
    from bwm.settings import parse_municipalities, parse_years

    settings = Settings.from_env()
    mirror_dir = Path(args.mirror).resolve() if args.mirror else settings.mirror_dir
    municipalities = parse_municipalities(args.municipalities) if args.municipalities else settings.municipalities
    failed = 0
    for year in parse_years(args.years or ""):
        try:
            got = geo.download_year(year, mirror_dir, municipalities, settings.geo_base_url,
                                    timeout=settings.http_timeout_s, retries=settings.http_retries, progress=_say)
        except geo.GeoError as exc:
            print(f"  {year} FAILED: {exc}", file=sys.stderr, flush=True)
            failed += 1
            continue
        print(f"{year}: " + ", ".join(f"{layer} {status}" for layer, status in got.items()), flush=True)
    print(f"Mirror: {mirror_dir}")
    return 1 if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    return 0 if run_refresh(Settings.from_env()) else 1


def cmd_mirror_download(args: argparse.Namespace) -> int:
    from bwm import registry
    from bwm.cbs import client
    from bwm.harmonise import keymap
    from bwm.settings import parse_municipalities, parse_years

    settings = Settings.from_env()
    mirror_dir = Path(args.mirror).resolve() if args.mirror else settings.mirror_dir
    ids = [t.upper() for t in args.table_ids]
    if args.kwb_years:
        ids += [keymap.kwb_table(y).table_id for y in parse_years(args.kwb_years)]
    if args.health:
        ids.append(registry.health_table(settings).table_id)
    if not ids:
        print("Name one or more table ids (e.g. 85984NED), or use --kwb-years 2013-2024 and/or --health.",
              file=sys.stderr)
        return 2
    municipalities = parse_municipalities(args.municipalities) if args.municipalities else settings.municipalities
    failed = 0
    for i, table_id in enumerate(dict.fromkeys(ids), 1):
        print(f"[{i}/{len(ids)}] {table_id}", flush=True)
        try:
            result = client.download_table(table_id, mirror_dir, municipalities=municipalities, settings=settings,
                                           force=args.force, progress=_say)
        except client.CbsDownloadError as exc:
            print(f"  FAILED: {exc}", file=sys.stderr, flush=True)
            failed += 1
            continue
        print(f"  {result.status}: {result.row_count} rows, CBS modified {result.modified}", flush=True)
    print(f"Mirror: {mirror_dir}")
    return 1 if failed else 0


def cmd_mirror_list(args: argparse.Namespace) -> int:
    from bwm.cbs import mirror

    mirror_dir = Path(args.mirror).resolve() if args.mirror else Settings.from_env().mirror_dir
    tables = mirror.list_tables(mirror_dir)
    if not tables:
        print(f"No complete tables in {mirror_dir}.")
        return 0
    print(f"{'table':<10} {'rows':>8}  {'CBS modified':<20} {'retrieved':<26} source  title")
    for m in tables:
        print(f"{m['table_id']:<10} {m.get('row_count', ''):>8}  {str(m.get('modified')):<20} "
              f"{str(m.get('retrieved_at')):<26} {m.get('source', ''):<7} {m.get('title', '')}")
    return 0


def cmd_mirror_import(args: argparse.Namespace) -> int:
    from bwm.cbs import importer, mirror

    mirror_dir = Path(args.mirror).resolve() if args.mirror else Settings.from_env().mirror_dir
    if args.table_id and len(args.dirs) > 1:
        print("--table-id names the table of one folder: import the folders one at a time, or leave --table-id "
              "out (each folder's TableInfos.json names its table).", file=sys.stderr)
        return 2
    failed = 0
    for i, raw in enumerate(args.dirs, 1):
        src = Path(raw).resolve()
        print(f"[{i}/{len(args.dirs)}] {src}", flush=True)
        untyped = not (src / "TypedDataSet.json").is_file() and (src / "UntypedDataSet.json").is_file()
        try:
            path = importer.import_folder(src, mirror_dir, table_id=args.table_id)
        except mirror.MirrorError as exc:
            print(f"  FAILED: {exc}", file=sys.stderr, flush=True)
            failed += 1
            continue
        manifest = mirror.read_manifest(mirror_dir, path.name) or {}
        note = " (UntypedDataSet.json converted to typed values)" if untyped else ""
        print(f"  imported {manifest.get('table_id')}: {manifest.get('row_count')} rows, CBS modified "
              f"{manifest.get('modified')}{note}, into {path}", flush=True)
    print(f"Mirror: {mirror_dir}")
    if failed:
        print(f"{failed} of {len(args.dirs)} folder(s) NOT imported (see above); the mirror's copies of those "
              "tables, if any, are unchanged.", file=sys.stderr)
    return 1 if failed else 0


def cmd_mirror_serve(args: argparse.Namespace) -> int:
    from bwm.cbs import replay

    mirror_dir = Path(args.mirror).resolve() if args.mirror else Settings.from_env().mirror_dir
    argv = ["--mirror", str(mirror_dir), "--port", str(args.port), "--host", args.host]
    if args.catalog:
        argv += ["--catalog", args.catalog]
    for spec in args.fault:
        argv += ["--fault", spec]
    return replay.main(argv) or 0


def cmd_synth(args: argparse.Namespace) -> int:
    from bwm.synth.writer import generate_mirror

    out = Path(args.out).resolve()
    started = time.monotonic()
    tables = generate_mirror(out, scale=args.scale, seed=args.seed, progress=_say)
    print(f"Wrote {len(tables)} synthetic tables to {out} in {time.monotonic() - started:.1f} s")
    return 0


def _list_arg(raw: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in (raw or "").replace(";", ",").split(",") if p.strip()))


def _year_list(raw: str | None) -> tuple[int, ...]:
    years: list[int] = []
    for part in _list_arg(raw):
        try:
            lo, _, hi = part.partition("-")
            years += range(int(lo), int(hi or lo) + 1)
        except ValueError:
            raise SettingsError(f"--years: {part!r} is not a year or a range like 2019-2024.") from None
    return tuple(sorted(set(years)))


def cmd_export(args: argparse.Namespace) -> int:
    import datetime as dt

    from bwm.export.run import export
    from bwm.export.tables import ExportError, Selection
    from bwm.export.writers import dialect_delimiter
    from bwm.settings import parse_municipalities
    from bwm.warehouse import WarehouseError

    settings = Settings.from_env()
    try:
        selection = Selection(
            municipalities=(parse_municipalities(args.municipalities) if args.municipalities
                            else settings.municipalities),
            themes=_list_arg(args.themes), years=_year_list(args.years),
            levels=_list_arg(args.levels) or ("gemeente", "wijk", "buurt"))
        generated_at = dt.datetime.fromisoformat(args.generated_at) if args.generated_at else None
        if generated_at is not None and generated_at.tzinfo is None:
            generated_at = generated_at.replace(tzinfo=dt.UTC)
        paths = export(settings.warehouse_path, selection,
                       Path(args.out).resolve() if args.out else settings.export_dir,
                       name=args.name, formats=_list_arg(args.formats) or ("csv", "parquet", "xlsx"),
                       csv_delimiter=args.csv_delimiter or dialect_delimiter(args.csv_dialect or
                                                                              settings.export_csv_dialect),
                       generated_at=generated_at)
    except (ExportError, WarehouseError, ValueError) as exc:
        print(f"Export failed: {exc}", file=sys.stderr)
        return 1
    print(f"Exported {selection.describe()}:")
    for path in paths:
        print(f"  {path}")
    return 0


#: How long ``bwm dev`` gives the Dagster UI to stop after SIGTERM or SIGINT before it kills what is left. systemd
#: sends SIGKILL 90 s after SIGTERM by default; a stop is expected within 10 s, so this leaves room to spare.
DEV_STOP_GRACE_S = 7.0


def cmd_dev(args: argparse.Namespace) -> int:
    """``dagster dev`` as a child in its own process group, stopped cleanly on SIGTERM (systemd's stop) or SIGINT.

    ``dagster dev`` turns SIGTERM into an interrupt, but then waits up to 60 s for each of its webserver and
    daemon (and a SIGTERM during start-up is lost), so a systemd stop could take minutes or leave a code server
    behind. Here the signal is passed to the whole group as SIGINT (each Dagster process shuts down on it); what
    is still running after ``DEV_STOP_GRACE_S`` is killed with its group, so ``bwm dev`` exits within 10 s and
    leaves no process behind. ``-a defs``: the module also holds the folder's Definitions (``_layers``).
    """
    import signal
    import subprocess

    prepare_dagster_home(Settings.from_env())
    cmd = [str(Path(sys.executable).parent / "dagster"), "dev", "-m", "pipelines.definitions", "-a", "defs",
           "--host", args.host, "--port", str(args.port)]
    print("Starting the Dagster UI:", " ".join(cmd), flush=True)
    child = subprocess.Popen(cmd, start_new_session=True)
    stopping: list[int] = []

    def stop(signum, _frame) -> None:
        if not stopping:
            stopping.append(signum)
            _signal_group(child.pid, signal.SIGINT)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while child.poll() is None and not stopping:
            try:
                child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        if stopping:
            print(f"Stopping the Dagster UI ({signal.Signals(stopping[0]).name})...", flush=True)
            try:
                child.wait(timeout=DEV_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                print(f"The Dagster UI did not stop within {DEV_STOP_GRACE_S:g} s; killing it.", flush=True)
        _signal_group(child.pid, signal.SIGKILL)  # whatever of the group is left (a code server, a daemon)
        child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0 if stopping else (child.returncode or 0)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):  # the group is gone already
        pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bwm", description="Brede Welvaart Monitor",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="build the demo mirror and warehouse").set_defaults(func=cmd_demo)
    sub.add_parser("run", help="run the refresh job with the BWM_* settings").set_defaults(func=cmd_run)

    mirror = sub.add_parser("mirror", help="download, import, list or serve a CBS mirror folder")
    msub = mirror.add_subparsers(dest="mirror_command", required=True)
    dl = msub.add_parser("download", help="download CBS tables into a mirror folder")
    dl.add_argument("table_ids", nargs="*", help="CBS table ids, e.g. 85984NED")
    dl.add_argument("--kwb-years", help="also the KWB tables of these years, e.g. 2013-2024")
    dl.add_argument("--health", action="store_true",
                    help="also the health table (BWM_HEALTH_TABLE, default 50120NED, from dataderden.cbs.nl)")
    dl.add_argument("--municipalities", help="only these gemeenten, e.g. GM0344,GM0518 (default BWM_MUNICIPALITIES)")
    dl.add_argument("--mirror", help="mirror folder (default BWM_MIRROR_DIR)")
    dl.add_argument("--force", action="store_true", help="download even when CBS's Modified is unchanged")
    dl.set_defaults(func=cmd_mirror_download)
    ls = msub.add_parser("list", help="list the tables in a mirror folder")
    ls.add_argument("--mirror", help="mirror folder (default BWM_MIRROR_DIR)")
    ls.set_defaults(func=cmd_mirror_list)
    imp = msub.add_parser("import", help="check folders written by cbsodata.download_data and add them to a mirror",
                          description="Verify each folder that cbsodata.download_data(table_id, dir=...) wrote (JSON, "
                                      "DataProperties, dimensions, data values), convert an UntypedDataSet to typed "
                                      "values, and write it into the mirror with a manifest. The folders are only read "
                                      "(a folder inside the mirror itself is replaced by its checked copy).")
    imp.add_argument("dirs", nargs="+", metavar="DIR", help="folder written by cbsodata.download_data")
    imp.add_argument("--mirror", help="mirror folder (default BWM_MIRROR_DIR)")
    imp.add_argument("--table-id", help="table id, when neither TableInfos.json nor the folder name gives it")
    imp.set_defaults(func=cmd_mirror_import)
    serve = msub.add_parser("serve", help="serve a mirror folder as a local CBS OData v3 feed")
    serve.add_argument("--mirror", help="mirror folder (default BWM_MIRROR_DIR)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--catalog", choices=("opendata", "dataderden"),
                       help="serve only one CBS catalogue's tables, as that host does (run one server per catalogue "
                            "and point BWM_CBS_BASE_URL and BWM_CBS_DATADERDEN_URL at them); default: every table")
    serve.add_argument("--fault", action="append", default=[], metavar="KIND[,path=TEXT][,times=N|always][,status=N]",
                       help="inject a fault (error, delay, truncate, drop), as python -m bwm.cbs.replay --fault")
    serve.set_defaults(func=cmd_mirror_serve)
    geo_p = msub.add_parser("geo", help="download the CBS wijk- en buurtkaart (PDOK) into a mirror folder")
    geo_p.add_argument("--years", help="KWB years, e.g. 2019-2024 (default BWM_YEARS)")
    geo_p.add_argument("--municipalities", help="only these gemeenten (default BWM_MUNICIPALITIES)")
    geo_p.add_argument("--mirror", help="mirror folder (default BWM_MIRROR_DIR)")
    geo_p.set_defaults(func=cmd_mirror_geo)

    synth = sub.add_parser("synth", help="write a synthetic mirror")
    synth.add_argument("--scale", choices=["demo", "national"], default="demo")
    synth.add_argument("--seed", type=int, default=20240101)
    synth.add_argument("--out", required=True, help="folder to write the mirror to")
    synth.set_defaults(func=cmd_synth)

    exp = sub.add_parser("export", help="write indicator tables as CSV, Parquet and XLSX",
                         description="Indicator tables from the warehouse (BWM_WAREHOUSE) with definitions, sources "
                                     "and notes. Municipal figures are disclosure-controlled already in the "
                                     "warehouse.")
    exp.add_argument("--municipalities", help="gemeente codes, e.g. GM9901,GM9902 (default BWM_MUNICIPALITIES, or all)")
    exp.add_argument("--themes", help="themes, e.g. materiele_welvaart,welzijn (default all)")
    exp.add_argument("--years", help="years, e.g. 2019-2024 or 2020,2022 (default all)")
    exp.add_argument("--levels", help="levels: gemeente,wijk,buurt (default) and/or land (the national row)")
    exp.add_argument("--formats", help="csv,parquet,xlsx (default all three)")
    exp.add_argument("--csv-dialect", choices=sorted(CSV_DIALECTS),
                     help="excel-nl: ';' and decimal commas, what Dutch Excel opens by double-click; international: "
                     "',' and a decimal point (default BWM_EXPORT_CSV_DIALECT, which defaults to excel-nl)")
    exp.add_argument("--csv-delimiter", choices=[",", ";"],
                     help="the separator itself (';' also writes decimal commas); overrides --csv-dialect")
    exp.add_argument("--out", help="folder to write to (default BWM_EXPORT_DIR)")
    exp.add_argument("--name", help="file name prefix (default from the selection, e.g. GM9901)")
    exp.add_argument("--generated-at", help="timestamp to record instead of now (ISO 8601), for reproducible files")
    exp.set_defaults(func=cmd_export)

    site = sub.add_parser("site", help="the static site (dashboards)")
    ssub = site.add_subparsers(dest="site_command", required=True)
    sb = ssub.add_parser("build", help="build the static site from the warehouse (BWM_WAREHOUSE) into BWM_SITE_DIR")
    sb.add_argument("--out", help="site folder (default BWM_SITE_DIR)")
    sb.add_argument("--full", action="store_true",
                    help="render every page (by default a gemeente whose data did not change keeps its pages)")
    sb.set_defaults(func=cmd_site_build)

    dev = sub.add_parser("dev", help="start the Dagster UI")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
