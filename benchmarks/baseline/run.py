"""The analyst's script: ``python -m benchmarks.baseline --mirror DIR --out DIR``.

Writes ``<out>/gemeente/<GM>.html`` (one page per municipality, plotly.js inlined) and ``<out>/measures.csv``
(one row per gemeente, year and indicator: worst20_mean, best20_mean, gap, ratio, theil_total), which the
harness compares with the pipeline's ``divide.measures`` (level buurt).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bwm import registry
from bwm.settings import Settings

INCOME_STEM = "GemiddeldInkomenPerInwoner"
INHABITANTS_STEM = "AantalInwoners"
LONELY_KEY_STEM = "Eenzaam"
LONELY_AGE_GROUP = "20300"  # 18 jaar of ouder
ESTIMATE = "MW00000"  # Marges: the estimate itself (not the interval bounds)


def read_table(mirror: Path, table_id: str) -> tuple[pd.DataFrame, list[dict]]:
    """What cbsodata.get_data gives (a list of row dicts) as a DataFrame, and the table's DataProperties."""
    with open(mirror / table_id / "TypedDataSet.json", encoding="utf-8") as fh:
        rows = json.load(fh)
    with open(mirror / table_id / "DataProperties.json", encoding="utf-8") as fh:
        props = json.load(fh)
    return pd.DataFrame(rows), props


def key(props: list[dict], stem: str) -> str:
    """The table's key for a topic stem, e.g. GemiddeldInkomenPerInwoner -> GemiddeldInkomenPerInwoner_72."""
    return next(p["Key"] for p in props if p.get("Key", "").rsplit("_", 1)[0] == stem)


def kwb_tables(mirror: Path) -> dict[int, str]:
    """{year: table id} of the KWB tables in the mirror (the registry says which tables are KWB)."""
    return {t.year: t.table_id for t in registry.tables("kwb") if (mirror / t.table_id / "TableInfos.json").is_file()}


def load_kwb(mirror: Path) -> pd.DataFrame:
    """Buurten of every KWB year: year, code, gemeente, wijk, inhabitants, income per inhabitant (euro)."""
    frames = []
    for year, table_id in sorted(kwb_tables(mirror).items()):
        df, props = read_table(mirror, table_id)
        region = "RegioS" if "RegioS" in df.columns else "WijkenEnBuurten"
        df["code"] = df[region].str.strip()
        df = df[df["code"].str.startswith("BU")]
        frames.append(pd.DataFrame({
            "year": year, "code": df["code"], "gemeente": "GM" + df["code"].str[2:6],
            "wijk": "WK" + df["code"].str[2:8],
            "inhabitants": pd.to_numeric(df[key(props, INHABITANTS_STEM)], errors="coerce"),
            "income": pd.to_numeric(df[key(props, INCOME_STEM)], errors="coerce") * 1000,  # x 1 000 euro
        }))
    return pd.concat(frames, ignore_index=True)


def load_lonely(mirror: Path, kwb: pd.DataFrame) -> pd.DataFrame:
    """Buurten of every health period with the % lonely adults, weighted by residents of the nearest KWB year
    in which the buurt code exists (the health table has one geography for all its periods)."""
    df, props = read_table(mirror, registry.health_table(Settings.from_env()).table_id)
    lonely = key(props, LONELY_KEY_STEM)
    df["code"] = df["WijkenEnBuurten"].str.strip()
    df = df[df["code"].str.startswith("BU") & (df["Leeftijd"].str.strip() == LONELY_AGE_GROUP)
            & (df["Marges"].str.strip() == ESTIMATE)]
    out = pd.DataFrame({"year": df["Perioden"].str[:4].astype(int), "code": df["code"],
                        "lonely": pd.to_numeric(df[lonely], errors="coerce")})
    out["gemeente"] = "GM" + out["code"].str[2:6]
    weights = kwb[["year", "code", "inhabitants"]].rename(columns={"year": "kwb_year"})
    candidates = out.merge(weights, on="code", how="inner")
    candidates["distance"] = (candidates["kwb_year"] - candidates["year"]).abs()
    nearest = candidates.sort_values(["year", "code", "distance", "kwb_year"]).drop_duplicates(["year", "code"])
    return nearest[["year", "code", "gemeente", "lonely", "inhabitants"]]


def quintile_means(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Mean of the bottom and of the top 20% of residents (a neighbourhood on the boundary counts in part)."""
    keep = np.isfinite(x) & np.isfinite(w) & (w > 0)
    x, w = x[keep], w[keep]
    if x.size == 0:
        return float("nan"), float("nan")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    total = w.sum()
    upper = np.cumsum(w)
    lower = upper - w
    bottom = np.clip(np.minimum(upper, 0.2 * total) - lower, 0, None)
    top = np.clip(upper - np.maximum(lower, 0.8 * total), 0, None)
    return float((bottom * x).sum() / bottom.sum()), float((top * x).sum() / top.sum())


def theil(x: np.ndarray, w: np.ndarray) -> float:
    keep = np.isfinite(x) & np.isfinite(w) & (w > 0) & (x > 0)
    x, w = x[keep], w[keep]
    if x.size == 0:
        return float("nan")
    mean = (w * x).sum() / w.sum()
    share = w * x / (w * x).sum()
    return float((share * np.log(x / mean)).sum())


def measures(gemeente: str, year: int, indicator: str, x, w, higher_is_worse: bool, with_theil: bool) -> dict:
    bottom, top = quintile_means(np.asarray(x, float), np.asarray(w, float))
    worst, best = (top, bottom) if higher_is_worse else (bottom, top)
    low, high = min(bottom, top), max(bottom, top)
    return {"gemeente_code": gemeente, "year": year, "indicator_id": indicator, "worst20_mean": worst,
            "best20_mean": best, "gap": max(top - bottom, 0.0), "ratio": high / low if low > 0 else float("nan"),
            "theil_total": theil(np.asarray(x, float), np.asarray(w, float)) if with_theil else float("nan")}


def page(gemeente: str, name: str, rows: pd.DataFrame, path: Path) -> None:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Inkomenskloof tussen buurten (euro)",
                                                       "Kloof in eenzaamheid tussen buurten (procentpunt)"))
    income = rows[rows["indicator_id"] == "inkomen_per_inwoner"]
    lonely = rows[rows["indicator_id"] == "eenzaam"]
    fig.add_trace(go.Scatter(x=income["year"], y=income["gap"], name="kloof inkomen"), row=1, col=1)
    fig.add_trace(go.Scatter(x=lonely["year"], y=lonely["gap"], name="kloof eenzaamheid"), row=1, col=2)
    fig.update_layout(title=f"{name}: de kloof tussen buurten")
    fig.write_html(path, include_plotlyjs=True, full_html=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    mirror, out = Path(args.mirror), Path(args.out)
    (out / "gemeente").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    kwb = load_kwb(mirror)
    lonely = load_lonely(mirror, kwb)
    names = {}
    for year, table_id in kwb_tables(mirror).items():  # the gemeente names of the latest year win
        dims = json.loads((mirror / table_id / f"{'RegioS' if year == 2013 else 'WijkenEnBuurten'}.json")
                          .read_text(encoding="utf-8"))
        names.update({d["Key"].strip(): d["Title"].strip() for d in dims if d["Key"].startswith("GM")})
    loaded = time.perf_counter()
    results = []
    for gemeente in sorted(kwb["gemeente"].unique()):
        rows = []
        mine = kwb[kwb["gemeente"] == gemeente]
        for year, group in mine.groupby("year"):
            rows.append(measures(gemeente, int(year), "inkomen_per_inwoner", group["income"], group["inhabitants"],
                                 higher_is_worse=False, with_theil=True))
        for year, group in lonely[lonely["gemeente"] == gemeente].groupby("year"):
            rows.append(measures(gemeente, int(year), "eenzaam", group["lonely"], group["inhabitants"],
                                 higher_is_worse=True, with_theil=False))
        frame = pd.DataFrame(rows)
        page(gemeente, names.get(gemeente, gemeente), frame, out / "gemeente" / f"{gemeente}.html")
        results.append(frame)
    pd.concat(results, ignore_index=True).to_csv(out / "measures.csv", index=False)
    done = time.perf_counter()
    print("BENCH " + json.dumps({"pages": len(results), "load_seconds": round(loaded - started, 2),
                                 "loop_seconds": round(done - loaded, 2)}), flush=True)
    return 0
