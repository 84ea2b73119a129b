"""The live path: download CBS OData v3 tables into the mirror, through cbsodata's configuration.

``cbsodata`` (1.3.5) keeps its settings in the global ``cbsodata.options``: ``catalog_url`` (host, and
optionally a path prefix), ``use_https`` and ``requests`` (keyword arguments handed to every
``requests.Session.send`` call: proxies, timeout, verify, cert). ``configure`` sets those, so both
``cbsodata.get_data(...)`` and this module reach the same base address (real CBS or the replay server).

Why this module fetches pages itself instead of calling ``cbsodata.download_data``: cbsodata retries
nothing, follows ``odata.nextLink`` inside one call (a failure on page 3 would restart the resource),
reports progress only through the root logger and sets no timeout of its own. We build the URLs with
cbsodata's own ``_get_table_url`` and send with ``options.requests``, page by page, so each page can be
retried, reported and bounded in time.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import cbsodata
import requests
import urllib3
from cbsodata import cbsodata3

from bwm import registry
from bwm.cbs import mirror
from bwm.settings import Settings

log = logging.getLogger(__name__)

ProgressFn = Callable[[str], None]

#: Resources every table root lists besides its dimensions (cbsodata treats the rest as dimensions).
NON_DIMENSIONS = ("TableInfos", "UntypedDataSet", "TypedDataSet", "DataProperties", "CategoryGroups")
#: Region dimension names of the tables this monitor reads (KWB 2013 uses RegioS).
REGION_DIMENSIONS = ("WijkenEnBuurten", "RegioS")
#: Above this many municipalities the OData filter would make the URL too long; filter locally instead.
MAX_FILTERED_MUNICIPALITIES = 25
#: A whole response may take this many times the socket timeout: the socket timeout catches a server that
#: stalls, this catches one that trickles a byte now and then (which resets the socket timeout each time).
TOTAL_TIMEOUT_FACTOR = 10
RETRY_BASE_DELAY_S = 1.0

_GM_CODE = re.compile(r"^GM(\d{4})$")
#: Region codes of the national row start with this (NL00, NL01).
NATIONAL_PREFIX = "NL"
_TABLE_ID = re.compile(r"^[A-Za-z0-9_-]+$")  # also keeps the id safe inside an OData $filter literal
_NEXT_STEP = (
    "Check the network connection and BWM_CBS_BASE_URL (BWM_CBS_DATADERDEN_URL for the health tables), or run "
    "from an existing mirror with BWM_SOURCE=mirror."
)


class CbsDownloadError(RuntimeError):
    """A CBS download failed for good; the message names table, resource, URL, cause and what to do next."""


@dataclass(frozen=True)
class DownloadResult:
    """Outcome of ``download_table``: ``status`` is ``'downloaded'`` or ``'skipped'`` (mirror up to date)."""

    table_id: str
    status: str
    row_count: int
    modified: str
    path: Path


def configure(base_url: str, timeout_s: float) -> None:
    """Point cbsodata (and this module) at ``base_url`` with a ``timeout_s`` socket timeout.

    ``base_url`` is like ``https://opendata.cbs.nl`` or ``http://127.0.0.1:8765``. Guarantees after the
    call: ``cbsodata.options.catalog_url``/``use_https`` address that server; every request cbsodata or
    this module sends carries an explicit ``proxies`` mapping, so requests never consults proxy
    environment variables on its own: for loopback hosts the mapping is empty (no proxy, ever), for
    other hosts it is what ``HTTP(S)_PROXY``/``NO_PROXY`` say now; ``options.requests['timeout']`` is set.
    """
    parts = urlsplit(base_url.strip().rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"BWM_CBS_BASE_URL={base_url!r} must look like https://opendata.cbs.nl")
    cbsodata.options.use_https = parts.scheme == "https"
    cbsodata.options.catalog_url = parts.netloc + parts.path
    # requests.Session.send only falls back to environment proxies when no `proxies` argument is given;
    # cbsodata always passes options.requests['proxies'], which it captured from http_proxy at import.
    # An explicit mapping therefore decides, and for loopback it must be empty: a corporate proxy
    # (or a test's HTTP_PROXY) cannot reach 127.0.0.1 on this machine.
    if _is_loopback(parts.hostname or ""):
        proxies: dict = {}
    else:
        proxies = requests.utils.get_environ_proxies(f"{parts.scheme}://{parts.netloc}/")
    cbsodata.options.requests["proxies"] = proxies
    # cbsodata sets no timeout, so by default a stalled server hangs it forever. It does pass
    # options.requests on to Session.send, so a timeout there bounds connect and each socket read.
    cbsodata.options.requests["timeout"] = float(timeout_s)


def region_filter(dimension: str, municipalities: tuple[str, ...]) -> str:
    """OData ``$filter`` selecting the national row and the GM, WK and BU codes of each municipality.

    The national row (``NL00`` in the KWB tables, ``NL01`` in the health tables) is always included: the
    comparisons against the Netherlands and the concentration threshold need CBS's national figure.
    ``substringof('0344', ...)`` would also match ``WK103440``; ``startswith`` on each prefix does not.
    """
    groups = [f"startswith({dimension},'{NATIONAL_PREFIX}')"]
    for digits in _municipality_digits(municipalities):
        parts = [f"startswith({dimension},'{level}{digits}')" for level in ("GM", "WK", "BU")]
        groups.append("(" + " or ".join(parts) + ")")
    return " or ".join(groups)


def download_table(
    table_id: str,
    mirror_dir: Path | str,
    *,
    municipalities: tuple[str, ...] = (),
    settings: Settings | None = None,
    force: bool = False,
    progress: ProgressFn | None = None,
    retry_base_delay_s: float = RETRY_BASE_DELAY_S,
) -> DownloadResult:
    """Download one table into ``<mirror_dir>/<table_id>/`` unless the mirror already has this version.

    TableInfos is fetched first; when the mirror's manifest (source ``cbs``) has the same ``Modified``
    and the same municipality filter and its files verify, nothing else is requested (``'skipped'``).
    Otherwise every resource is fetched (data rows limited to ``municipalities`` when given) and written
    atomically. Raises ``CbsDownloadError`` after the retries are spent; the existing folder is then
    untouched. Side effect: ``configure`` is applied to the process-wide ``cbsodata.options``.
    """
    _check_table_id(table_id)
    settings = settings or Settings()  # the defaults; callers pass the run's settings
    base_url = registry.base_url(table_id, settings)
    configure(base_url, settings.http_timeout_s)
    mirror_dir = Path(mirror_dir)
    digits = _municipality_digits(municipalities)  # validates before any request
    # The national row is part of every filtered download; recording it makes a mirror filtered before
    # that rule (without "NL") count as out of date, so it is downloaded again with its national row.
    wanted_filter = [NATIONAL_PREFIX, *sorted(f"GM{d}" for d in digits)] if digits else None
    fetch = _Fetcher(table_id, settings, progress, retry_base_delay_s)

    infos = fetch.resource("TableInfos")
    if not infos:
        raise CbsDownloadError(f"Table {table_id}: TableInfos is empty; is {table_id} a CBS table id?")
    modified, title = infos[0].get("Modified", ""), infos[0].get("Title", "")
    if not force and _up_to_date(mirror_dir, table_id, modified, wanted_filter):
        manifest = mirror.read_manifest(mirror_dir, table_id) or {}
        fetch.report(f"{table_id}: unchanged since {modified}, skipped")
        return DownloadResult(table_id, "skipped", manifest.get("row_count", 0), modified, mirror_dir / table_id)

    names = [entry["name"] for entry in fetch.resource("")]
    properties = fetch.resource("DataProperties")
    files: dict[str, list] = {"TableInfos": infos, "DataProperties": properties}
    files["CategoryGroups"] = fetch.resource("CategoryGroups") if "CategoryGroups" in names else []
    dimensions = [name for name in names if name not in NON_DIMENSIONS]
    region = _region_dimension(properties, dimensions)
    if digits and region is None:
        raise CbsDownloadError(f"Table {table_id} has no region dimension, so it cannot be limited to {municipalities}")

    keep = (lambda code: _in_municipalities(code, digits)) if digits else None
    for name in dimensions:
        rows = fetch.resource(name)
        files[name] = [r for r in rows if keep(r.get("Key"))] if keep and name == region else rows

    server_side = bool(digits) and len(digits) <= MAX_FILTERED_MUNICIPALITIES
    rows = fetch.resource("TypedDataSet", {"$filter": region_filter(region, municipalities)} if server_side else None)
    if keep:  # also when the server ignored or we skipped the filter: the mirror holds only these areas
        rows = [r for r in rows if keep(r.get(region))]
    files["TypedDataSet"] = rows

    path = mirror.write_table(
        mirror_dir, table_id, files, title=title, modified=modified, source="cbs",
        base_url=base_url, region_filter=wanted_filter,
    )
    fetch.report(f"{table_id}: {len(rows)} rows written to {path}")
    return DownloadResult(table_id, "downloaded", len(rows), modified, path)


def table_modified(
    table_id: str, *, settings: Settings | None = None, retry_base_delay_s: float = RETRY_BASE_DELAY_S
) -> str:
    """The ``Modified`` timestamp CBS publishes for ``table_id`` (catalog first, TableInfos as fallback)."""
    _check_table_id(table_id)
    settings = settings or Settings()  # the defaults; callers pass the run's settings
    configure(registry.base_url(table_id, settings), settings.http_timeout_s)
    fetch = _Fetcher(table_id, settings, None, retry_base_delay_s)
    catalog_url = f"{_scheme()}{cbsodata.options.catalog_url}/{cbsodata3.CATALOG}/Tables"
    try:
        rows = fetch.pages(catalog_url, {"$filter": f"Identifier eq '{table_id}'"}, "ODataCatalog/Tables")
    except CbsDownloadError as exc:
        # A host without a catalogue (or one that refuses the filter): the table's own TableInfos says it too.
        log.info("%s; asking %s's TableInfos instead", exc, table_id)
        rows = []
    if not rows:  # tables of other catalogs (e.g. dataderden) may not be listed; their TableInfos still are
        rows = fetch.resource("TableInfos")
    if not rows or not rows[0].get("Modified"):
        raise CbsDownloadError(f"Table {table_id} is not listed at {cbsodata.options.catalog_url}; check the table id")
    return rows[0]["Modified"]


# --- fetching with retries ---------------------------------------------------------------------------


class _Failure(Exception):
    def __init__(self, what: str, retry: bool):
        super().__init__(what)
        self.what, self.retry = what, retry


class _Fetcher:
    """Sends GETs the way cbsodata does (same URLs, ``options.requests``), page by page, with retries."""

    def __init__(self, table_id: str, settings: Settings, progress: ProgressFn | None, base_delay_s: float):
        self.table_id = table_id
        self.tries = 1 + max(0, int(settings.http_retries))
        self.timeout_s = float(settings.http_timeout_s)
        self.base_delay_s = base_delay_s
        self.progress = progress
        self.session = requests.Session()

    def report(self, message: str) -> None:
        log.info(message)
        if self.progress is not None:
            self.progress(message)

    def resource(self, name: str, params: dict | None = None) -> list:
        """All rows of one table resource (``""`` is the table root listing), following nextLink."""
        url = cbsodata3._get_table_url(self.table_id) + name
        return self.pages(url, params, name or "table root")

    def pages(self, url: str, params: dict | None, label: str) -> list:
        params = {"$format": cbsodata3.FORMAT, **(params or {})}
        rows: list = []
        page = 0
        while url:
            page += 1
            body = self._get(url, params, label)
            rows.extend(body["value"])
            self.report(f"{self.table_id} {label}: page {page}, {len(rows)} rows")
            url, params = body.get("odata.nextLink"), {}  # nextLink carries the query, as cbsodata assumes
        return rows

    def _get(self, url: str, params: dict, label: str) -> dict:
        prepared = requests.Request("GET", url, params=params).prepare()
        for attempt in range(1, self.tries + 1):
            try:
                return self._send(prepared)
            except _Failure as failure:
                if not failure.retry or attempt == self.tries:
                    raise self._error(label, prepared.url, failure, attempt) from None
                delay = self.base_delay_s * 2 ** (attempt - 1)
                retry = f"retry {attempt} of {self.tries - 1} in {delay:g} s"
                self.report(f"{self.table_id} {label}: {failure.what}; {retry}")
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _send(self, prepared: requests.PreparedRequest) -> dict:
        kwargs = {k: v for k, v in cbsodata.options.requests.items() if k != "stream"}
        kwargs.setdefault("timeout", self.timeout_s)
        limit_s = self.timeout_s * TOTAL_TIMEOUT_FACTOR
        deadline = time.monotonic() + limit_s
        try:
            with self.session.send(prepared, stream=True, **kwargs) as response:
                if response.status_code >= 400:
                    code = response.status_code
                    retryable = code >= 500 or code == 429
                    raise _Failure(f"HTTP {code}{_error_detail(response)}", retry=retryable)
                # read1 returns what one socket read delivers, so the deadline is checked at least once per
                # socket timeout; iter_content/stream block until a whole chunk is in, however slowly it comes.
                chunks, size = [], 0
                while chunk := response.raw.read1(64 * 1024, decode_content=True):
                    chunks.append(chunk)
                    size += len(chunk)
                    if time.monotonic() > deadline:
                        raise _Failure(f"too slow: the response took more than {limit_s:g} s", retry=True)
        except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
            raise _Failure(f"timed out after {self.timeout_s:g} s", retry=True) from None
        except requests.ConnectionError as exc:
            raise _Failure(_connection_failure(exc, self.timeout_s), retry=True) from None
        except (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError, OSError):
            # urllib3 raises IncompleteRead (a ProtocolError) when fewer bytes arrive than promised
            raise _Failure("connection dropped mid-response", retry=True) from None
        text = b"".join(chunks).decode("utf-8", errors="replace")
        try:
            body = json.loads(text)
        except ValueError as exc:
            truncated = getattr(exc, "pos", 0) >= len(text.rstrip()) - 1
            kind = "truncated JSON" if truncated else "invalid JSON"
            raise _Failure(f"{kind} ({size} bytes received: {exc})", retry=True) from None
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise _Failure("unexpected response: no 'value' list in the JSON", retry=True)
        return body

    def _error(self, label: str, url: str, failure: _Failure, attempt: int) -> CbsDownloadError:
        url = unquote(url)  # "$format=json" reads better than "%24format=json"
        tries = f"after {attempt} {'try' if attempt == 1 else 'tries'}"
        where = f"Table {self.table_id}: {label}"
        if failure.what.startswith("HTTP 404"):
            hint = f"CBS does not know table {self.table_id!r} (or its resource {label}): check the table id."
            return CbsDownloadError(f"{where} not found ({failure.what}) at {url}. {hint} {_NEXT_STEP}")
        if failure.what.startswith("HTTP 4"):
            hint = "The server refused the request itself, so it was not retried."
            return CbsDownloadError(f"{where} failed ({failure.what}) at {url}. {hint} {_NEXT_STEP}")
        return CbsDownloadError(
            f"Table {self.table_id}: downloading {label} failed {tries}: {failure.what}, at {url}. {_NEXT_STEP}"
        )


def _connection_failure(exc: requests.ConnectionError, timeout_s: float) -> str:
    text = repr(exc)
    if "ReadTimeout" in text or "timed out" in text:
        return f"timed out after {timeout_s:g} s"
    if "Refused" in text or "refused" in text:
        return "connection refused"
    return "connection dropped"


def _error_detail(response: requests.Response) -> str:
    """The first bit of an OData error message, if the body has one (read with a small cap)."""
    try:
        raw = response.raw.read(2000, decode_content=True)
        message = json.loads(raw)["odata.error"]["message"]["value"]
        return f" ({message[:200]})"
    except Exception:  # noqa: BLE001 - the status code alone is still a good message
        return ""


# --- helpers -----------------------------------------------------------------------------------------


def _up_to_date(mirror_dir: Path, table_id: str, modified: str, region: list[str] | None) -> bool:
    try:
        manifest = mirror.read_manifest(mirror_dir, table_id)
        if manifest is None or manifest.get("source") != "cbs":
            return False
        if manifest.get("modified") != modified or manifest.get("region_filter") != region:
            return False
        mirror.verify_table(mirror_dir, table_id)  # a damaged folder is downloaded again
        return True
    except mirror.MirrorError as exc:
        log.warning("%s; downloading %s again", exc, table_id)
        return False


def _region_dimension(properties: list[dict], dimensions: list[str]) -> str | None:
    for prop in properties:
        if prop.get("Type") in ("GeoDimension", "GeoDetail") and prop.get("Key") in dimensions:
            return prop["Key"]
    return next((name for name in REGION_DIMENSIONS if name in dimensions), None)


def _check_table_id(table_id: str) -> None:
    if not _TABLE_ID.match(table_id or ""):
        raise ValueError(f"{table_id!r} is not a CBS table id (like 85984NED)")


def _municipality_digits(municipalities: tuple[str, ...]) -> list[str]:
    digits = []
    for code in municipalities:
        match = _GM_CODE.match(code.strip().upper())
        if not match:
            raise ValueError(f"{code!r} is not a gemeente code like GM0344")
        digits.append(match.group(1))
    return sorted(set(digits))


def _in_municipalities(code: object, digits: list[str]) -> bool:
    """Whether a region code belongs in a mirror limited to these municipalities (the national row always)."""
    if not isinstance(code, str):
        return False
    return code.startswith(NATIONAL_PREFIX) or (code[:2] in ("GM", "WK", "BU") and code[2:6] in digits)


def _scheme() -> str:
    return "https://" if cbsodata.options.use_https else "http://"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
