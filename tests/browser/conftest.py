"""The demo site, built once per session, and a real headless Chromium to look at it.

The browser is Debian's chromium (installed by `make browser`), driven by Playwright with
``executable_path``: no browser is ever downloaded. Without /usr/bin/chromium (or without the Playwright
package) the browser tests skip with a message saying what to install; the tests of the built files
(links, page weight, escaping) run anyway.

Every page a test opens is watched: a request to any host but 127.0.0.1 is aborted and fails the test, as
does any console error or uncaught exception (fixture ``open_page``).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from bwm.site.build import build_site
from pipelines.defs.publish.model import build_model

CHROMIUM = Path("/usr/bin/chromium")  # Debian's, installed by `make browser`; never a downloaded one
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
EVIL_NAME = "<script>alert(1)</script>"
ODD_WIJK_NAME = 'Wijk "A" & <b>B</b>'
EVIL_BUURT, ODD_WIJK = "BU99010001", "WK990100"


@pytest.fixture(scope="session")
def demo_site(demo_warehouse, tmp_path_factory) -> Path:
    """The demo site built from the demo warehouse into a temporary folder; returns the site folder."""
    site = tmp_path_factory.mktemp("site") / "site"
    build_site(demo_warehouse["warehouse"], site, mirror_dir=demo_warehouse["mirror"],
               built_at="2026-01-15T09:00:00+00:00")
    return site


@pytest.fixture(scope="session")
def escape_site(demo_warehouse, tmp_path_factory) -> dict:
    """A site from a copy of the demo warehouse in which a buurt is called <script>alert(1)</script>.

    Returns {"site": folder, "buurt": its code, "name": its name, "wijk": code of a wijk with quotes, & and <b>}.
    """
    base = tmp_path_factory.mktemp("escape")
    wh = base / "bwm.duckdb"
    shutil.copyfile(demo_warehouse["warehouse"], wh)
    with duckdb.connect(str(wh)) as con:
        con.execute("update staging.areas set area_name = ? where area_code = ?", [EVIL_NAME, EVIL_BUURT])
        con.execute("update staging.areas set area_name = ? where area_code = ?", [ODD_WIJK_NAME, ODD_WIJK])
        build_model(con)  # as a refresh does downstream of the change
    build_site(wh, base / "site", mirror_dir=demo_warehouse["mirror"])
    return {"site": base / "site", "buurt": EVIL_BUURT, "name": EVIL_NAME, "wijk": ODD_WIJK}


@pytest.fixture(scope="session")
def site_server(demo_site):
    """The demo site over HTTP on 127.0.0.1 (a static web server, as a municipality might host it)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(demo_site))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser` (installs Debian's chromium) for the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed: run `make setup`")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watched:
    """A page plus what it did: requests, blocked requests, console errors, dialogs."""

    def __init__(self, page):
        self.page = page
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def render_all(self) -> None:
        """Draw every chart of the page (they are drawn lazily on scroll) and wait until they are."""
        self.page.evaluate("() => window.BWM ? window.BWM.renderAll() : null")
        self.page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.plot')).every(d => d.hidden || d.dataset.state === 'drawn')")


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("file", "data", "blob", "about") or (
        parts.scheme in ("http", "https", "ws", "wss") and parts.hostname == "127.0.0.1")


@pytest.fixture
def open_page(browser):
    """open_page(url[, init_script]) -> Watched; after the test no request may have left the machine, and no
    console error, uncaught exception or dialog may have appeared."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    watched: list[Watched] = []

    def route(r):
        if _local(r.request.url):
            r.continue_()
        else:
            for w in watched:
                w.blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)

    def open_(url: str, init_script: Path | None = None) -> Watched:
        page = context.new_page()
        if init_script is not None:  # e.g. axe-core: runs before the page's own scripts, outside its CSP
            page.add_init_script(path=str(init_script))
        w = Watched(page)
        page.on("request", lambda req: w.requests.append(req.url))
        page.on("websocket", lambda ws: w.blocked.append(ws.url))
        page.on("console", lambda m: w.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: w.errors.append(f"page error: {e}"))

        def dialog(d):
            w.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        watched.append(w)
        page.goto(url)
        page.wait_for_load_state("load")
        return w

    yield open_
    try:
        for w in watched:
            leaving = [u for u in w.requests if not _local(u)] + w.blocked
            assert not leaving, f"requests left the machine: {leaving[:5]}"
            assert not w.errors, f"console errors: {w.errors[:5]}"
            assert not w.dialogs, f"a dialog opened (script from data ran?): {w.dialogs}"
    finally:
        context.close()


@pytest.fixture()
def fail_writes_after(monkeypatch):
    """``fail_writes_after(n)``: from the site build's (n+1)-th page on, writing fails with a simulated full disk.
    Returns the counter of write attempts ({"n": ...})."""
    from bwm.site import pages as site_pages

    def install(n: int) -> dict:
        real_write, calls = site_pages.write_page, {"n": 0}

        def failing_write(path, html):
            calls["n"] += 1
            if calls["n"] > n:
                raise OSError("disk full (simulated)")
            real_write(path, html)

        monkeypatch.setattr(site_pages, "write_page", failing_write)
        return calls

    return install

