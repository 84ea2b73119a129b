"""The replay server speaks the CBS OData v3 feed well enough for cbsodata itself, and injects faults.

``build_mirror`` (also used by test_cbs_client.py) writes two small fake tables: a KWB-like table with a
``WijkenEnBuurten`` dimension and 10,551 rows (so paging needs two pages), and a health-like table with
the dimensions of 50090NED. Codes are space-padded and some values are null, as CBS sends them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cbsodata
import pytest
import requests

from bwm.cbs import client, mirror, replay

KWB = "99001NED"
HEALTH = "99002NED"
KWB_MODIFIED = "2025-03-27T02:00:00"
HEALTH_MODIFIED = "2023-06-01T02:00:00"
#: 50 municipalities x (1 GM + 10 WK x (1 + 20 BU)) + NL01 = 10,551 rows.
MUNICIPALITIES = ["0344", "1034"] + [f"{n:04d}" for n in range(1, 49)]
WIJKEN = range(40, 50)  # so GM1034 has WK103440 and BU10344001: they contain "0344" but are not Utrecht
BUURTEN = range(1, 21)
NAMES = {"0344": "Utrecht", "1034": "Almere", "0001": "Súdwest-Fryslân"}
KWB_ROWS = 1 + len(MUNICIPALITIES) * (1 + len(WIJKEN) * (1 + len(BUURTEN)))


def _pad(code: str, width: int = 10) -> str:
    return code.ljust(width)


def kwb_files(modified: str = KWB_MODIFIED) -> dict:
    regions = [("NL01", "Nederland", "Land", "Nederland")]
    for digits in MUNICIPALITIES:
        name = NAMES.get(digits, f"Gemeente {digits}")
        regions.append((f"GM{digits}", name, "Gemeente", name))
        for w in WIJKEN:
            regions.append((f"WK{digits}{w:02d}", f"Wijk {w:02d} {name}", "Wijk", name))
            regions += [(f"BU{digits}{w:02d}{b:02d}", f"Buurt {b:02d}", "Buurt", name) for b in BUURTEN]
    rows = []
    for i, (code, _title, kind, gemeente) in enumerate(regions):
        rows.append({
            "ID": i,
            "WijkenEnBuurten": _pad(code),
            "Gemeentenaam_1": gemeente.ljust(40),
            "SoortRegio_2": kind.ljust(10),
            "Codering_3": _pad(code, 20),
            "AantalInwoners_5": None if i % 7 == 3 else 100 + i,
            "GemiddeldeWOZWaardeVanWoningen_35": None if i % 5 == 0 else round(150 + i * 0.1, 1),
            "MateVanStedelijkheid_116": None if kind == "Buurt" and i % 2 else (i % 5) + 1,
        })
    dimension = [{"Key": _pad(c), "Title": t, "Description": None, "DetailRegionCode": _pad(c)}
                 for c, t, _, _ in regions]
    properties = [
        {"odata.type": "Cbs.OData.GeoDetail", "ID": 0, "Position": 0, "ParentID": None, "Type": "GeoDetail",
         "Key": "WijkenEnBuurten", "Title": "Wijken en buurten", "Description": "", "MapYear": 2024},
        _topic(1, "Gemeentenaam_1", "String", 0), _topic(2, "SoortRegio_2", "String", 0),
        _topic(3, "Codering_3", "String", 0), _topic(4, "AantalInwoners_5", "Long", 0),
        _topic(5, "GemiddeldeWOZWaardeVanWoningen_35", "Double", 1), _topic(6, "MateVanStedelijkheid_116", "Long", 0),
    ]
    info = {"ID": 0, "Title": "Kerncijfers wijken en buurten (test)", "ShortTitle": "KWB test", "Identifier": KWB,
            "Modified": modified, "Period": "2024", "Language": "nl", "Catalog": "CBS"}
    return {"TableInfos": [info], "DataProperties": properties, "CategoryGroups": [],
            "WijkenEnBuurten": dimension, "TypedDataSet": rows}


def health_files(modified: str = HEALTH_MODIFIED) -> dict:
    regions = ["NL01", "GM0344", "WK034440", "BU03444001", "GM1034", "WK103440", "BU10344001"]
    rows, i = [], 0
    for leeftijd in ("20300", "80200"):
        for region in regions:
            rows.append({"ID": i, "Leeftijd": leeftijd, "Marges": "MW00000", "WijkenEnBuurten": _pad(region),
                         "Perioden": "2022JJ00", "Eenzaam_28": None if i % 4 == 1 else 40.0 + i})
            i += 1
    dim = lambda pairs: [{"Key": k, "Title": t, "Description": None} for k, t in pairs]  # noqa: E731
    return {
        "TableInfos": [{"ID": 0, "Title": "Gezondheid per wijk en buurt (test)", "Identifier": HEALTH,
                        "Modified": modified, "Period": "2022"}],
        "DataProperties": [
            {"ID": 0, "Type": "Dimension", "Key": "Leeftijd", "Title": "Leeftijd"},
            {"ID": 1, "Type": "Dimension", "Key": "Marges", "Title": "Marges"},
            {"ID": 2, "Type": "GeoDimension", "Key": "WijkenEnBuurten", "Title": "Wijken en buurten"},
            {"ID": 3, "Type": "TimeDimension", "Key": "Perioden", "Title": "Perioden"},
            _topic(4, "Eenzaam_28", "Double", 1),
        ],
        "CategoryGroups": [{"ID": 1, "DimensionKey": "Leeftijd", "Title": "Leeftijd"}],
        "Leeftijd": dim([("20300", "18 jaar of ouder"), ("80200", "65 jaar of ouder")]),
        "Marges": dim([("MW00000", "Waarde")]),
        "WijkenEnBuurten": dim([(_pad(r), f"Regio {r}") for r in regions]),
        "Perioden": dim([("2022JJ00", "2022")]),
        "TypedDataSet": rows,
    }


def _topic(id_: int, key: str, datatype: str, decimals: int) -> dict:
    return {"odata.type": "Cbs.OData.Topic", "ID": id_, "Position": id_, "ParentID": None, "Type": "Topic",
            "Key": key, "Title": key.split("_")[0], "Description": "", "Datatype": datatype, "Unit": "",
            "Decimals": decimals, "Default": "Impossible", "PresentationType": "Absolute"}


def build_mirror(root: Path) -> Path:
    """Write both fake tables into ``root`` (source 'synthetic') and return it."""
    for table_id, files in ((KWB, kwb_files()), (HEALTH, health_files())):
        info = files["TableInfos"][0]
        mirror.write_table(root, table_id, files, title=info["Title"], modified=info["Modified"], source="synthetic")
    return root


@pytest.fixture(scope="session")
def template_mirror(tmp_path_factory) -> Path:
    return build_mirror(tmp_path_factory.mktemp("template") / "mirror")


@pytest.fixture
def served(template_mirror, tmp_path_factory):
    """A replay server over a private copy of the template mirror (tests may change it)."""
    root = tmp_path_factory.mktemp("served") / "mirror"
    shutil.copytree(template_mirror, root)
    with replay.serve(root) as server:
        yield server


@pytest.fixture
def cbs_options():
    """cbsodata's options are process-global: put them back after each test."""
    saved = (cbsodata.options.catalog_url, cbsodata.options.use_https, dict(cbsodata.options.requests))
    yield cbsodata.options
    cbsodata.options.catalog_url, cbsodata.options.use_https = saved[0], saved[1]
    cbsodata.options.requests.clear()
    cbsodata.options.requests.update(saved[2])


def _get(server, path: str, **params) -> dict:
    response = requests.get(server.base_url + path, params=params, timeout=5, proxies={})
    response.raise_for_status()
    return response.json()


# --- cbsodata itself against the replay server --------------------------------------------------


def test_cbsodata_download_data_reproduces_the_served_mirror(served, cbs_options, tmp_path):
    client.configure(served.base_url, timeout_s=5)
    out = tmp_path / "cbsodata"
    data = cbsodata.download_data(KWB, dir=str(out))

    # Default typed=False really fetches TypedDataSet (cbsodata's flag is inverted), as the mirror stores.
    assert sorted(data) == ["CategoryGroups", "DataProperties", "TableInfos", "TypedDataSet", "WijkenEnBuurten"]
    for name in data:
        saved = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        assert saved == mirror.read_json(served.mirror_dir, KWB, name), name
    rows = data["TypedDataSet"]
    assert len(rows) == KWB_ROWS > 10_000
    assert rows[1]["WijkenEnBuurten"] == "GM0344    " and rows[1]["Codering_3"] == "GM0344".ljust(20)
    assert rows[3]["AantalInwoners_5"] is None and rows[0]["GemiddeldeWOZWaardeVanWoningen_35"] is None
    pages = served.requests_for("TypedDataSet")
    assert len(pages) == 2 and pages[1]["query"]["$skip"] == "10000"


def test_cbsodata_get_data_filters_and_joins_titles(served, cbs_options):
    client.configure(served.base_url, timeout_s=5)
    rows = cbsodata.get_data(HEALTH, filters="WijkenEnBuurten eq 'GM0344    ' and Leeftijd eq '80200'")
    assert len(rows) == 1
    assert rows[0]["WijkenEnBuurten"] == "Regio GM0344" and rows[0]["Leeftijd"] == "65 jaar of ouder"
    assert served.requests_for("TypedDataSet")[0]["query"]["$filter"].startswith("WijkenEnBuurten eq")
    untyped = cbsodata.get_data(HEALTH, typed=True, select=["ID", "Eenzaam_28"])  # typed=True -> UntypedDataSet
    assert untyped[0] == {"ID": 0, "Eenzaam_28": "    40.0"} and untyped[1]["Eenzaam_28"] == "       ."


def test_cbsodata_table_list_and_catalog_filter(served, cbs_options):
    client.configure(served.base_url, timeout_s=5)
    tables = {t["Identifier"]: t for t in cbsodata.get_table_list()}
    assert tables[KWB]["Modified"] == KWB_MODIFIED and tables[HEALTH]["Modified"] == HEALTH_MODIFIED
    assert tables[KWB]["RecordCount"] == KWB_ROWS and tables[KWB]["ColumnCount"] == 8  # ID, region, 6 topics
    only = _get(served, "/ODataCatalog/Tables", **{"$format": "json", "$filter": f"Identifier eq '{HEALTH}'"})
    assert [t["Identifier"] for t in only["value"]] == [HEALTH]


# --- the feed: root listing, filters, select, paging ---------------------------------------------


def test_root_listing_names_every_resource_with_absolute_urls(served):
    body = _get(served, f"/ODataFeed/odata/{HEALTH}/", **{"$format": "json"})
    names = [entry["name"] for entry in body["value"]]
    assert names[:5] == ["TableInfos", "UntypedDataSet", "TypedDataSet", "DataProperties", "CategoryGroups"]
    assert sorted(names[5:]) == ["Leeftijd", "Marges", "Perioden", "WijkenEnBuurten"]
    assert body["value"][2]["url"] == f"{served.base_url}/ODataFeed/odata/{HEALTH}/TypedDataSet"
    assert _get(served, f"/ODataFeed/odata/{HEALTH.lower()}")["value"] == body["value"]  # ids are case-insensitive


@pytest.mark.parametrize(
    ("expression", "expected_ids"),
    [
        ("WijkenEnBuurten eq 'GM0344    '", [1, 8]),
        ("WijkenEnBuurten eq 'GM0344'", []),  # exact, like CBS: the padding is part of the code
        ("startswith(WijkenEnBuurten,'WK0344') or startswith(WijkenEnBuurten, 'BU0344')", [2, 3, 9, 10]),
        ("substringof('0344', WijkenEnBuurten) and Leeftijd eq '20300'", [1, 2, 3, 5, 6]),
        ("(startswith(WijkenEnBuurten,'GM') or WijkenEnBuurten eq 'NL01      ') "
         "and not (Leeftijd eq '80200')", [0, 1, 4]),
        ("Eenzaam_28 eq null", [1, 5, 9, 13]),
        ("Eenzaam_28 ge 52 and trim(WijkenEnBuurten) eq 'NL01'", []),
        ("Eenzaam_28 gt 45.5 and endswith(trim(WijkenEnBuurten), '01')", [6, 7, 10]),
    ],
)
def test_filter_expressions(served, expression, expected_ids):
    body = _get(served, f"/ODataFeed/odata/{HEALTH}/TypedDataSet", **{"$format": "json", "$filter": expression})
    assert [row["ID"] for row in body["value"]] == expected_ids


@pytest.mark.parametrize(
    "expression",
    ["WijkenEnBuurten eq", "Nope eq 'x'", "__import__('os') eq 1", "startswith(WijkenEnBuurten)", "a eq 'x' ) or (",
     "1; drop"],
)
def test_bad_filters_are_answered_with_400_and_never_evaluated(served, expression):
    response = requests.get(f"{served.base_url}/ODataFeed/odata/{HEALTH}/TypedDataSet",
                            params={"$filter": expression}, timeout=5, proxies={})
    assert response.status_code == 400
    assert response.json()["odata.error"]["message"]["value"]


def test_compile_filter_directly():
    predicate = replay.compile_filter("substringof('it''s', Name) or (N lt 3 and N ne null)")
    assert predicate({"Name": "it's here", "N": None}) and predicate({"Name": "", "N": 2})
    assert not predicate({"Name": "its", "N": 3}) and not predicate({"Name": None, "N": "2"})


def test_select_top_skip_and_paging_keep_the_query(served):
    url = f"/ODataFeed/odata/{KWB}/TypedDataSet"
    first = _get(served, url, **{"$format": "json", "$select": "ID,WijkenEnBuurten"})
    assert len(first["value"]) == 10_000 and set(first["value"][0]) == {"ID", "WijkenEnBuurten"}
    next_link = first["odata.nextLink"]
    assert next_link.startswith(f"{served.base_url}{url}?") and "$skip=10000" in next_link
    second = requests.get(next_link, timeout=5, proxies={}).json()
    assert len(second["value"]) == KWB_ROWS - 10_000 and "odata.nextLink" not in second
    assert set(second["value"][0]) == {"ID", "WijkenEnBuurten"} and second["value"][0]["ID"] == 10_000

    window = _get(served, url, **{"$skip": "9998", "$top": "5"})
    assert [r["ID"] for r in window["value"]] == [9998, 9999, 10000, 10001, 10002]
    assert "odata.nextLink" not in window
    wanted = "startswith(WijkenEnBuurten,'BU') or startswith(WijkenEnBuurten,'WK')"  # 10,500 rows
    filtered = _get(served, url, **{"$filter": wanted, "$top": "10005"})
    rest = requests.get(filtered["odata.nextLink"], timeout=5, proxies={}).json()
    assert len(filtered["value"]) == 10_000 and len(rest["value"]) == 5 and "odata.nextLink" not in rest
    assert all(r["WijkenEnBuurten"][:2] in ("BU", "WK") for r in rest["value"])


def test_unknown_table_resource_or_select_give_odata_errors(served):
    for path, params, status in [
        ("/ODataFeed/odata/00000XXX/TypedDataSet", {}, 404),
        (f"/ODataFeed/odata/.tmp-{KWB}-0/TableInfos", {}, 404),  # only table folders are served
        (f"/ODataFeed/odata/{KWB}/Nonsense", {}, 404),
        (f"/ODataFeed/odata/{KWB}/TypedDataSet", {"$select": "ID,Nope"}, 400),
        (f"/ODataFeed/odata/{KWB}/TypedDataSet", {"$top": "-1"}, 400),
    ]:
        response = requests.get(served.base_url + path, params=params, timeout=5, proxies={})
        assert response.status_code == status, path
        assert "odata.error" in response.json()


def test_rewritten_table_is_served_fresh(served):
    assert _get(served, f"/ODataFeed/odata/{HEALTH}/TableInfos")["value"][0]["Modified"] == HEALTH_MODIFIED
    files = health_files(modified="2024-01-01T00:00:00")
    files["TypedDataSet"] = files["TypedDataSet"][:3]
    mirror.write_table(served.mirror_dir, HEALTH, files, title="t", modified="2024-01-01T00:00:00", source="synthetic")
    assert _get(served, f"/ODataFeed/odata/{HEALTH}/TableInfos")["value"][0]["Modified"] == "2024-01-01T00:00:00"
    assert len(_get(served, f"/ODataFeed/odata/{HEALTH}/TypedDataSet")["value"]) == 3


# --- faults ------------------------------------------------------------------------------------


def test_error_fault_fails_n_times_then_recovers(served):
    served.faults.add("error", path_contains="TableInfos", times=2, status=503)
    url = f"{served.base_url}/ODataFeed/odata/{KWB}/TableInfos"
    statuses = [requests.get(url, timeout=5, proxies={}).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [e["fault"] for e in served.requests] == ["error", "error", None]


def test_truncate_drop_and_delay_faults(served):
    url = f"{served.base_url}/ODataFeed/odata/{HEALTH}/TypedDataSet"
    served.faults.add("truncate", path_contains="TypedDataSet")
    response = requests.get(url, timeout=5, proxies={})
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()

    served.faults.add("drop", path_contains="TypedDataSet")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(url, timeout=5, proxies={})

    served.faults.add("delay", path_contains="TypedDataSet", delay_s=3)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.get(url, timeout=0.3, proxies={})
    assert time.monotonic() - started < 2
    assert requests.get(url, timeout=5, proxies={}).json()["value"]  # every fault was used up


def test_permanent_fault_and_http_control_endpoint(served):
    control = f"{served.base_url}/_replay/faults"
    listed = requests.post(control, json=[{"kind": "error", "path_contains": "Perioden", "times": None}],
                           timeout=5, proxies={}).json()["faults"]
    assert listed == [{"kind": "error", "path_contains": "Perioden", "times": None, "status": 500,
                       "delay_s": 30.0, "hits": 0}]
    url = f"{served.base_url}/ODataFeed/odata/{HEALTH}/Perioden"
    assert [requests.get(url, timeout=5, proxies={}).status_code for _ in range(4)] == [500] * 4
    assert requests.post(control, json={"kind": "bogus"}, timeout=5, proxies={}).status_code == 400
    assert requests.delete(control, timeout=5, proxies={}).json() == {"faults": []}
    assert requests.get(url, timeout=5, proxies={}).status_code == 200
    log = requests.get(f"{served.base_url}/_replay/requests", timeout=5, proxies={}).json()["requests"]
    assert len(log) == 5 and all(entry["resource"] == "Perioden" for entry in log)  # control calls not logged


def test_command_line_serves_a_mirror_with_a_fault(template_mirror):
    process = subprocess.Popen(
        [sys.executable, "-m", "bwm.cbs.replay", "--mirror", str(template_mirror), "--port", "0",
         "--fault", "error,path=TableInfos,times=1,status=502"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        assert KWB in line and HEALTH in line
        base_url = line.split(" at ")[1].split()[0]
        url = f"{base_url}/ODataFeed/odata/{KWB}/TableInfos"
        assert requests.get(url, timeout=5, proxies={}).status_code == 502
        assert requests.get(url, timeout=5, proxies={}).json()["value"][0]["Identifier"] == KWB
    finally:
        process.terminate()
        process.wait(timeout=5)
        process.stdout.close()
