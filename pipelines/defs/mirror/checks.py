"""Asset checks on the mirror: every table it holds is the one that was downloaded (or generated)."""

import dagster as dg

from bwm.cbs import mirror
from bwm.sources import expected_tables
from pipelines.resources import BwmResource

MIRROR = dg.AssetKey(["mirror", "cbs"])


#: Blocking: a damaged or changed mirror file must never reach a page or an export (README, "Checks that block").
@dg.asset_check(asset=MIRROR, blocking=True,
                description="Every file of every expected table matches the sha256 in its manifest.json "
                            "(each file version is hashed once; bwm.cbs.mirror.verify_table(cached=True)).")
def mirror_verified(bwm: BwmResource) -> dg.AssetCheckResult:
    settings = bwm.settings
    failures, verified = [], 0
    for table in expected_tables(settings):
        try:
            mirror.verify_table(settings.mirror_dir, table.table_id, cached=True)
            verified += 1
        except mirror.MirrorError as exc:
            failures.append(f"{table.table_id}: {exc}")
    return dg.AssetCheckResult(
        passed=not failures,
        description="; ".join(failures) or None,
        metadata={"tables_verified": verified, "tables_failed": len(failures),
                  "failures": dg.MetadataValue.md("\n".join(f"* {f}" for f in failures) or "none")},
    )


mirror_checks = [mirror_verified]
