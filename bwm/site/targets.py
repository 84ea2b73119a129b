"""The municipality's targets (ambities) on its pages: per indicator the target, where the line towards it
expects the latest figure, and whether the area is "op koers" (publish.targets; the rule is in
bwm.municipal.targets and on the about page)."""

from __future__ import annotations

from bwm.site import format as fmt
from bwm.site.common import Table
from bwm.site.data import SiteData

STATUS_NL = {"op_koers": "op koers", "niet_op_koers": "niet op koers",
             "onbekend": "onbekend: geen cijfer in het beginjaar of daarna"}


def _at(value, year, unit) -> str:
    if year is None:
        return fmt.MISSING
    return f"{fmt.value(value, unit)} ({year})"


def targets_table(data: SiteData, code: str) -> Table | None:
    """The targets of area ``code`` as a table, in catalogue order; None when it has none."""
    rows = data.targets.get(code, [])
    if not rows:
        return None
    order = {c["indicator_id"]: i for i, c in enumerate(data.catalogue)}
    body = []
    for r in sorted(rows, key=lambda r: order.get(r["indicator_id"], len(order))):
        unit = r["unit"]
        name = (data.indicators.get(r["indicator_id"]) or {}).get("name_nl") or r["indicator_name"] or \
            r["indicator_id"]
        expected = fmt.value(r["expected_value"], unit) if r["status"] != "onbekend" else fmt.MISSING
        body.append([name, _at(r["base_value"], r["base_year"], unit), _at(r["target_value"], r["target_year"], unit),
                     _at(r["latest_value"], r["latest_year"], unit), expected, STATUS_NL.get(r["status"], r["status"])])
    files = sorted({r["file"] for r in rows if r.get("file")})
    caption = (f"Ambities van de gemeente voor {data.areas[code].name}. Bron van de ambities: "
               f"{', '.join(files) or 'de gemeente'}; bron van de cijfers: zie de indicatoren.")
    return Table(caption, ["Indicator", "Begin", "Ambitie", "Laatste cijfer", "Verwacht volgens de lijn", "Status"],
                 body, numeric=[False, True, True, True, True, False])
