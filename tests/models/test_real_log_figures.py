"""Every figure of the two real logs is pinned: a redesign must not move one.

The fixtures were written by `python -m tests.models.real_log_figures --write`
(read that module for what is pinned). A change that is meant to move a figure
rewrites them in the same commit, and the diff of the overall table shows which.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from pipelines.metrics import METRICS
from tests.models.real_log_figures import LOGS, build, figures, fixture_path, tables


@pytest.fixture(scope="module", params=sorted(LOGS))
def built(request, tmp_path_factory):
    name = request.param
    return (name, *build(name, tmp_path_factory.mktemp(name)))


def test_figures_of_the_real_logs_are_unchanged(built):
    name, db, config = built
    pinned = json.loads(fixture_path(name).read_text())
    metrics = [row["metric"] for row in pinned["overall"]]
    found = json.loads(json.dumps(figures(db, config, metrics), default=str))
    assert found["overall"] == pinned["overall"]
    assert found["rows"] == pinned["rows"]
    assert found["digests"] == pinned["digests"]


def test_with_no_calendar_business_time_is_wall_clock_time(built):
    """No calendar configured: every business-time twin equals its KPI in every row
    of kpi_weekly, except the tier clock shares, which also pause during waits."""
    _name, db, config = built
    twins = {m.name: m.wall_twin for m in METRICS if m.wall_twin and m.stat != "share"}
    weekly = tables(db, config)["kpi_weekly"]
    keys = ["week_start", "dimension", "dimension_value"]
    columns = ["value", "numerator", "denominator", "sample", "status"]
    business = weekly.filter(pl.col("metric").is_in(list(twins))).with_columns(
        pl.col("metric").replace_strict(twins)
    )
    wall = weekly.filter(pl.col("metric").is_in(list(twins.values())))
    assert business.height == wall.height > 1000
    joined = wall.join(business, on=[*keys, "metric"], suffix="_b", nulls_equal=True)
    assert joined.height == wall.height
    for c in columns:
        same = joined.select(
            (pl.col(c).eq_missing(pl.col(f"{c}_b")) | ((pl.col(c) - pl.col(f"{c}_b")).abs() < 1e-6))
            if c in ("value",)
            else pl.col(c).eq_missing(pl.col(f"{c}_b"))
        ).to_series()
        assert same.all(), c
