"""Boundaries: reprojection, normalising every vintage of the wijk- en buurtkaart, the live download (against
a local HTTP server on 127.0.0.1), and the real Dordrecht buurten from ../shared/cbs-real/geo/."""

from __future__ import annotations

import csv
import gzip
import json
import math
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import plotly.graph_objects as go
import pytest

from bwm import geo
from bwm.settings import Settings
from bwm.site import figures

DORDRECHT_WGS84 = "geo/wijkbuurtkaart_2020_buurten_GM0505_dordrecht_wgs84.geojson"
DORDRECHT_EWKB = "geo/wijkbuurtkaart_2020_buurten_GM0505_dordrecht_ewkb.csv.gz"


def _square(x0, y0, d):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]]}


def test_rd_new_and_web_mercator_to_wgs84():
    # Amersfoort, the origin of RD New, lies at (155000, 463000).
    lon, lat = geo.rd_to_wgs84(155_000, 463_000)
    assert abs(lon - 5.387206) < 1e-6 and abs(lat - 52.15517) < 1e-6
    r = 6_378_137.0
    x, y = r * math.radians(4.9), r * math.log(math.tan(math.pi / 4 + math.radians(52.37) / 2))
    lon, lat = geo.webmercator_to_wgs84(x, y)
    assert abs(lon - 4.9) < 1e-9 and abs(lat - 52.37) < 1e-9


def test_normalise_reads_every_vintage_and_keeps_the_municipalities():
    collection = {"type": "FeatureCollection", "crs": {"properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
                  "features": [
                      {"properties": {"bu_code": "BU05050101", "bu_naam": "Binnenstad"},
                       "geometry": _square(105_000, 425_000, 500)},
                      {"properties": {"BUURTCODE": "bu05059997", "buurtnaam": "NULL"},
                       "geometry": _square(106_000, 425_000, 500)},
                      {"properties": {"buurtcode": "BU03440101", "buurtnaam": "Utrecht"},
                       "geometry": _square(136_000, 455_000, 500)},
                      {"properties": {"buurtcode": "BU05050102"}, "geometry": None},
                  ]}
    out = geo.normalise(collection, "buurten", ["GM0505"])
    codes = [f["properties"]["statcode"] for f in out["features"]]
    assert codes == ["BU05050101", "BU05059997"]
    assert out["features"][1]["properties"]["statnaam"] is None  # 'NULL' is no name
    lon, lat = out["features"][0]["geometry"]["coordinates"][0][0]
    assert 4.6 < lon < 4.8 and 51.7 < lat < 51.9  # Dordrecht


def test_simplify_keeps_the_ring_closed_and_drops_collinear_points():
    ring = [(0, 0)] + [(i / 10, 0) for i in range(1, 10)] + [(1, 0), (1, 1), (0, 1), (0, 0)]
    out = geo.simplify_ring(ring, 0.01)
    assert out[0] == out[-1] and len(out) == 5


class _Pdok(BaseHTTPRequestHandler):
    """A tiny OGC API Features server: buurten in two pages (RD New on page two), wijken refuse the gemeente
    filter (HTTP 400), gemeenten do not exist (404)."""

    requests: list[str] = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/geo+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self.requests.append(self.path)
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        base = f"http://127.0.0.1:{self.server.server_port}"
        if url.path.endswith("/collections/buurten/items"):
            if q.get("page") == ["2"]:
                return self._send(200, {"type": "FeatureCollection", "links": [], "features": [
                    {"type": "Feature", "properties": {"buurtcode": "BU99010002", "buurtnaam": "Twee"},
                     "geometry": _square(155_000, 463_000, 400)}],
                    "crs": {"properties": {"name": "EPSG:28992"}}})
            assert q.get("gemeentecode") == ["GM9901"]
            return self._send(200, {"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"buurtcode": "BU99010001", "buurtnaam": "Een"},
                 "geometry": _square(5.0, 52.0, 0.01)}],
                "links": [{"rel": "next", "href": f"{base}{url.path}?page=2"}]})
        if url.path.endswith("/collections/wijken/items"):
            if "gemeentecode" in q:
                return self._send(400, {"detail": "unknown query parameter"})
            return self._send(200, {"type": "FeatureCollection", "links": [], "features": [
                {"type": "Feature", "properties": {"wijkcode": "WK990100", "wijknaam": "W"},
                 "geometry": _square(5.0, 52.0, 0.02)},
                {"type": "Feature", "properties": {"wijkcode": "WK050501", "wijknaam": "elders"},
                 "geometry": _square(4.6, 51.8, 0.02)}]})
        return self._send(404, {"detail": "not found"})


@pytest.fixture
def pdok():
    _Pdok.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pdok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_download_year_pages_filters_reprojects_and_reports_missing_layers(pdok, tmp_path):
    got = geo.download_year(2024, tmp_path, ["GM9901"], pdok, timeout=5, retries=1)
    assert got == {"gemeenten": "unavailable", "wijken": "downloaded", "buurten": "downloaded"}
    assert any(r.startswith("/wijken-en-buurten-2024/ogc/v1/collections/buurten/items?") for r in _Pdok.requests)
    buurten = geo.read_layer(tmp_path, 2024, "buurten")
    assert [f["properties"]["statcode"] for f in buurten["features"]] == ["BU99010001", "BU99010002"]
    lon, lat = buurten["features"][1]["geometry"]["coordinates"][0][0]
    assert abs(lon - 5.387206) < 1e-5 and abs(lat - 52.15517) < 1e-5  # RD New page, reprojected
    assert buurten["source"].startswith(pdok) and buurten["retrieved_at"]
    wijken = geo.read_layer(tmp_path, 2024, "wijken")
    assert [f["properties"]["statcode"] for f in wijken["features"]] == ["WK990100"]  # kept client-side
    assert geo.available(tmp_path) == {2024: ["wijken", "buurten"]}
    assert not list((tmp_path / "geo" / "2024").glob(".*tmp"))  # written atomically, nothing left over


def test_live_boundaries_that_fail_do_not_fail_the_run(tmp_path):
    settings = Settings.from_env({"BWM_SOURCE": "live", "BWM_MIRROR_DIR": str(tmp_path), "BWM_YEARS": "2024",
                                  "BWM_GEO_BASE_URL": "http://127.0.0.1:9", "BWM_HTTP_RETRIES": "1",
                                  "BWM_HTTP_TIMEOUT": "2"})
    rows = geo.ensure_boundaries(settings)
    assert rows == [{"year": 2024, "status": "failed", "layers": [], "synthetic": False}]


def _ewkb_polygons(hexstr: str) -> list:
    """Polygons of a hex (E)WKB MultiPolygon/Polygon, enough for the PostGIS export in cbs-real."""
    buf, pos = bytes.fromhex(hexstr), 0

    def read(fmt):
        nonlocal pos
        vals = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return vals

    def geometry():
        (order,) = read("B")
        e = "<" if order == 1 else ">"
        (kind,) = read(e + "I")
        if kind & 0x20000000:
            read(e + "I")  # SRID
        kind &= 0xFFFF
        if kind == 3:
            (n_rings,) = read(e + "I")
            return [[[read(e + "dd") for _ in range(read(e + "I")[0])] for _ in range(n_rings)]]
        if kind == 6:
            (n,) = read(e + "I")
            return [p for _ in range(n) for p in geometry()]
        raise ValueError(f"geometry type {kind}")

    return geometry()


@pytest.mark.real_data
def test_rd_conversion_matches_the_real_dordrecht_reprojection(cbs_real):
    """The kaart's RD New outlines, converted here, land within a metre of the published WGS84 ones."""
    wgs84 = json.loads((cbs_real / DORDRECHT_WGS84).read_text())
    by_code = {f["properties"]["bu_code"]: f for f in wgs84["features"]}
    csv.field_size_limit(1 << 30)
    worst = 0.0
    with gzip.open(cbs_real / DORDRECHT_EWKB, "rt") as fh:
        for row in csv.DictReader(fh):
            ring = np.asarray(_ewkb_polygons(row["geovlak"])[0][0])
            lon, lat = geo.rd_to_wgs84(ring[:, 0], ring[:, 1])
            ref = np.asarray(by_code[row["bu_code"]]["geometry"]["coordinates"][0][0])
            worst = max(worst, float(np.abs(lon - ref[:, 0]).max()), float(np.abs(lat - ref[:, 1]).max()))
    assert worst < 1e-5  # about a metre


@pytest.mark.real_data
def test_real_dordrecht_buurten_import_and_draw(cbs_real, tmp_path):
    """The real 2020 buurten of Dordrecht go into a mirror and come out as a valid map of 130 areas."""
    geo.import_file(cbs_real / DORDRECHT_WGS84, 2020, "buurten", tmp_path, ["GM0505"])
    shapes = geo.shapes(tmp_path, 2020, "buurt")
    assert len(shapes) == 130 and all(code.startswith("BU0505") for code in shapes)
    outlines = []
    for code, shape in sorted(shapes.items()):
        xs, ys = figures.outline(shape.polygons, lambda r: geo.simplify_ring(r, 0.00007))
        assert all(4.5 < x < 4.95 for x in xs if x is not None) and all(51.65 < y < 51.85 for y in ys if y is not None)
        outlines.append((code, shape.name or code, xs, ys))
    values = {code: (float(i), f"{i}") for i, code in enumerate(sorted(shapes))}
    fig = figures.map_figure(outlines, values, "pct", "%")
    go.Figure(fig)
    assert sum(t.get("fill") == "toself" for t in fig["data"]) == 130
    assert len(json.dumps(fig)) < 200_000  # simplified: the full outlines are ~320 KB
