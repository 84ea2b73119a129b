"""Write the synthetic demo data as a mirror, in exactly the layout real CBS tables take.

One mirror table per KWB year (that year's real table id, its real key list from the key map, values in
CBS units and CBS padding), the health table 50120NED, and synthetic boundaries per year under
``<mirror>/geo/<year>/``. The demo therefore runs through the same raw -> staging code as real data.
Like CBS's, every table starts with the national row ``NL01`` (SoortRegio "Land"), here "Nederland
(synthetisch)": the total of the synthetic gemeenten, not the real country.
Same seed, same bytes: nothing here depends on the clock or on dict/set iteration order.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import lru_cache
from pathlib import Path

import numpy as np

from bwm.cbs import mirror
from bwm.harmonise import keymap
from bwm.synth.geography import (
    HEALTH_GEOGRAPHY_YEAR,
    KWB_YEARS,
    LEVEL_LAND,
    NATIONAL_CODE,
    RegionRows,
    World,
    build_world,
)
from bwm.synth.values import (
    HEALTH_AGE_GROUPS,
    HEALTH_PERIODS,
    MODELLED,
    AreaValues,
    Latent,
    area_values,
    health_values,
    key_stem,
    normalise_unit,
)

Progress = Callable[[str], None]

#: The synthetic health table takes the layout of 50120NED (RIVM, catalogue dataderden.cbs.nl): its keys,
#: its four periods on the 2022 boundaries, Marges with the 95% bounds.
SYNTH_HEALTH_TABLE_ID = "50120NED"
HEALTH_TITLE = "Gezondheid per wijk en buurt; 2012/2016/2020/2022 (indeling 2022) (synthetisch)"
MARGE_VALUE, MARGE_LOWER, MARGE_UPPER = "MW00000", "MOG0095", "MBG0095"

# Widths CBS pads text to in the OData feed (seen in the real TypedDataSets / UntypedDataSets).
REGION_KEY_WIDTH = 10
GEMEENTENAAM_WIDTH = 40
SOORT_REGIO_WIDTH = 10
KWB_CODERING_WIDTH = 10
HEALTH_CODERING_WIDTH = 20
_SOORT_REGIO = ("Gemeente", "Wijk", "Buurt", "Land")  # by RegionRows.level
#: The national row's region key and Codering: the real KWB 2020 (84799NED) has key and Codering NL00, the
#: real health table 50090NED key and Codering NL01.
KWB_NATIONAL_KEY = "NL00"
KWB_NATIONAL_CODERING = "NL00"
#: Keys CBS renamed between releases of one table, as the synthetic tables carry them (raw key in the key
#: map -> key in the synthetic table). The real first release of KWB 2020 (84799NED, March 2021) had
#: GemiddeldeWoningwaarde_35 and NettoArbeidsparticipatie_67 where later code reads
#: GemiddeldeWOZWaardeVanWoningen_35 and Nettoarbeidsparticipatie_67; the demo's 2020 table is that release,
#: so the pipeline's key resolution (alias, case-insensitive stem) runs in every demo build.
RELEASE_KEYS = {
    2020: {"GemiddeldeWOZWaardeVanWoningen_35": "GemiddeldeWoningwaarde_35",
           "Nettoarbeidsparticipatie_67": "NettoArbeidsparticipatie_67"},
}

_TEXT_DATATYPES = ("String", "Char")
_INT_DATATYPES = ("Long", "Integer", "Short", "Byte")


def generate_mirror(
    mirror_dir: Path,
    scale: str = "demo",
    seed: int = 20240101,
    years: Iterable[int] = KWB_YEARS,
    progress: Progress | None = None,
    workers: int | None = None,
) -> list[str]:
    """Write the synthetic mirror: a KWB table per year, the health table and boundaries per year.

    Returns the table ids written (KWB years in order, then 50120NED). ``progress(msg)`` is called once
    per table. ``workers``: processes to use; default 1 for the demo scale and up to 2 for the national
    scale, whose JSON (about 1.7 GB) takes most of the time. The output does not depend on it.
    """
    say = progress or (lambda _msg: None)
    mirror_dir = Path(mirror_dir)
    years = sorted(set(years))
    unknown = [y for y in years if y not in KWB_YEARS]
    if unknown:
        raise ValueError(f"no KWB year {unknown}; the synthetic generator covers {KWB_YEARS[0]}-{KWB_YEARS[-1]}")
    build_world(scale, seed)  # fail fast on an unknown scale, before any worker starts
    if workers is None:
        workers = 1 if scale == "demo" else max(1, min(2, os.cpu_count() or 1))
    mirror_dir.mkdir(parents=True, exist_ok=True)
    n_tables = len(years) + 1
    done = 0

    def report(kind: str, table_id: str, n_rows: int, year: int | None) -> None:
        nonlocal done
        done += 1
        what = f"Kerncijfers wijken en buurten {year}" if kind == "kwb" else "Gezondheid per wijk en buurt"
        say(f"[{done}/{n_tables}] {table_id} {what} (synthetisch): {n_rows:,} rijen")

    tasks = [("health", None)] + [("kwb", year) for year in years]
    ids: dict[tuple[str, int | None], str] = {}
    if workers <= 1:
        for kind, year in tasks:
            table_id, n_rows = _run_task(str(mirror_dir), scale, seed, kind, year)
            ids[(kind, year)] = table_id
            report(kind, table_id, n_rows, year)
    else:
        # Spawned (not forked) workers: safe inside multi-threaded hosts such as the Dagster daemon.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {
                pool.submit(_run_task, str(mirror_dir), scale, seed, kind, year): (kind, year) for kind, year in tasks
            }
            for future in as_completed(futures):
                kind, year = futures[future]
                table_id, n_rows = future.result()
                ids[(kind, year)] = table_id
                report(kind, table_id, n_rows, year)
    return [ids[("kwb", year)] for year in years] + [ids[("health", None)]]


@lru_cache(maxsize=2)
def _latent(scale: str, seed: int) -> Latent:
    return Latent(build_world(scale, seed))


def _run_task(mirror_dir: str, scale: str, seed: int, kind: str, year: int | None) -> tuple[str, int]:
    """One table (a KWB year with its boundaries, or the health table); runs in a worker process."""
    lat = _latent(scale, seed)
    if kind == "health":
        return write_health_table(Path(mirror_dir), lat)
    result = write_kwb_table(Path(mirror_dir), lat, year)
    write_boundaries(Path(mirror_dir), lat.world, year)
    return result


# --- KWB -----------------------------------------------------------------------------------------------


def _kwb_region_key(code: str) -> str:
    return (KWB_NATIONAL_KEY if code == NATIONAL_CODE else code).ljust(REGION_KEY_WIDTH)


def kwb_specs(year: int) -> list[keymap.KeySpec]:
    """The key map's keys of that year, with the keys of ``RELEASE_KEYS`` renamed as the synthetic table has them."""
    renamed = RELEASE_KEYS.get(year, {})
    return [dataclasses.replace(s, raw_key=renamed.get(s.raw_key, s.raw_key)) for s in keymap.keys_for_year(year)]


def write_kwb_table(mirror_dir: Path, lat: Latent, year: int) -> tuple[str, int]:
    table = keymap.kwb_table(year)
    specs = kwb_specs(year)
    variables = keymap.variables()
    extras: dict[str, str] = {}
    for spec in specs:
        if spec.datatype in _TEXT_DATATYPES:
            continue
        name, unit = _value_name(spec, variables)
        if name not in MODELLED:
            extras[name] = unit
    area = area_values(lat, year, extras)
    rows = area.rows
    title = f"Kerncijfers wijken en buurten {year} (synthetisch)"
    modified = _kwb_modified(year)

    names = ["ID", table.region_dimension]
    columns: list[list] = [list(range(rows.n)), [_kwb_region_key(c) for c in rows.code]]
    for spec in specs:
        names.append(spec.raw_key)
        columns.append(_kwb_column(spec, area, variables))
    typed = [dict(zip(names, values)) for values in zip(*columns)]

    props: list[dict] = [
        {
            "odata.type": "Cbs.OData.GeoDetail",
            "ID": 0,
            "Position": 0,
            "ParentID": None,
            "Type": "GeoDetail",
            "Key": table.region_dimension,
            "Title": "Regio's" if table.region_dimension == "RegioS" else "Wijken en buurten",
            "Description": "",
            "MapYear": year,
        }
    ]
    props += [topic_property(i, spec) for i, spec in enumerate(specs, 1)]
    files = {
        "TableInfos": [_table_info(table.table_id, title, modified, str(year), _KWB_SUMMARY)],
        "DataProperties": props,
        "TypedDataSet": typed,
        "CategoryGroups": [],
        table.region_dimension: _region_dimension(rows, _kwb_region_key),
    }
    mirror.write_table(mirror_dir, table.table_id, files, title=title, modified=modified, source="synthetic")
    return table.table_id, rows.n


def _value_name(spec: keymap.KeySpec, variables: dict[str, keymap.Variable]) -> tuple[str, str]:
    """The model's name and unit for a numeric key: its canonical variable, or its stem when unmapped."""
    if spec.action == "map" and spec.canonical and spec.canonical in variables:
        var = variables[spec.canonical]
        return spec.canonical, var.unit
    return key_stem(spec.raw_key), normalise_unit(spec.cbs_unit)


def _kwb_column(spec: keymap.KeySpec, area: AreaValues, variables: dict[str, keymap.Variable]) -> list:
    rows = area.rows
    canonical = spec.canonical if spec.action == "map" else None
    if canonical == "gemeentenaam" or (canonical is None and key_stem(spec.raw_key) == "Gemeentenaam"):
        return [name.ljust(GEMEENTENAAM_WIDTH) for name in rows.gm_name]
    if canonical == "soort_regio":
        labels = [s.ljust(SOORT_REGIO_WIDTH) for s in _SOORT_REGIO]
        return [labels[level] for level in rows.level.tolist()]
    if canonical == "codering":
        return [
            (KWB_NATIONAL_CODERING if level == LEVEL_LAND else c).ljust(KWB_CODERING_WIDTH)
            for c, level in zip(rows.code, rows.level.tolist())
        ]
    if canonical == "indelingswijziging":
        return list(rows.change)
    if canonical == "meest_voorkomende_postcode":
        return list(area.postcode)
    if canonical == "dekkingspercentage":
        return _cbs_list(area.dekking, spec)
    if spec.datatype in _TEXT_DATATYPES:
        return [None] * rows.n  # a text topic the model knows nothing about
    name, unit = _value_name(spec, variables)
    values = area.values[name] / _scale(spec, unit)
    return _cbs_list(values, spec)


def _scale(spec: keymap.KeySpec, unit: str) -> float:
    """Canonical value / scale = value in the key's CBS unit (e.g. euro / 1000 = 'x 1 000 euro')."""
    factor = keymap.unit_scale(spec.cbs_unit, unit)
    if factor is None:
        factor = 1000.0 if "1 000" in (spec.cbs_unit or "") and "inwoners" not in spec.cbs_unit else 1.0
    return factor


def _cbs_list(values: np.ndarray, spec: keymap.KeySpec) -> list:
    """Floats (NaN = null) as the JSON values CBS sends for the key's datatype and decimals."""
    values = np.asarray(values, dtype=float)
    missing = np.isnan(values)
    if spec.datatype in _INT_DATATYPES:
        out = np.round(np.where(missing, 0, values)).astype(np.int64).tolist()
    elif spec.datatype in _TEXT_DATATYPES:
        out = [str(v) for v in np.round(np.where(missing, 0, values)).astype(np.int64).tolist()]
    else:
        out = np.round(np.where(missing, 0, values), spec.decimals).tolist()
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out


# Every percentage with one decimal is one of 1,001 floats: share the objects instead of allocating
# ~25 million of them for the national health table (memory and time).
_PERCENTS = np.array([None] + [round(i / 10, 1) for i in range(1001)], dtype=object)


def _percent_list(values: np.ndarray) -> list:
    """Percentages (NaN = null) rounded to one decimal, as shared Python floats (None for null)."""
    idx = np.where(np.isnan(values), -1, np.round(np.clip(np.nan_to_num(values), 0, 100) * 10)).astype(np.int64)
    return _PERCENTS[idx + 1].tolist()


def topic_property(i: int, spec: keymap.KeySpec) -> dict:
    """A DataProperties Topic entry for a key, in the shape CBS's feed has (also used by the real-data tests)."""
    numeric = spec.datatype not in _TEXT_DATATYPES
    return {
        "odata.type": "Cbs.OData.Topic",
        "ID": i,
        "Position": spec.position,
        "ParentID": None,
        "Type": "Topic",
        "Key": spec.raw_key,
        "Title": spec.title_nl,
        "Description": None,
        "Datatype": spec.datatype,
        "Unit": spec.cbs_unit,
        "Decimals": spec.decimals,
        "Default": "Impossible",
        "PresentationType": ("Absolute" if spec.cbs_unit == "aantal" else "Relative") if numeric else "",
    }


def _region_dimension(rows: RegionRows, key: Callable[[str], str] = lambda c: c.ljust(REGION_KEY_WIDTH)) -> list[dict]:
    return [
        {
            "Key": key(code),
            "Title": name,
            "Description": None,
            "Municipality": gm_name,
        }
        for code, name, gm_name in zip(rows.code, rows.name, rows.gm_name)
    ]


_KWB_SUMMARY = (
    "Synthetische demonstratiedata in de vorm van de CBS-tabel Kerncijfers wijken en buurten. "
    "Gemeenten, wijken, buurten en alle cijfers zijn verzonnen (bwm.synth); geen CBS-cijfers."
)


def _kwb_modified(year: int) -> str:
    # CBS publishes a KWB year's table during that year and revises it into the next; a fixed date per year.
    return f"{year + 1}-03-01T02:00:00"


def _table_info(table_id: str, title: str, modified: str, period: str, summary: str) -> dict:
    return {
        "ID": 0,
        "Title": title,
        "ShortTitle": title,
        "Identifier": table_id,
        "Summary": summary,
        "Modified": modified,
        "ReasonDelivery": "Synthetisch",
        "ExplanatoryText": "",
        "Language": "nl",
        "Catalog": "CBS",
        "Frequency": "Eenmalig",
        "Period": period,
        "ShortDescription": summary,
        "Description": summary,
        "DefaultPresentation": "",
        "DefaultSelection": "",
        "GraphTypes": "Table",
        "OutputStatus": "Regulier",
        "Source": "Synthetisch (Brede Welvaart Monitor, bwm.synth)",
        "MetaDataModified": modified,
        "SearchPriority": "2",
    }


# --- health --------------------------------------------------------------------------------------------


def write_health_table(mirror_dir: Path, lat: Latent) -> tuple[str, int]:
    specs = keymap.health_keys(SYNTH_HEALTH_TABLE_ID)
    topics = [s for s in specs if s.datatype not in _TEXT_DATATYPES]
    health = health_values(lat, [key_stem(s.raw_key) for s in topics])
    rows = health.rows
    n = rows.n
    title = HEALTH_TITLE
    modified = "2023-11-30T02:00:00"

    region = [c.ljust(REGION_KEY_WIDTH) for c in rows.code]
    text: dict[str, list] = {}
    for spec in specs:
        if spec.datatype not in _TEXT_DATATYPES:
            continue
        if spec.canonical == "gemeentenaam":
            text[spec.raw_key] = [name.ljust(GEMEENTENAAM_WIDTH) for name in rows.gm_name]
        elif spec.canonical == "soort_regio":
            labels = [s.ljust(SOORT_REGIO_WIDTH) for s in _SOORT_REGIO]
            text[spec.raw_key] = [labels[level] for level in rows.level.tolist()]
        elif spec.canonical == "codering":
            text[spec.raw_key] = [c.ljust(HEALTH_CODERING_WIDTH) for c in rows.code]
        else:
            text[spec.raw_key] = [None] * n

    names = ["ID", "Leeftijd", "Marges", "WijkenEnBuurten", "Perioden"] + [s.raw_key for s in specs]
    typed: list[dict] = []
    for age in HEALTH_AGE_GROUPS:
        for period in HEALTH_PERIODS:
            block = health.values[(period, age)]
            half = health.half_width[(period, age)]
            for marge in (MARGE_VALUE, MARGE_LOWER, MARGE_UPPER):
                columns: list[list] = [
                    list(range(len(typed), len(typed) + n)),
                    [age] * n,
                    [marge] * n,
                    region,
                    [f"{period}JJ00"] * n,
                ]
                for spec in specs:
                    if spec.raw_key in text:
                        columns.append(text[spec.raw_key])
                        continue
                    v = block[key_stem(spec.raw_key)]
                    if marge != MARGE_VALUE:
                        p = np.clip(v / 100, 0.001, 0.999)
                        width = half * np.sqrt(p * (1 - p)) / 0.5
                        v = np.maximum(v - width, 0) if marge == MARGE_LOWER else np.minimum(v + width, 100)
                    columns.append(_percent_list(v) if spec.decimals == 1 else _cbs_list(v, spec))
                typed.extend(dict(zip(names, values)) for values in zip(*columns))

    props: list[dict] = [
        _dimension(0, "Dimension", "Leeftijd", "Leeftijd"),
        _dimension(1, "Dimension", "Marges", "Marges"),
        {
            "odata.type": "Cbs.OData.GeoDetail",
            "ID": 2,
            "Position": 2,
            "ParentID": None,
            "Type": "GeoDetail",
            "Key": "WijkenEnBuurten",
            "Title": "Wijken en buurten",
            "Description": "",
            "MapYear": HEALTH_GEOGRAPHY_YEAR,
        },
        _dimension(3, "TimeDimension", "Perioden", "Perioden"),
    ]
    props += [topic_property(i, spec) for i, spec in enumerate(specs, 4)]
    files = {
        "TableInfos": [
            _table_info(SYNTH_HEALTH_TABLE_ID, title, modified, ", ".join(str(p) for p in HEALTH_PERIODS),
                        _HEALTH_SUMMARY)
        ],
        "DataProperties": props,
        "TypedDataSet": typed,
        "CategoryGroups": [],
        "Leeftijd": [
            {"Key": code, "Title": keymap.HEALTH_LEEFTIJD[code], "Description": None, "CategoryGroupID": None}
            for code in HEALTH_AGE_GROUPS
        ],
        "Marges": [
            {"Key": code, "Title": keymap.HEALTH_MARGES[code], "Description": None, "CategoryGroupID": None}
            for code in (MARGE_VALUE, MARGE_LOWER, MARGE_UPPER)
        ],
        "WijkenEnBuurten": _region_dimension(rows),
        "Perioden": [
            {"Key": f"{p}JJ00", "Title": str(p), "Description": None, "Status": "Definitief"} for p in HEALTH_PERIODS
        ],
    }
    mirror.write_table(mirror_dir, SYNTH_HEALTH_TABLE_ID, files, title=title, modified=modified, source="synthetic")
    return SYNTH_HEALTH_TABLE_ID, len(typed)


_HEALTH_SUMMARY = (
    "Synthetische demonstratiedata in de vorm van de RIVM-tabel Gezondheid per wijk en buurt (50120NED), "
    "indeling 2022 voor alle perioden. Alle cijfers zijn verzonnen (bwm.synth); geen CBS-cijfers."
)


def _dimension(i: int, kind: str, key: str, title: str) -> dict:
    return {
        "odata.type": f"Cbs.OData.{kind}",
        "ID": i,
        "Position": i,
        "ParentID": None,
        "Type": kind,
        "Key": key,
        "Title": title,
        "Description": "",
    }


# --- boundaries ----------------------------------------------------------------------------------------


def write_boundaries(mirror_dir: Path, world: World, year: int) -> list[Path]:
    """``<mirror>/geo/<year>/{gemeenten,wijken,buurten}.geojson`` in WGS84, like the CBS wijk- en buurtkaart."""
    geo = world.geography(year)
    folder = Path(mirror_dir) / "geo" / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    layers = {
        "gemeenten": [
            _feature(year, code, name, outline)
            for code, name, outline in zip(geo.gm_code, geo.gm_name, geo.gm_outline)
        ],
        "wijken": [
            _feature(year, code, name, _rect_ring(rect))
            for code, name, rect in zip(geo.wk_code, geo.wk_name, geo.wk_rect.tolist())
        ],
        "buurten": [
            _feature(year, code, name, _rect_ring(rect))
            for code, name, rect in zip(geo.bu_code, geo.bu_name, geo.bu_rect.tolist())
        ],
    }
    paths = []
    for layer, features in layers.items():
        doc = {
            "type": "FeatureCollection",
            "name": f"{layer}_{year}_synthetisch",
            "synthetic": True,
            "features": features,
        }
        path = folder / f"{layer}.geojson"
        tmp = path.with_suffix(".geojson.tmp")
        tmp.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        paths.append(path)
    return paths


def _feature(year: int, code: str, name: str, ring: list[tuple[float, float]]) -> dict:
    return {
        "type": "Feature",
        "properties": {"statcode": code, "statnaam": name, "jrstatcode": f"{year}{code}"},
        "geometry": {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]},
    }


def _rect_ring(rect: list[float]) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = rect
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
