"""The export asset's batched path (`export_per_municipality`) writes exactly what `export` writes per municipality,
in one process or split over two."""

import pytest
from test_exports import GENERATED, wh  # noqa: F401 - the warehouse fixture of the export tests

from bwm.export.run import export, export_per_municipality
from bwm.export.tables import Selection


@pytest.mark.parametrize("workers", [1, 2])
def test_batched_exports_are_the_per_municipality_exports(wh, tmp_path, workers):  # noqa: F811
    codes = ["GM0001", "GM0002"]
    one_by_one = []
    for code in codes:
        one_by_one += export(wh, Selection(municipalities=(code,)), tmp_path / "single" / code, name=code,
                             generated_at=GENERATED)
    batched = export_per_municipality(wh, codes, tmp_path / "batched", generated_at=GENERATED, workers=workers)
    assert [p.relative_to(tmp_path / "batched") for p in batched] == \
        sorted(p.relative_to(tmp_path / "single") for p in one_by_one)
    for p in one_by_one:
        assert (tmp_path / "batched" / p.relative_to(tmp_path / "single")).read_bytes() == p.read_bytes(), p.name
