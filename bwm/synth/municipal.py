"""Synthetic municipal data files for the three demo municipalities, as an analyst would drop them.

Three files, one per municipality and per way of delivering, each with a few small counts so that
disclosure control visibly suppresses figures in the demo:

* ``schuldhulp_zuiderhaven.csv``: GM9901, buurten, long layout, UTF-8, ',' (declared in a sidecar YAML):
  households in debt counselling (a count) and the share of closed trajectories that ended stable (a rate);
* ``inkomensondersteuning_noordveen.csv``: GM9902, buurten, wide layout, cp1252 with ';' and decimal commas,
  as Dutch Excel saves "CSV (gescheiden door lijstscheidingsteken)": bijstand households, food bank
  households (counts) and the share of long-term bijstand (a rate);
* ``buddyprogramma_kanaalzijl.xlsx``: GM9903, wijken, long layout in sheet ``data``, declared in sheet
  ``indicatoren``, plus a free-text sheet ``toelichting``: buddy trajectories started (a count) and the share
  of participants less lonely afterwards (a rate);
* ``ambities_zuiderhaven.csv``: GM9901's targets (ambities, ``bwm.municipal.targets``): a value and year per
  indicator for the gemeente and one wijk, so the pages show "op koers" / "niet op koers".

The files are committed in ``data/municipal/demo/`` (the README's example of the format);
``tests/test_municipal_files.py`` checks that ``write_demo_files`` gives them byte for byte. Everything is
seeded: the same seed gives the same bytes, and the codes are those of the synthetic demo geography.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zlib
from pathlib import Path

import numpy as np

from bwm.synth.geography import build_world

DEMO_SEED = 20240101
#: The date the synthetic municipality "delivered" the workbook (its document properties).
DELIVERED = dt.datetime(2025, 1, 15, 9, 0, 0)
FILES = (
    "schuldhulp_zuiderhaven.csv", "schuldhulp_zuiderhaven.indicators.yaml",
    "inkomensondersteuning_noordveen.csv", "inkomensondersteuning_noordveen.indicators.yaml",
    "buddyprogramma_kanaalzijl.xlsx", "ambities_zuiderhaven.csv",
)

#: The targets (ambities) of GM9901, as Dutch Excel saves a CSV (';', decimal comma): two CBS indicators of the
#: gemeente with a base year, the municipal debt-counselling count from its first year, and one wijk target.
_AMBITIES_CSV = (
    "area_code;indicator_id;base_year;target_year;target_value\r\n"
    "GM9901;bijstand_per_1000;2019;2030;22,0\r\n"
    "GM9901;nettoarbeidsparticipatie;2018;2030;71\r\n"
    "GM9901;schuldhulp_huishoudens;;2028;1000\r\n"
    "WK990101;ww_per_1000;2019;2030;10,0\r\n"
)

_SCHULDHULP_YAML = """\
# Declaration of schuldhulp_zuiderhaven.csv (synthetic demo data). The README section
# "How to add a municipal data file" explains every field.
gemeente: GM9901
source: "Gemeente Zuiderhaven (synthetisch), team Schuldhulpverlening"
indicators:
  - id: schuldhulp_huishoudens
    name_nl: Huishoudens in schuldhulpverlening
    name_en: Households in debt counselling
    theme: materiele_welvaart
    kind: count
    unit: count
    direction: higher_is_worse
    level: buurt
    definition_nl: >-
      Het aantal huishoudens met een lopend traject schuldhulpverlening van de gemeente op enig moment
      in het jaar, naar woonbuurt.
    definition_en: Households with a municipal debt counselling trajectory at any time in the year.
  - id: schuldhulp_stabiel_pct
    name_nl: Afgesloten schuldhulptrajecten met stabiele situatie
    name_en: Closed debt counselling trajectories ending stable
    theme: materiele_welvaart
    kind: rate
    unit: pct
    direction: higher_is_better
    level: buurt
    definition_nl: >-
      Het percentage van de in het jaar afgesloten trajecten schuldhulpverlening dat eindigde met een
      stabiele financiële situatie (schuldenrust of een schuldregeling). n_cases is het aantal afgesloten trajecten.
"""

_NOORDVEEN_YAML = """\
# Declaration of inkomensondersteuning_noordveen.csv (synthetic demo data): a wide file as Dutch Excel
# saves it (cp1252, ';' between columns, decimal commas). Rates have a column <id>_n_cases.
gemeente: GM9902
source: "Gemeente Noordveen (synthetisch), afdeling Werk en Inkomen; Voedselbank Noordveen"
indicators:
  - id: bijstand_huishoudens
    name_nl: Huishoudens met bijstand
    name_en: Households receiving social assistance
    theme: materiele_welvaart
    kind: count
    unit: count
    direction: higher_is_worse
    level: buurt
    definition_nl: Het aantal huishoudens met een bijstandsuitkering (Participatiewet) op 1 januari, naar woonbuurt.
  - id: voedselbank_huishoudens
    name_nl: Huishoudens met een voedselpakket
    name_en: Households supported by the food bank
    theme: materiele_welvaart
    kind: count
    unit: count
    direction: higher_is_worse
    level: buurt
    definition_nl: Het aantal huishoudens dat in het jaar een voedselpakket van de voedselbank kreeg, naar woonbuurt.
  - id: bijstand_langdurig_pct
    name_nl: Langdurige bijstand
    name_en: Long-term social assistance
    theme: arbeid_en_vrije_tijd
    kind: rate
    unit: pct
    direction: higher_is_worse
    level: buurt
    stapeling_theme: werk  # joins theme werk of the stapeling core set, in GM9902 only
    definition_nl: >-
      Het percentage van de huishoudens met bijstand dat al drie jaar of langer bijstand ontvangt.
      n_cases is het aantal huishoudens met bijstand.
"""

_BUDDY_DECLARATIONS = [
    ("id", "name_nl", "name_en", "theme", "kind", "unit", "direction", "level", "definition_nl", "gemeente", "source"),
    ("buddy_trajecten", "Gestarte buddytrajecten", "Buddy trajectories started", "welzijn", "count", "count",
     "neutral", "wijk", "Het aantal buddytrajecten dat in het jaar begon, naar wijk van de deelnemer.", "GM9903",
     "Gemeente Kanaalzijl (synthetisch), welzijnsorganisatie"),
    ("buddy_minder_eenzaam_pct", "Deelnemers die zich minder eenzaam voelen", "Participants feeling less lonely",
     "welzijn", "rate", "pct", "higher_is_better", "wijk",
     "Het percentage van de afgeronde buddytrajecten waarna de deelnemer zich minder eenzaam voelt. "
     "n_cases is het aantal afgeronde trajecten.", "GM9903",
     "Gemeente Kanaalzijl (synthetisch), welzijnsorganisatie"),
]


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _level(code: str, name: str, seed: int, low: float, high: float) -> float:
    """A stable expected count per area: business parks and scattered houses get very few."""
    if name.startswith(("Bedrijventerrein", "Verspreide huizen")):
        return 1.5
    return low + (high - low) * _rng(seed, "level/" + code).random()


def _buurten(gm_code: str, year: int):
    geo = build_world("demo").geography(year)
    gm_index = geo.gm_code.index(gm_code)
    for b, code in enumerate(geo.bu_code):
        w = int(geo.bu_wk[b])
        if int(geo.wk_gm[w]) == gm_index:
            yield code, geo.bu_name[b], geo.gm_name[gm_index]


def _wijken(gm_code: str, year: int):
    geo = build_world("demo").geography(year)
    gm_index = geo.gm_code.index(gm_code)
    for w, code in enumerate(geo.wk_code):
        if int(geo.wk_gm[w]) == gm_index:
            yield code, geo.wk_name[w], geo.gm_name[gm_index]


def _pct(k: int, n: int) -> float:
    return round(100.0 * k / n, 1)


def schuldhulp_csv(seed: int = DEMO_SEED) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["area_code", "year", "indicator_id", "value", "n_cases"])
    for year in range(2021, 2025):
        rng = _rng(seed, f"schuldhulp/{year}")
        for code, name, _gm in sorted(_buurten("GM9901", year)):
            lam = _level(code, name, seed, 6, 45) * (1 + 0.04 * (year - 2021))
            count = int(rng.poisson(lam))
            closed = int(rng.binomial(count, 0.55))
            stable = int(rng.binomial(closed, 0.6))
            writer.writerow([code, year, "schuldhulp_huishoudens", count, ""])
            if closed:
                writer.writerow([code, year, "schuldhulp_stabiel_pct", _pct(stable, closed), closed])
    return out.getvalue().encode("utf-8")


def noordveen_csv(seed: int = DEMO_SEED) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["area_code", "year", "area_name", "bijstand_huishoudens", "voedselbank_huishoudens",
                     "bijstand_langdurig_pct", "bijstand_langdurig_pct_n_cases"])
    for year in range(2022, 2025):
        rng = _rng(seed, f"noordveen/{year}")
        for code, name, gm_name in sorted(_buurten("GM9902", year)):
            count = int(rng.poisson(_level(code, name, seed, 5, 60)))
            foodbank = int(rng.binomial(count, 0.3)) + int(rng.poisson(1))
            long_term = int(rng.binomial(count, 0.55))
            share = str(_pct(long_term, count)).replace(".", ",") if count else ""
            writer.writerow([code, year, f"{name} – {gm_name}", count, foodbank, share, count if count else ""])
    return out.getvalue().encode("cp1252")


def buddy_xlsx(seed: int = DEMO_SEED) -> bytes:
    import openpyxl

    from bwm.export.xlsx import workbook_bytes

    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "data"
    data.append(["area_code", "year", "indicator_id", "value", "n_cases", "area_name"])
    for year in (2023, 2024):
        rng = _rng(seed, f"buddy/{year}")
        for code, name, _gm in sorted(_wijken("GM9903", year)):
            started = int(rng.poisson(_level(code, "", seed, 4, 30)))
            completed = int(rng.binomial(started, 0.7))
            better = int(rng.binomial(completed, 0.65))
            data.append([code, year, "buddy_trajecten", started, None, name])
            if completed:
                data.append([code, year, "buddy_minder_eenzaam_pct", _pct(better, completed), completed, name])
    decl = wb.create_sheet("indicatoren")
    for row in _BUDDY_DECLARATIONS:
        decl.append(list(row))
    notes = wb.create_sheet("toelichting")
    notes.append(["Synthetische demodata van het buddyprogramma van Kanaalzijl (synthetisch)."])
    notes.append(["Dit blad wordt niet ingelezen; de monitor leest de bladen 'data' en 'indicatoren'."])
    return workbook_bytes(wb, DELIVERED)


def demo_files(seed: int = DEMO_SEED) -> dict[str, bytes]:
    """File name -> bytes of every demo file."""
    return {
        "schuldhulp_zuiderhaven.csv": schuldhulp_csv(seed),
        "schuldhulp_zuiderhaven.indicators.yaml": _SCHULDHULP_YAML.encode("utf-8"),
        "inkomensondersteuning_noordveen.csv": noordveen_csv(seed),
        "inkomensondersteuning_noordveen.indicators.yaml": _NOORDVEEN_YAML.encode("utf-8"),
        "buddyprogramma_kanaalzijl.xlsx": buddy_xlsx(seed),
        "ambities_zuiderhaven.csv": _AMBITIES_CSV.encode("utf-8"),
    }


def write_demo_files(folder: Path, seed: int = DEMO_SEED) -> list[Path]:
    """Write the demo files into ``folder`` (created when missing); returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in demo_files(seed).items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths
