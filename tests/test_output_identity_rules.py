"""What the output-identity comparison (tests/output_identity.py) counts as the same, and what not."""

import duckdb
from output_identity import Rows, compare, mask


def _rows(sql: str) -> Rows:
    return Rows(duckdb.connect().sql(sql))


def test_row_order_and_float_noise_are_the_same_output():
    a = _rows("select * from (values ('b', 0.07896493234169269::double), ('a', 1.0::double)) t(k, v)")
    b = _rows("select * from (values ('a', 1.0::double), ('b', 0.0789649323416927::double)) t(k, v)")
    assert a == b
    assert compare({"warehouse/x.t": a}, {"warehouse/x.t": b}) == []
    # a theme score near zero (an average of z-scores): two runs of one commit, 4e-15 apart (a relative 7e-12)
    near_zero = _rows("select * from (values ('s', 0.0005910459687026849::double)) t(k, v)")
    assert near_zero == _rows("select * from (values ('s', 0.0005910459687068005::double)) t(k, v)")
    assert near_zero != _rows("select * from (values ('s', 0.000591046::double)) t(k, v)")


def test_a_changed_value_a_missing_row_or_a_renamed_column_is_a_difference():
    base = _rows("select * from (values ('a', 1.0::double), ('b', 2.0::double)) t(k, v)")
    assert base != _rows("select * from (values ('a', 1.0::double), ('b', 2.000001::double)) t(k, v)")
    assert base != _rows("select * from (values ('a', 1.0::double)) t(k, v)")
    assert base != _rows("select * from (values ('a', 1.0::double), ('b', 2.0::double)) t(k, value)")
    assert base != _rows("select * from (values ('a', 1.0::double), ('b', null::double)) t(k, v)")
    problems = compare({"warehouse/x.t": base}, {"warehouse/x.t": _rows(
        "select * from (values ('a', 1.0::double), ('b', 3.0::double)) t(k, v)")})
    assert len(problems) == 1 and "('b', 2.0)" in problems[0] and "('b', 3.0)" in problems[0]


def test_timestamps_are_masked_in_text_and_in_values():
    assert mask(b"Gemaakt op 2026-12-01T21:58:39+00:00.") == b"Gemaakt op <time>."
    a = _rows("select 'generated_at' as k, '2026-12-01T21:58:39+00:00' as v, timestamp '2026-12-01 10:00' as t")
    b = _rows("select 'generated_at' as k, '2026-12-02T08:00:00+00:00' as v, timestamp '2026-12-02 10:00' as t")
    assert a == b
