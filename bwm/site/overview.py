"""The index (every gemeente, a search box, what changed at the last refresh) and the about page.

"What changed" compares the CBS tables behind this build with those behind the previous one: the site
keeps a small ``manifest.json`` (table id -> title, CBS Modified, retrieval time) and the list of changes.
A build that finds nothing new keeps the previous list and says since when nothing changed, so the index
always answers "what was new at the last refresh that brought something".
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

from bwm import herindelingen
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


#: Common names of gemeenten that differ from CBS's ('s-Gravenhage is Den Haag to most readers).
ALIASES = Path(__file__).resolve().parents[2] / "data" / "reference" / "gemeente_aliassen.csv"
ALIAS_COLUMNS = ("gemeente_code", "alias", "synthetic", "note")


def read_aliases(path: Path = ALIASES) -> dict[str, list[str]]:
    """gemeente code -> its common names (data/reference/gemeente_aliassen.csv, one row per name)."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != ALIAS_COLUMNS:
            raise ValueError(f"{path.name}: the columns must be {', '.join(ALIAS_COLUMNS)}; fix the header")
        out: dict[str, list[str]] = {}
        for i, row in enumerate(reader, 2):
            code, alias = row["gemeente_code"].strip().upper(), row["alias"].strip()
            if not (len(code) == 6 and code.startswith("GM") and code[2:].isdigit()) or not alias:
                raise ValueError(f"{path.name} line {i}: {row['gemeente_code']!r} is not a GMxxxx code or the "
                                 "alias is empty; fix the row")
            out.setdefault(code, []).append(alias)
    return out


def _fold(s: str) -> str:
    return unicodedata.normalize("NFD", s.lower()).encode("ascii", "ignore").decode()


def also_known_as(data: SiteData, aliases: dict[str, list[str]] | None = None,
                  mergers: list[dict] | None = None) -> dict[str, list[str]]:
    """area code -> the other names and codes a reader may search it by: common names of gemeenten
    (:data:`ALIASES`), the names it had in earlier years, the gemeenten merged into it that have no page of
    their own (data/reference/gemeente_herindelingen.csv), and for an area CBS recoded (comparability code 2)
    the code of the area with the same name and level that ended the year before."""
    aliases = read_aliases() if aliases is None else aliases
    mergers = herindelingen.read() if mergers is None else mergers
    out: dict[str, list[str]] = {}
    for code, names in aliases.items():
        if code in data.areas:
            out.setdefault(code, []).extend(f"ook: {n}" for n in names)
    for a in data.areas.values():
        if a.former_names:
            out.setdefault(a.code, []).append("vroeger: " + ", ".join(a.former_names))
    for r in mergers:
        if r["new_code"] not in data.areas:
            continue
        for old, name in zip(r["old_codes"], r["old_names"].split(";")):
            if old != r["new_code"] and old not in data.areas:
                out.setdefault(r["new_code"], []).append(
                    f"vroegere gemeente {name.strip()} ({old}), tot {r['effective_date'].year}")
    merged_into = {old: r["new_code"] for r in mergers for old in r["old_codes"]}
    years = sorted({y for a in data.areas.values() for y in a.years})
    ended: dict[tuple, list] = {}
    for a in data.areas.values():
        for name in (a.name, *a.former_names):
            ended.setdefault((a.level, a.last_year, _fold(name)), []).append(a)
    for a in data.areas.values():
        if a.recoded_in is None or a.recoded_in not in years or years.index(a.recoded_in) == 0:
            continue
        before = years[years.index(a.recoded_in) - 1]
        olds = sorted({o.code for o in ended.get((a.level, before, _fold(a.name)), [])
                       if o.code != a.code and (o.gemeente_code == a.gemeente_code or merged_into.get(
                           o.gemeente_code) == a.gemeente_code)})
        if olds:
            out.setdefault(a.code, []).append("vroegere code " + ", ".join(olds))
    return out


def search_index(data: SiteData) -> list[list]:
    """[name, code, level, gemeente name, page path, other names and codes] of every gemeente, wijk and buurt
    (current first); the last field (:func:`also_known_as`) is searched too and shown with a hit on it."""
    also = also_known_as(data)
    out = []
    for a in sorted(data.areas.values(), key=lambda a: ({"gemeente": 0, "wijk": 1, "buurt": 2}[a.level],
                                                        a.last_year != data.latest_kwb_year, a.name.lower())):
        gemeente = data.areas.get(a.gemeente_code)
        label = a.level if a.last_year == data.latest_kwb_year else f"{a.level} tot {a.last_year}"
        out.append([a.name, a.code, label, gemeente.name if gemeente else "", page_path(a.level, a.code),
                    "; ".join(also.get(a.code, []))])
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
