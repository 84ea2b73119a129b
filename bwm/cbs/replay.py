"""A local CBS replay server: serves a mirror folder as the CBS OData v3 feed, with fault injection.

URL layout is what cbsodata 1.3.5 requests (``{base}/ODataFeed/odata/{table}/{resource}?$format=json``):

* ``/ODataFeed/odata/{table}/`` lists the table's resources as ``{"name", "url"}`` (cbsodata takes every
  name that is not TableInfos/…DataSet/DataProperties/CategoryGroups to be a dimension, and removes one
  of ``TypedDataSet``/``UntypedDataSet`` from the list, so both must be listed);
* ``/ODataFeed/odata/{table}/{resource}`` answers ``{"odata.metadata", "value": [...]}`` with
  ``$filter``, ``$select``, ``$top``, ``$skip`` and pages of ``page_size`` (10,000, as CBS) rows linked
  by an absolute ``odata.nextLink``. ``UntypedDataSet`` is derived from ``TypedDataSet``: measures as
  right-aligned strings, suppressed values as ``"       ."``, which approximates what CBS sends;
* ``/ODataCatalog/Tables`` lists every table of the mirror with its ``Modified``.

Faults (``server.faults.add(kind, path_contains=..., times=n)``, or POST JSON to ``/_replay/faults``):
``error`` (HTTP ``status``, default 500), ``delay`` (sleep ``delay_s`` before answering), ``truncate``
(a valid HTTP response whose JSON body is cut in half) and ``drop`` (headers and half the body, then the
socket is closed). ``times=None`` (JSON ``null``, command line ``times=always``) makes a fault permanent.
Every request except ``/_replay/`` control calls (GET/DELETE ``/_replay/requests``) is kept in
``server.requests``. Command line: ``python -m bwm.cbs.replay --mirror DIR --port 8765 [--fault ...]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import socket
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from bwm import registry
from bwm.cbs import mirror

log = logging.getLogger(__name__)

PAGE_SIZE = 10_000
FAULT_KINDS = ("error", "delay", "truncate", "drop")
_DATA_SETS = ("TypedDataSet", "UntypedDataSet")
_FIRST = ("TableInfos", "UntypedDataSet", "TypedDataSet", "DataProperties", "CategoryGroups")
_COLUMN_TYPES = ("Dimension", "TimeDimension", "GeoDimension", "GeoDetail", "Topic")
_TABLE_ID = re.compile(r"^[A-Za-z0-9_-]+$")


# --- $filter: a small recursive-descent parser that compiles to closures (never eval) ---------------


class FilterError(ValueError):
    """The ``$filter`` text is not something this server understands; answered with HTTP 400."""


_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_]\w*)|(?P<sym>[(),]))")
_COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: _ordered(a, b) and a > b,
    "ge": lambda a, b: _ordered(a, b) and a >= b,
    "lt": lambda a, b: _ordered(a, b) and a < b,
    "le": lambda a, b: _ordered(a, b) and a <= b,
}
_STRINGS = lambda *v: all(isinstance(x, str) for x in v)  # noqa: E731
_FUNCTIONS: dict[str, tuple[int, Callable]] = {
    "startswith": (2, lambda s, p: _STRINGS(s, p) and s.startswith(p)),
    "endswith": (2, lambda s, p: _STRINGS(s, p) and s.endswith(p)),
    "substringof": (2, lambda needle, s: _STRINGS(s, needle) and needle in s),
    "trim": (1, lambda s: s.strip() if isinstance(s, str) else s),
    "tolower": (1, lambda s: s.lower() if isinstance(s, str) else s),
    "toupper": (1, lambda s: s.upper() if isinstance(s, str) else s),
}
_CONSTANTS = {"null": None, "true": True, "false": False}


def _ordered(a: Any, b: Any) -> bool:
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    return numbers or _STRINGS(a, b)


def compile_filter(text: str, fields: set[str] | None = None) -> Callable[[dict], bool]:
    """Compile an OData v3 ``$filter`` into ``row -> bool``.

    Supports ``eq ne gt ge lt le``, ``and``/``or``/``not``, parentheses, ``startswith``, ``endswith``,
    ``substringof``, ``trim``, ``tolower``, ``toupper``, string/number/``null``/``true``/``false``
    literals. String comparison is exact, so padded CBS codes must be written padded (``'GM0344    '``).
    Names not in ``fields`` (when given) raise ``FilterError``, as CBS answers such filters with 400.
    """
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterError(f"cannot parse $filter at position {pos}: {text[pos:pos + 20]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    parser = _Parser(tokens, fields)
    predicate = parser.parse_or()
    if parser.pos != len(tokens):
        raise FilterError(f"unexpected {tokens[parser.pos][1]!r} in $filter")
    return lambda row: predicate(row) is True


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], fields: set[str] | None):
        self.tokens, self.pos, self.fields = tokens, 0, fields

    def peek(self, value: str | None = None) -> tuple[str, str] | None:
        token = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        if value is not None and (token is None or token[1].lower() != value):
            return None
        return token

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek(value)
        if token is None:
            raise FilterError(f"$filter ends too early; expected {value or 'more'}")
        self.pos += 1
        return token

    def parse_or(self) -> Callable:
        left = self.parse_and()
        while self.peek("or"):
            self.take()
            left = (lambda a, b: lambda r: a(r) is True or b(r) is True)(left, self.parse_and())
        return left

    def parse_and(self) -> Callable:
        left = self.parse_not()
        while self.peek("and"):
            self.take()
            left = (lambda a, b: lambda r: a(r) is True and b(r) is True)(left, self.parse_not())
        return left

    def parse_not(self) -> Callable:
        if self.peek("not"):
            self.take()
            inner = self.parse_not()
            return lambda r: inner(r) is not True
        left = self.parse_operand()
        token = self.peek()
        if token and token[0] == "name" and token[1].lower() in _COMPARE:
            compare = _COMPARE[self.take()[1].lower()]
            right = self.parse_operand()
            return lambda r: compare(left(r), right(r))
        return left

    def parse_operand(self) -> Callable:
        kind, value = self.take()
        if value == "(":
            inner = self.parse_or()
            self.take(")")
            return inner
        if kind == "str":
            literal = value[1:-1].replace("''", "'")
            return lambda r: literal
        if kind == "num":
            number = float(value) if "." in value else int(value)
            return lambda r: number
        if kind != "name":
            raise FilterError(f"unexpected {value!r} in $filter")
        if self.peek("("):
            return self.parse_call(value)
        if value.lower() in _CONSTANTS:
            constant = _CONSTANTS[value.lower()]
            return lambda r: constant
        if self.fields is not None and value not in self.fields:
            raise FilterError(f"Could not find a property named '{value}'")
        return lambda r: r.get(value)

    def parse_call(self, name: str) -> Callable:
        if name.lower() not in _FUNCTIONS:
            raise FilterError(f"unknown function {name!r} in $filter")
        arity, function = _FUNCTIONS[name.lower()]
        self.take("(")
        args = [self.parse_or()]
        while self.peek(","):
            self.take()
            args.append(self.parse_or())
        self.take(")")
        if len(args) != arity:
            raise FilterError(f"{name} takes {arity} argument(s), got {len(args)}")
        return lambda r: function(*(arg(r) for arg in args))


# --- faults ------------------------------------------------------------------------------------------


@dataclass
class Fault:
    """One injected fault; ``times=None`` means every matching request, else it is used up."""

    kind: str
    path_contains: str = ""
    times: int | None = 1
    status: int = 500
    delay_s: float = 30.0
    hits: int = 0


class FaultPlan:
    """Thread-safe list of faults; the first fault matching a request path is applied to it."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, kind: str, path_contains: str = "", times: int | None = 1, *, status: int = 500,
            delay_s: float = 30.0) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} is not one of {FAULT_KINDS}")
        if times is not None and int(times) < 1:
            raise ValueError("times must be at least 1, or None for a permanent fault")
        fault = Fault(kind, path_contains, None if times is None else int(times), int(status), float(delay_s))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def take(self, path: str) -> Fault | None:
        decoded = unquote(path)
        with self._lock:
            for fault in self._faults:
                if fault.path_contains in path or fault.path_contains in decoded:
                    fault.hits += 1
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


# --- the server --------------------------------------------------------------------------------------


class _HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class _Table:
    """A table's files, parsed once and kept while its manifest file stays the same."""

    def __init__(self, folder: Path, stamp: tuple):
        self.folder, self.stamp = folder, stamp
        self.manifest = json.loads((folder / mirror.MANIFEST).read_text(encoding="utf-8"))
        self._files: dict[str, list] = {}
        self._lock = threading.Lock()

    def resources(self) -> list[str]:
        names = [n[:-5] for n in self.manifest["files"]]
        if "TypedDataSet" in names:
            names.append("UntypedDataSet")
        return [n for n in _FIRST if n in names] + sorted(n for n in names if n not in _FIRST)

    def rows(self, name: str) -> list:
        with self._lock:
            if name not in self._files:
                if name == "UntypedDataSet":
                    self._files[name] = _untyped(self._load("TypedDataSet"), self._load("DataProperties"))
                else:
                    self._files[name] = self._load(name)
            return self._files[name]

    def _load(self, name: str) -> list:
        """Parse one file of the folder once (caller holds the lock); a file not in the table is []."""
        if name not in self._files and f"{name}.json" in self.manifest["files"]:
            self._files[name] = json.loads((self.folder / f"{name}.json").read_bytes().decode("utf-8"))
        return self._files.get(name, [])


class ReplayServer:
    """Serves ``mirror_dir`` over HTTP in a background thread; use as a context manager or start/stop."""

    def __init__(self, mirror_dir: Path | str, host: str = "127.0.0.1", port: int = 0, page_size: int = PAGE_SIZE,
                 catalog: str | None = None):
        if catalog is not None and catalog not in registry.CATALOGS:
            raise ValueError(f"catalog={catalog!r} is not one of {', '.join(registry.CATALOGS)}")
        self.mirror_dir = Path(mirror_dir)
        self.page_size = page_size
        #: Serve only the tables of this CBS catalogue (as opendata.cbs.nl and dataderden.cbs.nl each serve
        #: their own); None serves every table of the mirror.
        self.catalog = catalog
        self.faults = FaultPlan()
        self._log: list[dict] = []
        self._tables: dict[str, _Table] = {}
        self._filtered: OrderedDict = OrderedDict()  # (table, stamp, resource, filter) -> rows, small LRU
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.replay = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None
        bound_host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.base_url = f"http://{bound_host}:{self._httpd.server_address[1]}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay fault
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> ReplayServer:
        return self if self._thread else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def requests(self) -> list[dict]:
        """Every data request so far: method, path, table, resource, query, status, fault."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    def requests_for(self, resource: str) -> list[dict]:
        return [entry for entry in self.requests if entry["resource"] == resource]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    # -- request handling --

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if path.startswith("/_replay/"):
            status, payload = self._control(handler, method, path)
            return _send(handler, status, json.dumps(payload).encode("utf-8"))
        entry = {"method": method, "path": handler.path, "table": None, "resource": None, "query": query,
                 "status": None, "fault": None}
        with self._lock:
            self._log.append(entry)
        fault = self.faults.take(handler.path)
        entry["fault"] = fault.kind if fault else None
        base = f"http://{handler.headers.get('Host')}" if handler.headers.get("Host") else self.base_url
        try:
            if method != "GET":
                raise _HttpError(405, f"{method} is not supported")
            status, payload = 200, self._route(path, query, base, entry)
        except _HttpError as exc:
            status, payload = exc.status, _odata_error(exc.message)
        if fault and fault.kind == "error":
            status, payload = fault.status, _odata_error(f"injected fault: HTTP {fault.status}")
        entry["status"] = status
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if fault and fault.kind == "delay":
            if self._stopping.wait(fault.delay_s):
                return
        if fault and fault.kind == "truncate":
            body = body[: len(body) // 2]
        if fault and fault.kind == "drop":
            return _send(handler, status, body, cut_after=len(body) // 2)
        _send(handler, status, body)

    def _route(self, path: str, query: dict, base: str, entry: dict) -> dict:
        segments = [s for s in path.split("/") if s]
        lowered = [s.lower() for s in segments]
        if lowered[:2] == ["odatafeed", "odata"] and len(segments) in (3, 4):
            table = self._table(segments[2])
            entry["table"] = table_id = table.manifest["table_id"]
            feed = f"{base}/ODataFeed/odata/{table_id}"
            if len(segments) == 3:
                entry["resource"] = ""
                listing = [{"name": n, "url": f"{feed}/{n}"} for n in table.resources()]
                return {"odata.metadata": f"{feed}/$metadata", "value": listing}
            resource = next((n for n in table.resources() if n.lower() == lowered[3]), None)
            if resource is None:
                raise _HttpError(404, f"Resource not found for the segment '{segments[3]}'.")
            entry["resource"] = resource
            rows = self._filtered_rows(table, resource, query.get("$filter", ""))
            return self._page(rows, query, f"{feed}/{resource}", f"{feed}/$metadata#Cbs.OData.WebAPI.{resource}")
        if lowered[:2] == ["odatacatalog", "tables"] and len(segments) == 2:
            entry["resource"] = "ODataCatalog/Tables"
            rows = self._catalog(base)
            if query.get("$filter"):
                predicate = _compile(query["$filter"], rows)
                rows = [r for r in rows if predicate(r)]
            return self._page(rows, query, f"{base}/ODataCatalog/Tables", f"{base}/ODataCatalog/$metadata#Tables")
        raise _HttpError(404, f"No CBS resource at {path}")

    def _table(self, table_id: str) -> _Table:
        if not _TABLE_ID.match(table_id):  # never let a URL segment like ".." address another folder
            raise _HttpError(404, f"Resource not found for the segment '{table_id}'.")
        folder = self.mirror_dir / table_id
        if not (folder / mirror.MANIFEST).is_file():  # CBS ids are case-insensitive in URLs
            matches = [p for p in self.mirror_dir.glob("*") if p.name.lower() == table_id.lower()]
            folder = matches[0] if matches else folder
        if self.catalog is not None and registry.catalog_of(folder.name) != self.catalog:
            raise _HttpError(404, f"Resource not found for the segment '{table_id}'.")  # another host's table
        try:
            stat = (folder / mirror.MANIFEST).stat()
        except OSError:
            raise _HttpError(404, f"Resource not found for the segment '{table_id}'.") from None
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            table = self._tables.get(folder.name)
            if table is None or table.stamp != stamp:
                table = self._tables[folder.name] = _Table(folder, stamp)
            return table

    def _filtered_rows(self, table: _Table, resource: str, filter_text: str) -> list:
        rows = table.rows(resource)
        if not filter_text:
            return rows
        key = (table.folder.name, table.stamp, resource, filter_text)
        with self._lock:
            if key in self._filtered:
                self._filtered.move_to_end(key)
                return self._filtered[key]
        predicate = _compile(filter_text, rows)
        result = [row for row in rows if predicate(row)]
        with self._lock:
            self._filtered[key] = result
            while len(self._filtered) > 16:
                self._filtered.popitem(last=False)
        return result

    def _page(self, rows: list, query: dict, url: str, metadata: str) -> dict:
        skip, top = _int_option(query, "$skip", 0), _int_option(query, "$top", None)
        end = len(rows) if top is None else min(len(rows), skip + top)
        page = rows[skip:min(end, skip + self.page_size)]
        select = [s.strip() for s in query.get("$select", "").split(",") if s.strip()]
        if select:
            unknown = sorted(set(select) - set(rows[0])) if rows else []
            if unknown:
                raise _HttpError(400, f"Could not find a property named '{unknown[0]}'")
            page = [{key: row.get(key) for key in select} for row in page]
        payload = {"odata.metadata": metadata, "value": page}
        next_skip = skip + len(page)
        if page and next_skip < end:
            params = {"$format": "json", "$skip": next_skip}
            for option in ("$filter", "$select"):
                if query.get(option):
                    params[option] = query[option]
            if top is not None:
                params["$top"] = end - next_skip
            # Like CBS: an absolute link that carries the whole query, so a client can just GET it.
            payload["odata.nextLink"] = url + "?" + urlencode(params, quote_via=quote, safe="$,'()")
        return payload

    def _catalog(self, base: str) -> list[dict]:
        rows = []
        for manifest in mirror.list_tables(self.mirror_dir):
            if self.catalog is not None and registry.catalog_of(manifest["table_id"]) != self.catalog:
                continue
            table = self._table(manifest["table_id"])
            info = (table.rows("TableInfos") or [{}])[0]
            # Counted from DataProperties (ID + dimensions + topics) so listing never parses a data set.
            columns = 1 + sum(1 for p in table.rows("DataProperties") if p.get("Type") in _COLUMN_TYPES)
            rows.append({
                "Identifier": manifest["table_id"],
                "Title": info.get("Title", manifest["title"]),
                "ShortTitle": info.get("ShortTitle", manifest["title"]),
                "Summary": info.get("Summary", ""),
                "Modified": info.get("Modified", manifest["modified"]),
                "Period": info.get("Period", ""),
                "Language": info.get("Language", "nl"),
                "Catalog": info.get("Catalog", "CBS"),
                "Frequency": info.get("Frequency", ""),
                "RecordCount": manifest["row_count"],
                "ColumnCount": columns,
                "ApiUrl": f"{base}/ODataApi/odata/{manifest['table_id']}",
                "FeedUrl": f"{base}/ODataFeed/odata/{manifest['table_id']}",
            })
        return rows

    def _control(self, handler: BaseHTTPRequestHandler, method: str, path: str) -> tuple[int, Any]:
        try:
            if path.rstrip("/") == "/_replay/faults":
                if method == "POST":
                    length = int(handler.headers.get("Content-Length") or 0)
                    spec = json.loads(handler.rfile.read(length) or b"{}")
                    for item in spec if isinstance(spec, list) else [spec]:
                        self.faults.add(item.pop("kind"), **item)
                elif method == "DELETE":
                    self.faults.clear()
                return 200, {"faults": self.faults.list()}
            if path.rstrip("/") == "/_replay/requests":
                if method == "DELETE":
                    self.clear_requests()
                return 200, {"requests": self.requests}
        except (ValueError, TypeError, KeyError) as exc:
            return 400, _odata_error(f"bad fault specification: {exc!r}")
        return 404, _odata_error(f"no control endpoint {path}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: simple, and what a dropped socket needs

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.replay.handle(self, "GET")  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802
        self.server.replay.handle(self, "POST")  # type: ignore[attr-defined]

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.replay.handle(self, "DELETE")  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        log.debug("%s %s", self.address_string(), format % args)


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, cut_after: int | None = None) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json;odata=minimalmetadata;charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body if cut_after is None else body[:cut_after])
        handler.wfile.flush()
        if cut_after is not None:  # the "drop" fault: the promised bytes never arrive
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the client gave up (e.g. after its timeout during a delay fault)


def _compile(filter_text: str, rows: list) -> Callable[[dict], bool]:
    try:
        return compile_filter(filter_text, set(rows[0]) if rows else None)
    except FilterError as exc:
        raise _HttpError(400, str(exc)) from None


def _int_option(query: dict, name: str, default: int | None) -> int | None:
    raw = query.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit():
        raise _HttpError(400, f"{name}={raw!r} is not a non-negative integer")
    return int(raw)


def _odata_error(message: str) -> dict:
    return {"odata.error": {"code": "", "message": {"lang": "en-US", "value": message}}}


def _untyped(rows: list, properties: list) -> list:
    decimals = {p["Key"]: int(p.get("Decimals") or 0) for p in properties if p.get("Type") == "Topic"}

    def text(value: Any, places: int) -> Any:
        if value is None:
            return "       ."
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{value:.{places}f}".rjust(8)
        return value

    return [{k: text(v, decimals[k]) if k in decimals else v for k, v in row.items()} for row in rows]


def serve(mirror_dir: Path | str, host: str = "127.0.0.1", port: int = 0, page_size: int = PAGE_SIZE,
          catalog: str | None = None) -> ReplayServer:
    """Start a replay server for ``mirror_dir`` in a background thread; ``.base_url`` says where it is.

    ``catalog`` (``opendata`` or ``dataderden``) limits it to the tables CBS serves from that host.
    """
    return ReplayServer(mirror_dir, host, port, page_size, catalog).start()


@contextlib.contextmanager
def serve_catalogs(mirror_dir: Path | str, host: str = "127.0.0.1") -> Iterator[dict[str, ReplayServer]]:
    """One replay server per CBS catalogue host over the same mirror, as CBS has them: ``{"opendata": ..,
    "dataderden": ..}``. ``catalog_env(servers)`` gives the BWM_ settings that point a run at them."""
    servers = {name: serve(mirror_dir, host, catalog=name) for name in registry.CATALOGS}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def catalog_env(servers: dict[str, ReplayServer]) -> dict[str, str]:
    """``BWM_CBS_BASE_URL`` and ``BWM_CBS_DATADERDEN_URL`` for the servers of ``serve_catalogs``."""
    return {"BWM_CBS_BASE_URL": servers["opendata"].base_url, "BWM_CBS_DATADERDEN_URL": servers["dataderden"].base_url}


def _parse_fault(spec: str) -> dict:
    """``error,path=TypedDataSet,times=2`` -> keyword arguments for ``FaultPlan.add``."""
    kind, *options = [part.strip() for part in spec.split(",")]
    result: dict[str, Any] = {"kind": kind}
    if kind not in FAULT_KINDS:
        raise argparse.ArgumentTypeError(f"fault kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
    names = {"path": ("path_contains", str), "times": ("times", int), "status": ("status", int),
             "delay": ("delay_s", float)}
    for option in options:
        key, _, value = option.partition("=")
        if key not in names:
            raise argparse.ArgumentTypeError(f"unknown fault option {key!r} (use {', '.join(names)})")
        name, convert = names[key]
        try:
            result[name] = None if (key, value) == ("times", "always") else convert(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"fault option {option!r}: {value!r} is not {convert.__name__}") from None
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bwm.cbs.replay", description=__doc__.split("\n")[0])
    parser.add_argument("--mirror", required=True, type=Path, help="mirror folder (one sub-folder per table)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
    parser.add_argument("--catalog", choices=sorted(registry.CATALOGS),
                        help="serve only the tables of this CBS catalogue host (opendata.cbs.nl or dataderden.cbs.nl); "
                             "default: every table of the mirror")
    parser.add_argument("--fault", action="append", default=[], type=_parse_fault,
                        metavar="KIND[,path=TEXT][,times=N|always][,status=N][,delay=S]",
                        help=f"inject a fault; KIND is one of {', '.join(FAULT_KINDS)} (repeatable)")
    args = parser.parse_args(argv)
    if not args.mirror.is_dir():
        parser.error(f"--mirror {args.mirror} is not a folder")
    server = serve(args.mirror, args.host, args.port, args.page_size, args.catalog)
    for spec in args.fault:
        server.faults.add(**spec)
    tables = ", ".join(m["table_id"] for m in mirror.list_tables(args.mirror)
                       if args.catalog is None or registry.catalog_of(m["table_id"]) == args.catalog) or "no tables"
    print(f"Replaying {args.mirror} ({tables}) as CBS OData at {server.base_url}  (Ctrl+C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
