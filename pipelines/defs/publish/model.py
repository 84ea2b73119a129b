"""The publish model: the tables the site and the exports read (``publish.*``), each one SQL file beside this module.

Each ``<name>.sql`` here is one ``select`` whose leading comment states its grain; the SQL factory
(``pipelines/sql.py``) makes it the asset ``publish/<name>``, with the deps it reads. The site (bwm.site.data) and
the exports (bwm.export.tables) read these tables instead of composing their own joins over the indicators,
staging and divide layers, and their incremental builds fingerprint them per gemeente (bwm.incremental).
"""

from pathlib import Path

from pipelines.sql import sql_assets, sql_files

HERE = Path(__file__).parent

#: One asset per SQL file of this folder.
model_assets = sql_assets(HERE)
#: The keys of the publish model, which the site and the exports depend on.
MODEL_KEYS = {sql.name: sql.key for sql in sql_files(HERE)}


def build_model(con, names=None) -> dict[str, int | None]:
    """Write every publish table (or those of ``names``) through ``con``; returns the row counts.

    What the assets do one table at a time; for tests and tools that change a warehouse by hand. No publish table
    reads another, so any order will do.
    """
    return {sql.name: sql.create(con) for sql in sql_files(HERE) if names is None or sql.name in names}
