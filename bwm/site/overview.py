"""The index (every gemeente, a search box, what changed at the last refresh) and the about page.

"What changed" compares the CBS tables behind this build with those behind the previous one: the site
keeps a small ``manifest.json`` (table id -> title, CBS Modified, retrieval time) and the list of changes.
A build that finds nothing new keeps the previous list and says since when nothing changed, so the index
always answers "what was new at the last refresh that brought something".
"""

from __future__ import annotations

from bwm.site import format as fmt
from bwm.site import stapeling as stapeling_pages
from bwm.site.common import Table, page_path
from bwm.site.data import SiteData

MANIFEST_VERSION = 1


def table_state(data: SiteData) -> dict[str, dict]:
    return {t["table_id"]: {"title": t.get("title"), "modified": t.get("modified"), "period": t.get("period"),
                            "retrieved_at": t.get("retrieved_at"), "source": t.get("source")}
            for t in data.tables}


def changes(previous: dict | None, current: dict[str, dict], built_at: str) -> dict:
    """The change list of this build: {'kind': 'first'|'changed'|'unchanged', 'since', 'date', 'items'}."""
    def name(tid, t):
        return f"{t.get('title') or tid} ({tid})"

    if not previous or not isinstance(previous.get("tables"), dict):
        return {"kind": "first", "date": built_at, "since": None,
                "items": [f"{name(tid, t)}, CBS-versie van {fmt.date_nl(t.get('modified'))}"
                          for tid, t in sorted(current.items())]}
    before = previous["tables"]
    items = []
    for tid, t in sorted(current.items()):
        if tid not in before:
            items.append(f"Nieuw: {name(tid, t)}, CBS-versie van {fmt.date_nl(t.get('modified'))}")
        elif before[tid].get("modified") != t.get("modified"):
            items.append(f"Bijgewerkt door CBS: {name(tid, t)}, versie van {fmt.date_nl(t.get('modified'))} "
                         f"(was {fmt.date_nl(before[tid].get('modified'))})")
    for tid, t in sorted(before.items()):
        if tid not in current:
            items.append(f"Niet meer opgenomen: {name(tid, t)}")
    if items:
        return {"kind": "changed", "date": built_at, "since": previous.get("built_at"), "items": items}
    carried = dict(previous.get("changes") or {})
    return {"kind": "unchanged", "date": carried.get("date"), "since": previous.get("built_at"),
            "items": carried.get("items") or [], "previous_kind": carried.get("kind")}


def manifest(data: SiteData, built_at: str, change_list: dict, pages: dict[str, int]) -> dict:
    return {"version": MANIFEST_VERSION, "built_at": built_at, "tables": table_state(data), "changes": change_list,
            "synthetic": data.synthetic, "years": sorted({y for a in data.areas.values() for y in a.years}),
            "pages": pages}


def search_index(data: SiteData) -> list[list]:
    """[name, code, level, gemeente name, page path] of every gemeente, wijk and buurt (current first)."""
    out = []
    for a in sorted(data.areas.values(), key=lambda a: ({"gemeente": 0, "wijk": 1, "buurt": 2}[a.level],
                                                        a.last_year != data.latest_kwb_year, a.name.lower())):
        gemeente = data.areas.get(a.gemeente_code)
        label = a.level if a.last_year == data.latest_kwb_year else f"{a.level} tot {a.last_year}"
        out.append([a.name, a.code, label, gemeente.name if gemeente else "", page_path(a.level, a.code)])
    return out


def index_page(data: SiteData, change_list: dict) -> dict:
    rows, links = [], []
    for g in data.gemeenten():
        wijken = [w for w in data.children(g.code, "wijk") if w.last_year == data.latest_kwb_year]
        buurten = [b for b in data.in_gemeente(g.code, "buurt") if b.last_year == data.latest_kwb_year]
        rows.append([g.name, g.code, fmt.number(g.inhabitants), str(len(wijken)), str(len(buurten)),
                     fmt.year_span(g.years)])
        links.append([page_path("gemeente", g.code), None, None, None, None, None])
    return {
        "kind": "index", "title": "Brede welvaart per wijk en buurt",
        "crumbs": [],
        "gemeenten": Table(caption="Alle gemeenten in deze site", columns=[
            "Gemeente", "Code", f"Inwoners ({data.latest_kwb_year})", "Wijken", "Buurten", "Jaren"],
            rows=rows, numeric=[False, False, True, True, True, False], links=links),
        "changes": change_list,
    }


def cbs_tables(data: SiteData) -> Table:
    return Table(
        caption="De CBS-tabellen achter deze site",
        columns=["Tabel", "Titel", "Periode", "Versie CBS", "Opgehaald", "Herkomst"],
        rows=[[t["table_id"], t.get("title") or "", str(t.get("period") or ""), fmt.date_nl(t.get("modified")),
               fmt.date_nl(t.get("retrieved_at")), "synthetisch (demo)" if t.get("source") == "synthetic" else "CBS"]
              for t in data.tables],
        numeric=[False] * 6)


STATUS_WORDS = {"accepted": "geaccepteerd", "rejected": "afgewezen"}


def status_page(data: SiteData, change_list: dict) -> dict:
    """The state of the data: every CBS table with its dates, and every municipal data file with its check."""
    files = [{"file": f["file"], "sheet": f.get("sheet"), "status": STATUS_WORDS.get(f["status"], f["status"]),
              "accepted": f["status"] == "accepted", "rows": fmt.number(f.get("n_rows")),
              "indicators": fmt.number(f.get("n_indicators")), "checked": fmt.date_nl(f.get("checked_at")),
              "report": f.get("report") or ""} for f in data.municipal_files]
    return {"kind": "status", "title": "Status van de gegevens",
            "crumbs": [("Alle gemeenten", page_path("index")), ("Status van de gegevens", None)],
            "tables": cbs_tables(data), "files": files, "changes": change_list,
            "rejected": sum(not f["accepted"] for f in files), "quarantine": quarantine_table(data)}


def quarantine_table(data: SiteData) -> Table | None:
    """The KWB variables left out because CBS published them in a unit the key map does not expect; None if none."""
    if not data.quarantined:
        return None
    return Table(
        caption="Variabelen in quarantaine: het CBS levert ze in een andere eenheid dan verwacht",
        columns=["Tabel", "Jaar", "Sleutel", "Gevonden eenheid", "Verwachte eenheid"],
        rows=[[str(q.get("table_id") or ""), str(q.get("year") or ""), str(q.get("raw_key") or ""),
               str(q.get("cbs_unit") or "(geen)"), str(q.get("expected_cbs_unit") or "(geen)")]
              for q in data.quarantined],
        numeric=[False] * 5)


def about_page(data: SiteData, map_years: dict[int, bool]) -> dict:
    tables = cbs_tables(data)
    indicators = Table(
        caption="Alle indicatoren met hun definitie en bron",
        columns=["Indicator", "Thema", "Definitie", "Eenheid", "Bron", "Jaren"],
        rows=[[c["name_nl"], c["theme_nl"], c["definition_nl"], fmt.axis_title(c["unit"]),
               c["source_label"],
               fmt.year_list(c["years"])] for c in data.catalogue],
        numeric=[False] * 6)
    return {"kind": "over", "title": "Over deze site", "crumbs": [("Alle gemeenten", page_path("index")),
                                                                   ("Over deze site", None)],
            "tables": tables, "indicators": indicators,
            "map_years": sorted(y for y, ok in map_years.items() if ok),
            "map_synthetic": any(map_years.values()) and data.synthetic,
            "concentration_basis": data.concentration_basis, "stapeling": stapeling_pages.about_section(data)}
