"""End to end through the refresh job: a second refresh of unchanged data takes over every gemeente's pages, and after
one gemeente's municipal data file changed only that gemeente's pages are rendered again; an export of a warehouse
that did not change since the last one writes nothing (the publish model, bwm.incremental, site and exports together).

Every refresh rewrites the exports that cite a municipal file (in the demo: all three), on purpose: their sources
table says when the file was last checked. Which municipalities a changed value rewrites is in test_exports_incremental.
"""

import shutil

from pipeline_run import run_refresh_in_process

from bwm.export.run import update_per_municipality
from bwm.settings import PROJECT_ROOT

CHANGED = "GM9901"  # the gemeente of schuldhulp_zuiderhaven.csv (buurten BU9901...)
CODES = ["GM9901", "GM9902", "GM9903", "GM9904", "GM9905", "GM9906"]


def _site(result) -> tuple[int, int]:
    """The site step's gemeenten rendered and reused."""
    site = result.asset_materializations_for_node("publish__site")[0].metadata
    return site["gemeenten_rendered"].value, site["gemeenten_reused"].value


def test_only_the_gemeente_of_a_changed_municipal_file_is_published_again(tmp_path):
    municipal = tmp_path / "municipal"
    shutil.copytree(PROJECT_ROOT / "data" / "municipal" / "demo", municipal)
    env = {"BWM_SOURCE": "demo", "BWM_WAREHOUSE": str(tmp_path / "bwm.duckdb"),
           "BWM_MIRROR_DIR": str(tmp_path / "mirror"), "BWM_SITE_DIR": str(tmp_path / "site"),
           "BWM_EXPORT_DIR": str(tmp_path / "exports"), "BWM_MUNICIPAL_DIR": str(municipal)}
    assert _site(run_refresh_in_process(env)) == (6, 0)
    assert _site(run_refresh_in_process(env)) == (0, 6)
    exported = update_per_municipality(tmp_path / "bwm.duckdb", CODES, tmp_path / "exports")
    assert (exported.written, exported.reused) == ([], CODES)

    inodes = {p.name: p.stat().st_ino for p in (tmp_path / "site" / "buurt").glob("*.html")}
    data = municipal / "schuldhulp_zuiderhaven.csv"
    text = data.read_text(encoding="utf-8")
    assert "BU99010001,2021,schuldhulp_huishoudens,51," in text
    data.write_text(text.replace("BU99010001,2021,schuldhulp_huishoudens,51,",
                                 "BU99010001,2021,schuldhulp_huishoudens,57,"), encoding="utf-8")
    assert _site(run_refresh_in_process(env)) == (1, 5)
    again = {p.name: p.stat().st_ino for p in (tmp_path / "site" / "buurt").glob("*.html")}
    assert again.keys() == inodes.keys()
    assert {name[:6] for name in again if again[name] != inodes[name]} == {"BU9901"}  # the others linked over
