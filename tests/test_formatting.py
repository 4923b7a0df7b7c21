"""Values read the same in the command line, the dashboard and the report: the
vectorised formatter agrees with the scalar one."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.formatting import UNITS, fmt_delta, fmt_value, label_expr, value_expr


@pytest.mark.parametrize(
    ("metric", "value", "text"),
    [
        ("l1_resolution_rate", 0.7123, "71.2%"),
        ("l1_resolution_rate", 1.0, "100.0%"),
        ("handoff_delay_median_min", 12345.4, "12,345 min"),
        ("handoff_delay_median_min", 7.0, "7 min"),
        ("mttr_unnecessary_ratio", 17.7976, "17.8x"),
        ("backlog_open_tickets", 1234567.0, "1,234,567"),
        ("backlog_open_tickets", None, "n/a"),
    ],
)
def test_scalar_and_column_formatting_agree(metric, value, text):
    assert fmt_value(value, UNITS[metric]) == text
    frame = pl.DataFrame(
        {"metric": [metric], "value": [value]}, schema={"metric": pl.String, "value": pl.Float64}
    )
    assert frame.select(text=value_expr("value"))["text"][0] == text


def test_deltas():
    assert fmt_delta(0.025, "%") == "+2.5 pts"
    assert fmt_delta(-12.0, "min") == "-12 min"
    assert fmt_delta(0.31, "x") == "+0.3x"
    assert fmt_delta(None, "%") is None


def test_labels_fall_back_to_the_name():
    frame = pl.DataFrame({"metric": ["escalation_rate", "not_a_metric"]})
    assert frame.select(label_expr())["metric"].to_list() == ["Escalation rate", "not_a_metric"]
