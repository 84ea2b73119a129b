"""Boundaries of gemeenten, wijken and buurten (the CBS wijk- en buurtkaart), kept in the mirror.

Layout, the same for downloaded, imported and synthetic boundaries::

    <mirror>/geo/<year>/{gemeenten,wijken,buurten}.geojson

Each file is a GeoJSON FeatureCollection in WGS84 (lon, lat) whose features carry the properties
``statcode`` (trimmed, upper case: ``BU05050101``) and ``statnaam``, plus top-level members saying where it
came from (``source``, ``retrieved_at``; ``synthetic: true`` for the demo's own shapes). Files are written
atomically (a temporary file, then ``os.replace``), so a reader sees the old file or the new one.

The live path downloads from PDOK's OGC API Features for the CBS wijken en buurten
(``{BWM_GEO_BASE_URL}/wijken-en-buurten-{year}/ogc/v1/collections/{layer}/items``). OGC API Features
answers in GeoJSON in CRS84 (lon, lat), so there is no axis-order trap, and pages are followed through
their ``next`` links. Whatever arrives is normalised the same way as an imported file: property names of
every vintage of the kaart (``statcode``, ``buurtcode``, ``bu_code`` ...) become ``statcode``/``statnaam``;
RD New (EPSG:28992) and Web Mercator (EPSG:3857) coordinates are reprojected to WGS84; features outside
the configured municipalities are dropped. PDOK does not publish every year under this name (older years
sit in a "historisch" dataset); a year the service does not know is reported as ``unavailable``, and the
site then says "geen kaart beschikbaar" for it. Any GeoJSON of the kaart can also be put into the mirror
with :func:`import_file` (for example one exported from CBS's GeoPackage on another machine).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

LAYERS = ("gemeenten", "wijken", "buurten")
LEVEL_LAYER = {"gemeente": "gemeenten", "wijk": "wijken", "buurt": "buurten"}

#: Candidate property names of the code and the name, per layer, over the vintages of the kaart
#: (statcode/statnaam: gebiedsindelingen and our own files; buurtcode/buurtnaam: PDOK 2021 onwards;
#: bu_code/bu_naam: the wijk- en buurtkaart up to 2020).
CODE_KEYS = {
    "gemeenten": ("statcode", "gemeentecode", "gm_code"),
    "wijken": ("statcode", "wijkcode", "wk_code"),
    "buurten": ("statcode", "buurtcode", "bu_code"),
}
NAME_KEYS = {
    "gemeenten": ("statnaam", "gemeentenaam", "gm_naam"),
    "wijken": ("statnaam", "wijknaam", "wk_naam"),
    "buurten": ("statnaam", "buurtnaam", "bu_naam"),
}
_NULL_TEXT = {"", "NULL", "null", "None"}

#: Pages of at most this many features are requested (PDOK's maximum for OGC API Features).
PAGE_LIMIT = 1000
#: A download stops after this many pages of one layer (a national buurten layer needs about 15).
MAX_PAGES = 100

Progress = Callable[[str], None]


class GeoError(RuntimeError):
    """Boundaries could not be read, converted or downloaded; the message says which and why."""


@dataclass(frozen=True)
class Shape:
    """One area's outline: polygons, each a list of rings (the first the outer ring), rings as (lon, lat)."""

    code: str
    name: str | None
    polygons: list[list[list[tuple[float, float]]]]


# --- where the files are ---------------------------------------------------------------------------------


def layer_path(mirror_dir: Path, year: int, layer: str) -> Path:
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; expected one of {', '.join(LAYERS)}")
    return Path(mirror_dir) / "geo" / str(int(year)) / f"{layer}.geojson"


def available(mirror_dir: Path) -> dict[int, list[str]]:
    """Year -> the layers the mirror holds boundaries for."""
    root = Path(mirror_dir) / "geo"
    out: dict[int, list[str]] = {}
    if not root.is_dir():
        return out
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and folder.name.isdigit():
            layers = [layer for layer in LAYERS if (folder / f"{layer}.geojson").is_file()]
            if layers:
                out[int(folder.name)] = layers
    return out


def read_layer(mirror_dir: Path, year: int, layer: str) -> dict | None:
    """The FeatureCollection of one layer and year, or None when the mirror has none."""
    path = layer_path(mirror_dir, year, layer)
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise GeoError(f"Cannot read the boundaries {path}: {exc}. Delete the file and download it again.") from exc


def shapes(mirror_dir: Path, year: int, level: str) -> dict[str, Shape] | None:
    """The shapes of one level (gemeente/wijk/buurt) and year by area code, or None without a file."""
    collection = read_layer(mirror_dir, year, LEVEL_LAYER[level])
    if collection is None:
        return None
    out = {}
    for feature in collection.get("features", []):
        props = feature.get("properties") or {}
        code = str(props.get("statcode") or "").strip().upper()
        polygons = _polygons(feature.get("geometry"))
        if code and polygons:
            out[code] = Shape(code, props.get("statnaam"), polygons)
    return out


def is_synthetic(mirror_dir: Path, year: int, level: str) -> bool:
    collection = read_layer(mirror_dir, year, LEVEL_LAYER[level])
    return bool(collection and collection.get("synthetic"))


def _polygons(geometry: dict | None) -> list:
    if not geometry:
        return []
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        return [coords]
    if kind == "MultiPolygon":
        return list(coords)
    return []


# --- normalising: properties, coordinates, municipalities --------------------------------------------------


def detect_crs(collection: dict) -> str:
    """'EPSG:4326', 'EPSG:28992' or 'EPSG:3857', from the ``crs`` member or else from the coordinates' size."""
    name = str(((collection.get("crs") or {}).get("properties") or {}).get("name") or "")
    for code in ("28992", "3857", "900913"):
        if code in name:
            return "EPSG:3857" if code == "900913" else f"EPSG:{code}"
    if "4326" in name or "CRS84" in name:
        return "EPSG:4326"
    for feature in collection.get("features") or []:
        for polygon in _polygons(feature.get("geometry")):
            x, y = polygon[0][0][:2]
            if abs(x) <= 180 and abs(y) <= 90:
                return "EPSG:4326"
            if 0 <= x <= 300_000 and 250_000 <= y <= 650_000:
                return "EPSG:28992"
            return "EPSG:3857"
    return "EPSG:4326"


def rd_to_wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    """RD New (EPSG:28992) metres -> WGS84 (lon, lat) degrees.

    The polynomial approximation of Schreutelkamp and Strang van Hees (as published by the Dutch
    Kadaster's RDNAPTRANS notes for quick conversions); within about a metre over the Netherlands, which
    is far below what a neighbourhood map shows, and it needs no projection library.
    """
    dx = (np.asarray(x, dtype=float) - 155_000.0) * 1e-5
    dy = (np.asarray(y, dtype=float) - 463_000.0) * 1e-5
    sum_n = (3235.65389 * dy - 32.58297 * dx**2 - 0.2475 * dy**2 - 0.84978 * dx**2 * dy - 0.0655 * dy**3
             - 0.01709 * dx**2 * dy**2 - 0.00738 * dx + 0.0053 * dx**4 - 0.00039 * dx**2 * dy**3
             + 0.00033 * dx**4 * dy - 0.00012 * dx * dy)
    sum_e = (5260.52916 * dx + 105.94684 * dx * dy + 2.45656 * dx * dy**2 - 0.81885 * dx**3
             + 0.05594 * dx * dy**3 - 0.05607 * dx**3 * dy + 0.01199 * dy - 0.00256 * dx**3 * dy**2
             + 0.00128 * dx * dy**4 + 0.00022 * dy**2 - 0.00022 * dx**2 + 0.00026 * dx**5)
    return 5.387206 + sum_e / 3600.0, 52.15517 + sum_n / 3600.0


def webmercator_to_wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator (EPSG:3857) metres -> WGS84 (lon, lat) degrees (spherical formulas, exact)."""
    r = 6_378_137.0
    lon = np.degrees(np.asarray(x, dtype=float) / r)
    lat = np.degrees(2 * np.arctan(np.exp(np.asarray(y, dtype=float) / r)) - math.pi / 2)
    return lon, lat


_TRANSFORMS = {"EPSG:28992": rd_to_wgs84, "EPSG:3857": webmercator_to_wgs84}


def _transform_geometry(geometry: dict, transform) -> dict:
    def ring(r):
        arr = np.asarray([p[:2] for p in r], dtype=float)
        if transform is not None:
            lon, lat = transform(arr[:, 0], arr[:, 1])
            arr = np.column_stack([lon, lat])
        return [[round(float(a), 6), round(float(b), 6)] for a, b in arr]

    polygons = [[ring(r) for r in polygon] for polygon in _polygons(geometry)]
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def _first(props: dict, keys: Iterable[str]):
    lowered = {k.lower(): v for k, v in props.items()}
    for key in keys:
        v = lowered.get(key)
        if v is not None and str(v).strip() not in _NULL_TEXT:
            return str(v).strip()
    return None


def gemeente_of(code: str) -> str | None:
    """``BU05050101`` / ``WK050501`` / ``GM0505`` -> ``GM0505``."""
    code = code.strip().upper()
    if len(code) >= 6 and code[:2] in ("BU", "WK", "GM") and code[2:6].isdigit():
        return f"GM{code[2:6]}"
    return None


def normalise(collection: dict, layer: str, municipalities: Iterable[str] = (), source: str | None = None) -> dict:
    """A kaart layer as the mirror keeps it: WGS84, ``statcode``/``statnaam``, only the given gemeenten."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    if collection.get("type") != "FeatureCollection":
        raise GeoError(f"expected a GeoJSON FeatureCollection for {layer}, got {collection.get('type')!r}")
    keep = {m.upper() for m in municipalities}
    transform = _TRANSFORMS.get(detect_crs(collection))
    features = []
    for feature in collection.get("features") or []:
        props = feature.get("properties") or {}
        code = _first(props, CODE_KEYS[layer])
        if not code or not feature.get("geometry"):
            continue
        code = code.upper()
        if keep and gemeente_of(code) not in keep:
            continue
        geometry = _transform_geometry(feature["geometry"], transform)
        if not geometry["coordinates"]:
            continue
        features.append({"type": "Feature",
                         "properties": {"statcode": code, "statnaam": _first(props, NAME_KEYS[layer])},
                         "geometry": geometry})
    out = {"type": "FeatureCollection", "name": layer, "features": features}
    if collection.get("synthetic"):
        out["synthetic"] = True
    if source:
        out["source"] = source
    return out


def write_layer(mirror_dir: Path, year: int, layer: str, collection: dict) -> Path:
    """Write one layer atomically into the mirror; returns its path."""
    path = layer_path(mirror_dir, year, layer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(collection, fh, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def import_file(path: Path, year: int, layer: str, mirror_dir: Path, municipalities: Iterable[str] = ()) -> Path:
    """Put a GeoJSON of the kaart (any vintage's property names; RD, Web Mercator or WGS84) into the mirror."""
    with open(path, encoding="utf-8") as fh:
        collection = json.load(fh)
    normalised = normalise(collection, layer, municipalities, source=f"file:{Path(path).name}")
    normalised["retrieved_at"] = _now()
    return write_layer(mirror_dir, year, layer, normalised)


# --- simplifying for the pages -----------------------------------------------------------------------------


def simplify_ring(ring: list, tolerance: float) -> list:
    """Douglas-Peucker on one closed ring (degrees); keeps the ring closed and at least a triangle."""
    pts = np.asarray(ring, dtype=float)[:, :2]
    if len(pts) <= 4 or tolerance <= 0:
        return [tuple(p) for p in pts]
    keep = np.zeros(len(pts), dtype=bool)
    keep[0] = keep[-1] = True
    # split a closed ring at its farthest point from the start, so both halves are open polylines
    far = int(np.argmax(((pts - pts[0]) ** 2).sum(axis=1)))
    keep[far] = True
    stack = [(0, far), (far, len(pts) - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = pts[b] - pts[a]
        rel = pts[a + 1:b] - pts[a]
        norm = math.hypot(*seg)
        dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm if norm else np.hypot(rel[:, 0], rel[:, 1])
        i = int(np.argmax(dist))
        if dist[i] > tolerance:
            keep[a + 1 + i] = True
            stack += [(a, a + 1 + i), (a + 1 + i, b)]
    out = pts[keep]
    if len(out) < 4:
        return [tuple(p) for p in pts]
    return [tuple(p) for p in out]


# --- downloading from PDOK ---------------------------------------------------------------------------------


def layer_url(base_url: str, year: int, layer: str) -> str:
    return f"{base_url.rstrip('/')}/wijken-en-buurten-{int(year)}/ogc/v1/collections/{layer}/items"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _get_json(session, url: str, params: dict | None, timeout: float, retries: int):
    """GET a JSON document; retries connection errors, time-outs and 5xx ``retries`` times (so at most
    ``retries + 1`` tries, as the CBS client: BWM_HTTP_RETRIES); returns (status, json or None)."""
    import requests

    last: Exception | None = None
    for attempt in range(1 + max(0, retries)):
        try:
            resp = session.get(url, params=params, timeout=timeout, headers={"Accept": "application/geo+json"})
        except (requests.ConnectionError, requests.Timeout) as exc:
            last = exc
        else:
            if resp.status_code >= 500:
                last = GeoError(f"HTTP {resp.status_code} from {resp.url}")
            elif resp.status_code >= 400:
                return resp.status_code, None
            else:
                try:
                    return resp.status_code, resp.json()
                except ValueError as exc:
                    last = GeoError(f"{resp.url} did not answer with JSON: {exc}")
        if attempt < retries:
            time.sleep(min(8.0, 0.5 * 2**attempt))
    raise GeoError(f"Could not download {url}: {last}")


def _fetch_layer(session, url: str, params: dict, timeout: float, retries: int) -> tuple[int, list[dict]]:
    """All pages of a layer, following ``next`` links. Returns (HTTP status of the first page, pages).

    Pages are kept apart because each is a GeoJSON document of its own (with its own ``crs`` member).
    """
    status, page = _get_json(session, url, params, timeout, retries)
    if page is None:
        return status, []
    pages = [page]
    for _ in range(MAX_PAGES):
        nxt = next((link.get("href") for link in page.get("links") or []
                    if link.get("rel") == "next" and link.get("href")), None)
        if not nxt or not page.get("features"):
            break
        status_n, page = _get_json(session, nxt, None, timeout, retries)
        if page is None:
            raise GeoError(f"HTTP {status_n} while paging {nxt}")
        pages.append(page)
    return status, pages


def download_year(year: int, mirror_dir: Path, municipalities: Iterable[str], base_url: str,
                  timeout: float = 60.0, retries: int = 4, layers: Iterable[str] = LAYERS,
                  progress: Progress | None = None, session=None) -> dict[str, str]:
    """Download the kaart of one year into the mirror; returns layer -> 'downloaded' or 'unavailable'.

    Per municipality the request carries ``gemeentecode=GMxxxx`` (a queryable of PDOK's collections); a
    server that refuses the parameter (HTTP 400) is asked for the whole layer, and the municipalities are
    kept client-side. A layer is only written when it arrives completely.
    """
    import requests

    say = progress or (lambda _m: None)
    session = session or requests.Session()
    codes = [m.upper() for m in municipalities]
    result = {}
    for layer in layers:
        url = layer_url(base_url, year, layer)
        pages: list[dict] = []
        status = 200
        for code in codes or [None]:
            params = {"f": "json", "limit": PAGE_LIMIT}
            if code:
                params["gemeentecode"] = code
            status, got = _fetch_layer(session, url, params, timeout, retries)
            if status == 400 and code:
                params.pop("gemeentecode")
                status, got = _fetch_layer(session, url, params, timeout, retries)
                pages += got
                break  # the whole layer arrived; normalise() keeps the municipalities
            if status >= 400:
                break
            pages += got
        if status >= 400:
            say(f"geo {year} {layer}: not available at {url} (HTTP {status})")
            result[layer] = "unavailable"
            continue
        seen: set[str] = set()
        features = []
        for page in pages:  # each page normalised on its own: its own crs member
            page = {**page, "type": "FeatureCollection"}
            for feature in normalise(page, layer, codes)["features"]:
                if feature["properties"]["statcode"] not in seen:
                    seen.add(feature["properties"]["statcode"])
                    features.append(feature)
        collection = {"type": "FeatureCollection", "name": layer, "features": features, "source": url,
                      "retrieved_at": _now()}
        write_layer(mirror_dir, year, layer, collection)
        say(f"geo {year} {layer}: {len(collection['features'])} features")
        result[layer] = "downloaded"
    return result


def ensure_boundaries(settings, progress: Progress | None = None) -> list[dict]:
    """What the mirror holds per configured year; in live mode, download the years it lacks first.

    Boundaries are optional: a download that fails is reported (status 'failed') and the run goes on; the
    site says "geen kaart beschikbaar" for that year.
    """
    say = progress or (lambda _m: None)
    have = available(settings.mirror_dir)
    rows = []
    for year in settings.years:
        status = "present" if set(have.get(year, [])) == set(LAYERS) else "missing"
        if settings.source == "live" and status == "missing":
            try:
                got = download_year(year, settings.mirror_dir, settings.municipalities, settings.geo_base_url,
                                    timeout=settings.http_timeout_s, retries=settings.http_retries, progress=say)
                status = "downloaded" if all(v == "downloaded" for v in got.values()) else \
                    ("partial" if any(v == "downloaded" for v in got.values()) else "unavailable")
            except GeoError as exc:
                say(f"geo {year}: download failed: {exc}")
                status = "failed"
        layers = available(settings.mirror_dir).get(year, [])
        rows.append({"year": year, "status": status, "layers": layers,
                     "synthetic": "buurten" in layers and is_synthetic(settings.mirror_dir, year, "buurt")})
    return rows
