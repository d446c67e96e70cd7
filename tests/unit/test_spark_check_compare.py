"""scripts/spark_check.py's comparison: exact for counts and text, within 1e-9 for doubles."""

from __future__ import annotations

import datetime as dt

from tests.support import load_script


def _spark_check():
    return load_script("spark_check")


def test_doubles_agree_within_1e_9_and_no_further() -> None:
    rows_differ = _spark_check().rows_differ
    assert rows_differ([("org_a", 12, 101.25)], [("org_a", 12, 101.25 + 4e-10)]) is None
    assert rows_differ([("org_a", 12, 101.25)], [("org_a", 12, 101.25 + 2e-9)]) == (
        f"row 1, column 3: 101.25 on DuckDB, {101.25 + 2e-9!r} on Spark"
    )


def test_counts_text_dates_and_nulls_must_be_equal() -> None:
    rows_differ = _spark_check().rows_differ
    day = dt.date(2026, 3, 1)
    assert rows_differ([("a", 1, day, None)], [("a", 1, day, None)]) is None
    assert (
        rows_differ([("a", 1, day, None)], [("a", 2, day, None)])
        == "row 1, column 2: 1 on DuckDB, 2 on Spark"
    )
    assert (
        rows_differ([("a", 1, day, None)], [("a", 1, day, 0)])
        == "row 1, column 4: None on DuckDB, 0 on Spark"
    )
    assert rows_differ([("a",)], [("a",), ("b",)]) == "1 rows on DuckDB, 2 on Spark"


def test_rows_are_compared_in_one_order_whatever_the_engine_returned() -> None:
    module = _spark_check()
    duck = sorted([("b", None), ("a", 2)], key=module._sort_key)
    spark = sorted([("a", 2), ("b", None)], key=module._sort_key)
    assert module.rows_differ(duck, spark) is None
