"""`bwm`: the command line of the Brede Welvaart Monitor.

    bwm demo                      build the demo (synthetic) mirror and warehouse, print where they are
    bwm run                       run the refresh job with the BWM_* settings of the environment
    bwm mirror download IDS...    download CBS tables into a mirror folder (for locked-down networks)
    bwm mirror list               list the tables in a mirror folder
    bwm mirror serve              serve a mirror folder as a local CBS OData feed (replay server)
    bwm synth                     write a synthetic mirror (demo or national scale) to a folder
    bwm dev                       start the Dagster UI with this code location
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bwm.settings import PROJECT_ROOT, Settings, SettingsError


def _dagster_env() -> None:
    """Point Dagster at the project's dagster.yaml and its storage folder."""
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    storage = os.environ.setdefault("BWM_DAGSTER_STORAGE", str(PROJECT_ROOT / "data" / "dagster_home"))
    Path(storage).mkdir(parents=True, exist_ok=True)


def _say(msg: str) -> None:
    print(f"  {msg}", flush=True)


def run_refresh(settings: Settings) -> bool:
    """Run the refresh job in this process; prints one line per step. Returns success."""
    _dagster_env()
    import dagster as dg

    from pipelines.definitions import defs

    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def("refresh")
    started = time.monotonic()
    failed_checks: list[str] = []
    print(f"Refresh: source={settings.source}, mirror={settings.mirror_dir}", flush=True)
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            key = "/".join(event.asset_key.path)
            print(f"  done  {key}", flush=True)
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            status = "ok   " if data.passed else ("WARN " if data.severity.value == "WARN" else "FAIL ")
            if status == "FAIL ":
                failed_checks.append(data.check_name)
            print(f"  {status} check {data.check_name} on {'/'.join(data.asset_key.path)}", flush=True)
        elif event.event_type_value == "STEP_FAILURE":
            err = event.event_specific_data.error
            print(f"  ERROR in {event.step_key}: {err.message.strip() if err else 'unknown error'}", flush=True)
    print(f"Refresh {'finished' if result.success else 'FAILED'} in {time.monotonic() - started:.1f} s "
          f"(run {result.run_id})", flush=True)
    if failed_checks:
        print(f"{len(failed_checks)} check(s) failed: {', '.join(failed_checks)}. The tables were written; see the "
              "check's metadata in the Dagster UI (`make dev`) for the rows concerned.", flush=True)
    return result.success and not failed_checks


def cmd_demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("BWM_SOURCE", "demo")
    settings = Settings.from_env()
    ok = run_refresh(settings)
    print()
    print(f"Mirror (synthetic CBS tables): {settings.mirror_dir}")
    print(f"Warehouse (DuckDB):            {settings.warehouse_path}")
    if ok:
        print(f"Open it with: .venv/bin/python -c \"import duckdb; duckdb.connect('{settings.warehouse_path}', "
              "read_only=True).sql('select * from staging.areas limit 5').show()\"")
    return 0 if ok else 1


def cmd_run(args: argparse.Namespace) -> int:
    return 0 if run_refresh(Settings.from_env()) else 1


def cmd_mirror_download(args: argparse.Namespace) -> int:
    from bwm.cbs import client
    from bwm.harmonise import keymap
    from bwm.settings import parse_municipalities, parse_years
    from bwm.sources import HEALTH_TABLE_ID

    settings = Settings.from_env()
    mirror_dir = Path(args.mirror).resolve() if args.mirror else settings.mirror_dir
    ids = [t.upper() for t in args.table_ids]
    if args.kwb_years:
        ids += [keymap.kwb_table(y).table_id for y in parse_years(args.kwb_years)]
    if args.health:
        ids.append(HEALTH_TABLE_ID)
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


def cmd_mirror_serve(args: argparse.Namespace) -> int:
    from bwm.cbs import replay

    mirror_dir = Path(args.mirror).resolve() if args.mirror else Settings.from_env().mirror_dir
    argv = ["--mirror", str(mirror_dir), "--port", str(args.port), "--host", args.host]
    return replay.main(argv) or 0


def cmd_synth(args: argparse.Namespace) -> int:
    from bwm.synth.writer import generate_mirror

    out = Path(args.out).resolve()
    started = time.monotonic()
    tables = generate_mirror(out, scale=args.scale, seed=args.seed, progress=_say)
    print(f"Wrote {len(tables)} synthetic tables to {out} in {time.monotonic() - started:.1f} s")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    _dagster_env()
    cmd = [str(Path(sys.executable).parent / "dagster"), "dev", "-m", "pipelines.definitions",
           "--host", args.host, "--port", str(args.port)]
    print("Starting the Dagster UI:", " ".join(cmd), flush=True)
    os.execv(cmd[0], cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bwm", description="Brede Welvaart Monitor",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="build the demo mirror and warehouse").set_defaults(func=cmd_demo)
    sub.add_parser("run", help="run the refresh job with the BWM_* settings").set_defaults(func=cmd_run)

    mirror = sub.add_parser("mirror", help="download, list or serve a CBS mirror folder")
    msub = mirror.add_subparsers(dest="mirror_command", required=True)
    dl = msub.add_parser("download", help="download CBS tables into a mirror folder")
    dl.add_argument("table_ids", nargs="*", help="CBS table ids, e.g. 85984NED")
    dl.add_argument("--kwb-years", help="also the KWB tables of these years, e.g. 2013-2024")
    dl.add_argument("--health", action="store_true", help="also the health table 50090NED")
    dl.add_argument("--municipalities", help="only these gemeenten, e.g. GM0344,GM0518 (default BWM_MUNICIPALITIES)")
    dl.add_argument("--mirror", help="mirror folder (default BWM_MIRROR_DIR)")
    dl.add_argument("--force", action="store_true", help="download even when CBS's Modified is unchanged")
    dl.set_defaults(func=cmd_mirror_download)
    ls = msub.add_parser("list", help="list the tables in a mirror folder")
    ls.add_argument("--mirror", help="mirror folder (default BWM_MIRROR_DIR)")
    ls.set_defaults(func=cmd_mirror_list)
    serve = msub.add_parser("serve", help="serve a mirror folder as a local CBS OData v3 feed")
    serve.add_argument("--mirror", help="mirror folder (default BWM_MIRROR_DIR)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.set_defaults(func=cmd_mirror_serve)

    synth = sub.add_parser("synth", help="write a synthetic mirror")
    synth.add_argument("--scale", choices=["demo", "national"], default="demo")
    synth.add_argument("--seed", type=int, default=20240101)
    synth.add_argument("--out", required=True, help="folder to write the mirror to")
    synth.set_defaults(func=cmd_synth)

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
