"""Turn the real CBS extracts in ``shared/cbs-real`` into mirror tables, at test time only.

The extracts are real CBS data that must not be copied into this repository, so everything here reads
them from the shared folder and writes mirror folders under pytest's ``tmp_path``. The mirror tables are
written in the layout ``cbsodata.download_data`` saves (see docs/architecture.md) through
``bwm.cbs.mirror.write_table(..., source='cbs')``, so the pipeline reads them exactly as it reads a
downloaded mirror or the synthetic demo.

What the extracts are (see ``shared/cbs-real/PROVENANCE.md``):

* KWB: ``;``-separated, every field quoted, UTF-8 with BOM, one column per OData key, values as the
  padded text of the OData feed (``"  352866"``, ``"GM0344    "``); ``.`` means "not published" and a
  few cells are empty.
* Health 50090NED: UntypedDataSet as CSV, ``,``-separated (quoted only where a name holds a comma),
  values as padded text, empty = not published.
* 85984NED 2024 StatLine CSV export: ``;``-separated, Dutch headers, CRLF, unpadded numbers.

The extracts carry no DataProperties; the Topic entries are built from the reviewed key map
(``keymap.keys_for_year`` / ``keymap.health_keys``), which is what CBS's own DataProperties would say
for those keys. They also carry no area names for wijken and buurten, so those dimension titles are
the codes.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from bwm.cbs import mirror
from bwm.harmonise import keymap
from bwm.synth.writer import topic_property

#: The real extracts per KWB year, combined into one mirror table each (rows of all files, union of keys).
KWB_FILES: dict[int, tuple[str, ...]] = {
    2019: (
        "84583NED_2019_GM0518_denhaag_allcols.csv",
        "84583NED_2019_GM0344_utrecht_22cols.csv",
        "84583NED_2019_GM0363_amsterdam_allcols.csv.gz",
    ),
    2021: (
        "85039NED_2021_GM0344_utrecht_22cols.csv",
        "85039NED_2021_GM0518_denhaag_22cols.csv",
        "85039NED_2021_GM0363_amsterdam_22cols.csv",
    ),
}
KWB_YEARS = tuple(KWB_FILES)

#: The real health files are 50090NED (2020 boundaries); 50120NED's data is not in shared/cbs-real.
REAL_HEALTH_TABLE_ID = "50090NED"
HEALTH_PERIODS = (2012, 2016, 2020)
#: The 8 health files: (period, age label in the file name). CBS's 2020 18-64 file is not in the snapshot.
HEALTH_FILES: tuple[tuple[int, str], ...] = tuple(
    (period, age)
    for period in HEALTH_PERIODS
    for age in ("18plus", "18-64", "65plus")
    if (period, age) != (2020, "18-64")
)
HEALTH_DIMENSIONS = ("Leeftijd", "Marges", "WijkenEnBuurten", "Perioden")
HEALTH_TITLE = "Gezondheid per wijk en buurt; 2012/2016/2020 (indeling 2020)"

KWB_2024_POPULATION = "85984NED_2024_NL_bevolking-leeftijd_statline.csv.gz"

_TEXT = ("String", "Char")
_INT = ("Long", "Integer", "Short", "Byte")
# Not the real CBS Modified dates (the extracts do not carry them); a fixed marker so the manifests are stable.
_MODIFIED = "unknown (real CBS extract, shared/cbs-real)"


# --- reading the files -----------------------------------------------------------------------------------


def open_text(path: Path) -> io.TextIOBase:
    """A text handle on a plain or gzipped CSV; ``utf-8-sig`` drops the BOM when there is one."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def read_csv_rows(path: Path, delimiter: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV, every cell as the original text (padding kept)."""
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader)
        rows = [row for row in reader if row]
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"{path}: row {i + 2} has {len(row)} fields, the header {len(header)}")
    return header, rows


def is_missing(cell: str | None) -> bool:
    """CBS's 'not published': ``.`` (StatLine / UntypedDataSet) or an empty cell."""
    return cell is None or cell.strip() in ("", ".")


def cbs_value(cell: str | None, spec: keymap.KeySpec):
    """A cell as the TypedDataSet would hold it: null when missing, int/float for numbers, text as is."""
    if is_missing(cell):
        return None
    if spec.datatype in _TEXT:
        return cell  # padding kept, as CBS sends it
    text = cell.strip()
    if spec.datatype in _INT:
        try:
            return int(text)
        except ValueError:
            return float(text)
    return float(text)


def _geo_detail(i: int, key: str, title: str) -> dict:
    return {"odata.type": "Cbs.OData.GeoDetail", "ID": i, "Position": i, "ParentID": None, "Type": "GeoDetail",
            "Key": key, "Title": title, "Description": ""}


def _dimension_property(i: int, kind: str, key: str) -> dict:
    return {"odata.type": f"Cbs.OData.{kind}", "ID": i, "Position": i, "ParentID": None, "Type": kind,
            "Key": key, "Title": key, "Description": ""}


def _table_info(table_id: str, title: str, period: str) -> dict:
    return {"ID": 0, "Identifier": table_id, "Title": title, "ShortTitle": title, "Modified": _MODIFIED,
            "Period": period, "Language": "nl", "Catalog": "CBS",
            "Summary": "Built at test time from real CBS extracts in shared/cbs-real (see its PROVENANCE.md)."}


# --- KWB -----------------------------------------------------------------------------------------------


def kwb_rows(cbs_real: Path, year: int) -> tuple[list[str], list[dict[str, str]]]:
    """Every row of that year's extracts as {column: original text}, and the union of their columns."""
    columns: list[str] = []
    rows: list[dict[str, str]] = []
    for name in KWB_FILES[year]:
        header, data = read_csv_rows(cbs_real / "kwb" / name, ";")
        columns += [c for c in header if c not in columns]
        rows += [dict(zip(header, r)) for r in data]
    return columns, rows


def kwb_table_files(cbs_real: Path, year: int) -> tuple[str, dict[str, list]]:
    """(table id, mirror files) of one KWB year built from the real extracts."""
    table = keymap.kwb_table(year)
    region = table.region_dimension
    specs = {s.raw_key: s for s in keymap.keys_for_year(year)}
    columns, rows = kwb_rows(cbs_real, year)
    unknown = [c for c in columns if c not in ("ID", region) and c not in specs]
    if unknown:
        raise ValueError(f"KWB {year}: keys {unknown} of the extracts are not in the key map")
    present = sorted((specs[c] for c in columns if c in specs), key=lambda s: s.position)

    typed = []
    for row in rows:
        record = {"ID": int(row["ID"]), region: row[region]}
        for spec in present:
            record[spec.raw_key] = cbs_value(row.get(spec.raw_key), spec)
        typed.append(record)
    typed.sort(key=lambda r: r["ID"])
    ids = [r["ID"] for r in typed]
    if len(set(ids)) != len(ids):
        raise ValueError(f"KWB {year}: the extracts share row IDs")

    dimension = []
    for row in sorted(rows, key=lambda r: int(r["ID"])):
        code = row[region].strip()
        name = (row.get("Gemeentenaam_1") or "").strip()
        dimension.append({
            "Key": row[region],
            # Extracts have no wijk/buurt names: the gemeente gets its name where the file has one, others the code.
            "Title": name if code.startswith("GM") and name else code,
            "Description": None,
            "DetailRegionCode": code,
            "Municipality": name or None,
        })
    props = [_geo_detail(0, region, "Wijken en buurten")] + [topic_property(i, s) for i, s in enumerate(present, 1)]
    files = {
        "TableInfos": [_table_info(table.table_id, table.title, str(year))],
        "DataProperties": props,
        "TypedDataSet": typed,
        "CategoryGroups": [],
        region: dimension,
    }
    return table.table_id, files


# --- health 50090NED --------------------------------------------------------------------------------------


def health_path(cbs_real: Path, period: int, age: str) -> Path:
    return cbs_real / "health" / f"50090NED_{period}_{age}_UntypedDataSet.csv.gz"


def health_text(cbs_real: Path, period: int, age: str) -> pl.DataFrame:
    """One health file as text columns, cells exactly as in the file (empty cells null)."""
    return pl.read_csv(health_path(cbs_real, period, age), infer_schema=False)


def _cbs_column(name: str, spec: keymap.KeySpec) -> pl.Expr:
    """The polars version of ``cbs_value``: '.'/empty -> null, numbers typed, text kept with its padding."""
    text = pl.col(name)
    missing = text.is_null() | text.str.strip_chars().is_in(["", "."])
    if spec.datatype in _TEXT:
        return pl.when(missing).then(None).otherwise(text).alias(name)
    number = text.str.strip_chars().cast(pl.Int64 if spec.datatype in _INT else pl.Float64)
    return pl.when(missing).then(None).otherwise(number).alias(name)


def health_table_files(cbs_real: Path) -> dict[str, list]:
    """The mirror files of 50090NED built from the 8 real UntypedDataSet files."""
    specs = keymap.health_keys(REAL_HEALTH_TABLE_ID)
    by_key = {s.raw_key: s for s in specs}
    frames = []
    for period, age in HEALTH_FILES:
        text = health_text(cbs_real, period, age)
        if text.columns[:5] != ["ID", *HEALTH_DIMENSIONS] or [c for c in text.columns[5:] if c not in by_key]:
            raise ValueError(f"50090NED {period} {age}: unexpected header {text.columns}")
        frames.append(text)
    text = pl.concat(frames, how="diagonal")
    if text["ID"].n_unique() != text.height:
        raise ValueError("50090NED: the files share row IDs")
    typed_frame = text.select(
        pl.col("ID").cast(pl.Int64), *HEALTH_DIMENSIONS,
        *[_cbs_column(s.raw_key, s) if s.raw_key in text.columns else pl.lit(None).alias(s.raw_key) for s in specs],
    ).sort("ID")
    typed = typed_frame.to_dicts()

    regions = (
        text.select("WijkenEnBuurten", "Gemeentenaam_1").unique(subset="WijkenEnBuurten", keep="first")
        .sort("WijkenEnBuurten").to_dicts()
    )
    region_items = []
    for r in regions:
        code, name = r["WijkenEnBuurten"].strip(), (r["Gemeentenaam_1"] or "").strip()
        region_items.append({"Key": r["WijkenEnBuurten"], "Title": name if code[:2] in ("GM", "NL") else code,
                             "Description": None, "DetailRegionCode": code, "Municipality": name})
    distinct = {d: sorted(text[d].unique().to_list()) for d in ("Leeftijd", "Marges", "Perioden")}

    props = [_dimension_property(0, "Dimension", "Leeftijd"), _dimension_property(1, "Dimension", "Marges"),
             _geo_detail(2, "WijkenEnBuurten", "Wijken en buurten"),
             _dimension_property(3, "TimeDimension", "Perioden")]
    props += [topic_property(i, s) for i, s in enumerate(specs, 4)]
    periods = distinct["Perioden"]
    return {
        "TableInfos": [_table_info(REAL_HEALTH_TABLE_ID, HEALTH_TITLE, ", ".join(p[:4] for p in periods))],
        "DataProperties": props,
        "TypedDataSet": typed,
        "CategoryGroups": [],
        "Leeftijd": [{"Key": k, "Title": keymap.HEALTH_LEEFTIJD.get(k.strip(), k.strip()), "Description": None,
                      "CategoryGroupID": None} for k in distinct["Leeftijd"]],
        "Marges": [{"Key": k, "Title": keymap.HEALTH_MARGES.get(k.strip(), k.strip()), "Description": None,
                    "CategoryGroupID": None} for k in distinct["Marges"]],
        "WijkenEnBuurten": region_items,
        "Perioden": [{"Key": p, "Title": p[:4], "Description": None, "Status": "Definitief"} for p in periods],
    }


# --- the whole mirror ------------------------------------------------------------------------------------


def build_mirror(
    cbs_real: Path, mirror_dir: Path, years: Iterable[int] = KWB_YEARS, health: bool = True
) -> list[str]:
    """Write the KWB tables of ``years`` and (optionally) 50090NED into ``mirror_dir``; returns the table ids."""
    written = []
    for year in years:
        table_id, files = kwb_table_files(cbs_real, year)
        mirror.write_table(mirror_dir, table_id, files, title=files["TableInfos"][0]["Title"], modified=_MODIFIED,
                           source="cbs", base_url=None)
        written.append(table_id)
    if health:
        files = health_table_files(cbs_real)
        mirror.write_table(mirror_dir, REAL_HEALTH_TABLE_ID, files, title=files["TableInfos"][0]["Title"],
                           modified=_MODIFIED, source="cbs", base_url=None)
        written.append(REAL_HEALTH_TABLE_ID)
    return written


# --- frames for the divide test ---------------------------------------------------------------------------


def health_frame(
    cbs_real: Path, keys: Iterable[str], age: str = "18plus", level_prefix: str | None = None
) -> pl.DataFrame:
    """One row per (region, period) of one age group's health files: trimmed codes and the given topics.

    Columns: ``year`` (int), ``area_code``, ``gemeente_code`` (from the code; null for NL), ``leeftijd``,
    ``marges`` and one Float64 column per key (null where the file's cell is empty or '.').
    """
    keys = list(keys)
    spec = {s.raw_key: s for s in keymap.health_keys(REAL_HEALTH_TABLE_ID)}
    frames = []
    for period in HEALTH_PERIODS:
        if not health_path(cbs_real, period, age).exists():
            continue
        text = health_text(cbs_real, period, age)
        code = pl.col("WijkenEnBuurten").str.strip_chars()
        frame = text.select(
            pl.col("Perioden").str.strip_chars().str.slice(0, 4).cast(pl.Int64).alias("year"),
            code.alias("area_code"),
            pl.when(code.str.slice(0, 2).is_in(["GM", "WK", "BU"])).then("GM" + code.str.slice(2, 4))
            .otherwise(None).alias("gemeente_code"),
            pl.col("Leeftijd").str.strip_chars().alias("leeftijd"),
            pl.col("Marges").str.strip_chars().alias("marges"),
            *[_cbs_column(k, spec[k]).cast(pl.Float64) for k in keys],
        )
        if level_prefix:
            frame = frame.filter(pl.col("area_code").str.starts_with(level_prefix))
        frames.append(frame)
    return pl.concat(frames)


def kwb2024_inhabitants(cbs_real: Path) -> pl.DataFrame:
    """``area_code`` (trimmed) and ``inhabitants`` (Int64, null for '.') of every region of KWB 2024."""
    header, rows = read_csv_rows(cbs_real / "kwb" / KWB_2024_POPULATION, ";")
    code_col = next(i for i, h in enumerate(header) if h.startswith("Regioaanduiding/Codering"))
    inw_col = next(i for i, h in enumerate(header) if h.startswith("Bevolking/Aantal inwoners"))
    return pl.DataFrame(
        {"area_code": [r[code_col].strip() for r in rows],
         "inhabitants": [None if is_missing(r[inw_col]) else int(r[inw_col].strip()) for r in rows]},
        schema={"area_code": pl.String, "inhabitants": pl.Int64},
    )


# --- the real national KWB 2020 (first release, March 2021) and StatLine exports of other years -----------

KWB_2020_NATIONAL = "84799NED_2020_NL_release-2021-03"


def kwb2020_national_files(cbs_real: Path) -> tuple[str, str, dict[str, list]]:
    """(table id, Modified, mirror files) of the real whole-country KWB 2020 release, as CBS's feed had it.

    The files are CBS's own OData v3 answers (stored as Parquet by dataverbinders/statline-bq): TypedDataSet
    with padded codes, DataProperties as ``cbsodata.download_data`` writes it, the WijkenEnBuurten dimension,
    and the table's metadata (its TableInfos).
    """
    import json

    folder = cbs_real / "kwb" / KWB_2020_NATIONAL
    info = json.loads((folder / "cbs.v3.84799NED_Metadata.json").read_text(encoding="utf-8"))
    props = json.loads((folder / "DataProperties.json").read_text(encoding="utf-8"))
    typed = pl.read_parquet(folder / "cbs.v3.84799NED_TypedDataSet.parquet").sort("ID").to_dicts()
    regions = pl.read_parquet(folder / "cbs.v3.84799NED_WijkenEnBuurten.parquet").to_dicts()
    for item in regions:  # the feed pads dimension keys like the data set's codes
        item["Key"] = item["Key"].ljust(10)
    files = {"TableInfos": [info], "DataProperties": props, "TypedDataSet": typed, "CategoryGroups": [],
             "WijkenEnBuurten": regions}
    return info["Identifier"], info["Modified"], files


def evidence_keys(shared: Path, year: int) -> list[dict[str, str]]:
    """``shared/reference/kwb-keys-evidence/keys_<year>.csv``: key, unit, datatype, title, source per Topic."""
    path = shared / "reference" / "kwb-keys-evidence" / f"keys_{year}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _mangled(text: str) -> str:
    """What R's ``make.names`` leaves of a title, for comparing: letters and digits only, lower case."""
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def _r_number(cell: str | None) -> float | None:
    if cell is None:
        return None
    text = cell.strip()
    if text in ("", ".", "NA"):
        return None
    return float(text.replace(",", "."))


def statline_r_files(cbs_real: Path, shared: Path, year: int, file_name: str) -> tuple[str, dict[str, list], list]:
    """(table id, mirror files) of a StatLine export that R re-saved (column titles mangled by ``make.names``).

    The export has one column per Topic, in the table's DataProperties order, titled "<theme>.<title>..<unit>.".
    Each column is mapped to its OData key by position in ``keys_<year>.csv``, and the mapping is accepted only
    where the column's title ends in the key's unit (from the evidence, or the key map), so a shifted column
    fails loudly instead of mislabelling a figure; columns whose title differs from the evidence's title are
    returned as ``(key, evidence title, column)`` (CBS retitles topics between releases: 2017's position 35).
    DataProperties are built from the evidence's unit, datatype and title, falling back to the key map; the region
    key is the Codering column.
    """
    table = keymap.kwb_table(year)
    region = table.region_dimension
    header, rows = read_csv_rows(cbs_real / "kwb" / file_name, ",")
    evidence = evidence_keys(shared, year)
    topics = header[2:]  # the row number R added, then "Wijken.en.buurten" (the region title)
    if len(topics) != len(evidence):
        raise ValueError(f"{file_name}: {len(topics)} topic columns, keys_{year}.csv lists {len(evidence)}")
    specs = {s.raw_key: s for s in keymap.keys_for_year(year)}
    by_stem = {keymap.stem(k).lower(): s for k, s in specs.items()}
    props, keys, retitled = [_geo_detail(0, region, "Wijken en buurten")], [], []
    for i, (column, ev) in enumerate(zip(topics, evidence), 1):
        key = ev["key"]
        spec = specs.get(key) or by_stem.get(keymap.stem(key).lower())
        unit = ev["unit"] or (spec.cbs_unit if spec else "")
        title = ev["title"] or (spec.title_nl if spec else "")
        datatype = ev["datatype"] or (spec.datatype if spec else "Double")
        mangled = _mangled(column)
        if unit and not mangled.endswith(_mangled(unit)):
            raise ValueError(f"{file_name}, column {i + 2} {column!r}: expected unit {unit!r} of {key}")
        if ev["title"] and _mangled(ev["title"]) not in mangled:
            retitled.append((key, ev["title"], column))
        props.append({"odata.type": "Cbs.OData.Topic", "ID": i, "Position": i, "ParentID": None, "Type": "Topic",
                      "Key": key, "Title": title, "Description": None, "Datatype": datatype, "Unit": unit,
                      "Decimals": spec.decimals if spec else 0, "Default": "Impossible", "PresentationType": ""})
        keys.append((key, datatype))
    codering = next(i for i, h in enumerate(header) if h.startswith("Regioaanduiding.Codering"))
    typed, dimension = [], []
    for n, row in enumerate(rows):
        code = row[codering].strip()
        record: dict = {"ID": n, region: code.ljust(10)}
        for (key, datatype), cell in zip(keys, row[2:]):
            if datatype in _TEXT:
                record[key] = None if cell in ("NA",) else cell
            else:
                value = _r_number(cell)
                record[key] = int(value) if value is not None and datatype in _INT else value
        typed.append(record)
        dimension.append({"Key": code.ljust(10), "Title": row[1].strip(), "Description": None,
                          "DetailRegionCode": code, "Municipality": None})
    files = {"TableInfos": [_table_info(table.table_id, table.title, str(year))], "DataProperties": props,
             "TypedDataSet": typed, "CategoryGroups": [], region: dimension}
    return table.table_id, files, retitled


def write_files(mirror_dir: Path, table_id: str, files: dict[str, list], modified: str = _MODIFIED) -> None:
    mirror.write_table(mirror_dir, table_id, files, title=files["TableInfos"][0]["Title"], modified=modified,
                       source="cbs", base_url=None)


def statline_csv_files(cbs_real: Path, year: int, file_name: str) -> tuple[str, dict[str, list]]:
    """(table id, mirror files) of a StatLine "CSV" export (``;``, one column per Topic titled
    "<theme>/<title> (<unit>)", the region title first), mapped to the table's keys by title and unit.

    The table's own DataProperties are the real ones from ``shared/cbs-real/odata/<id>/`` (as
    ``cbsodata.download_data`` saved them), so a column maps to the one Topic whose Title and Unit it carries;
    a column that matches none, or more than one, fails loudly. The region key is the Codering column.
    """
    import json

    table = keymap.kwb_table(year)
    region = table.region_dimension
    props = json.loads((cbs_real / "odata" / table.table_id / "DataProperties.json").read_text(encoding="utf-8"))
    topics = [p for p in props if p.get("Type") == "Topic"]
    header, rows = read_csv_rows(cbs_real / "kwb" / file_name, ";")
    mapped = []
    for i, column in enumerate(header[1:], 1):
        last = column.rsplit("/", 1)[-1]
        title, _, unit = last.rpartition(" (")
        matches = [p for p in topics if p["Title"] == title and p["Unit"] == unit.rstrip(")")]
        if len(matches) != 1:
            raise ValueError(f"{file_name}, column {i + 1} {column!r}: {len(matches)} Topics of {table.table_id} "
                             "have that title and unit")
        mapped.append((i, matches[0]))
    codering = next(i for i, p in mapped if p["Key"].startswith("Codering"))
    typed, dimension = [], []
    for n, row in enumerate(rows):
        code = row[codering].strip()
        record: dict = {"ID": n, region: code.ljust(10)}
        for i, prop in mapped:
            cell = row[i]
            if prop.get("Datatype") in _TEXT:
                record[prop["Key"]] = cell
            else:
                value = _r_number(cell)
                record[prop["Key"]] = int(value) if value is not None and prop.get("Datatype") in _INT else value
        typed.append(record)
        dimension.append({"Key": code.ljust(10), "Title": row[0].strip(), "Description": None,
                          "DetailRegionCode": code, "Municipality": None})
    kept = {p["Key"] for _, p in mapped}
    files = {"TableInfos": [_table_info(table.table_id, table.title, str(year))],
             "DataProperties": [p for p in props if p.get("Type") != "Topic" or p["Key"] in kept],
             "TypedDataSet": typed, "CategoryGroups": [], region: dimension}
    return table.table_id, files
