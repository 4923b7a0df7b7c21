"""Every grouping of the KPIs, read from kpi_fact_cells, equals the figures of the
cases themselves.

kpi_weekly, `tierlens kpis` and the dashboard aggregate the cells (kpi_facts
summed by week, dimensions and fact). This test computes each metric's value,
numerator, denominator and sample straight from kpi_facts, case by case, with its
own SQL (a rate: sum over sum; a median or 90th percentile: quantile_cont over the
cases' measures; a ratio of medians: the two medians divided), for groupings drawn
by hypothesis, and compares them with `tierlens kpis`' table.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings, strategies as st

from pipelines.config import Config
from pipelines.kpis import DIMENSIONS, kpi_table
from pipelines.serving import open_snapshot
from tests.dashboard.conftest import build_sample

NAMES = sorted(DIMENSIONS)  # week and every dimension


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample(tmp_path_factory.mktemp("cells"), 1500, seed=11)


def _from_cases(db: Path, by: list[str]) -> dict[tuple[object, ...], tuple[Any, ...]]:
    """(group..., metric) -> (value, numerator, denominator, sample), case by case."""
    columns = [DIMENSIONS[n] for n in by]
    keys = "".join(f"facts.{c}, " for c in columns)
    con, _pointer = open_snapshot(db)
    try:
        rows = con.execute(
            f"""
            with per_fact as (
                select {keys}facts.fact,
                    sum(facts.numerator) as numerator,
                    sum(facts.denominator) as denominator,
                    count(facts.denominator) as n_denominator,
                    count(facts.measure) as n_measure,
                    count(*) as n_cases,
                    quantile_cont(facts.measure, 0.5) as median,
                    quantile_cont(facts.measure, 0.9) as p90
                from analytics.kpi_facts as facts
                group by all
            )
            select {"".join(f"per_fact.{c}, " for c in columns)}mf.metric, mf.stat,
                mf.is_base, per_fact.numerator, per_fact.denominator,
                per_fact.n_denominator, per_fact.n_measure, per_fact.n_cases,
                per_fact.median, per_fact.p90
            from per_fact
            join config.metric_facts as mf on mf.fact = per_fact.fact
            """
        ).fetchall()
    finally:
        con.close()
    sides: dict[tuple[object, ...], dict[bool, tuple[Any, ...]]] = {}
    for row in rows:
        metric, stat, is_base, *values = row[len(columns) :]
        sides.setdefault((*row[: len(columns)], metric, stat), {})[is_base] = tuple(values)
    out = {}
    for (*group, metric, stat), found in sides.items():
        if stat == "median_ratio":  # this fact's median over its base's
            main, base = found.get(False), found.get(True)
            median, base_median = (main[5] if main else None), (base[5] if base else None)
            value = median / base_median if median is not None and base_median else None
            sample = min(main[4] if main else 0, base[4] if base else 0)
            out[(*group, metric)] = (value, main[0] if main else None, None, sample)
            continue
        num, den, n_den, n_measure, n_cases, median, p90 = found[False]
        if stat in ("rate", "share"):
            value, sample = (num / den if den else None), n_den
        elif stat == "median":
            value, sample = median, n_measure
        elif stat == "p90":
            value, sample = p90, n_measure
        else:  # count
            value, sample = num, n_cases
        out[(*group, metric)] = (value, num, den, sample)
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


@settings(max_examples=12, deadline=None)
@given(by=st.lists(st.sampled_from(NAMES), max_size=3, unique=True))
def test_any_grouping_of_the_cells_equals_the_cases(built: Path, by: list[str]) -> None:
    expected = _from_cases(built, by)
    table = kpi_table(built, Config(), by=by)
    assert table.height == len(expected) > 0
    for row in table.iter_rows(named=True):
        key = (*(row[n] for n in by), row["metric"])
        value, numerator, denominator, sample = expected[key]
        assert _close(row["value"], value), (key, row["value"], value)
        assert _close(row["numerator"], numerator), key
        assert _close(row["denominator"], denominator), key
        assert row["sample"] == sample, key


def test_the_cells_add_up_to_the_cases(built: Path) -> None:
    """Each cell holds its cases' sums and counts and every measure, smallest first."""
    con, _pointer = open_snapshot(built)
    try:
        cells, cases, measures, unsorted = con.execute(
            """
            select
                (select count(*) from analytics.kpi_fact_cells),
                (select sum(n_cases) from analytics.kpi_fact_cells),
                (select sum(len(measures)) from analytics.kpi_fact_cells),
                (select count(*) from analytics.kpi_fact_cells
                 where measures <> list_sort(measures))
            """
        ).fetchall()[0]
        facts, with_measure = con.execute(
            "select count(*), count(measure) from analytics.kpi_facts"
        ).fetchall()[0]
    finally:
        con.close()
    assert cases == facts and measures == with_measure and unsorted == 0
    assert 0 < cells < facts  # cases with the same week and dimensions share a cell


def test_kpi_weekly_is_the_cases_by_week(built: Path) -> None:
    """The mart's partner-by-week rows are the cases' figures too."""
    expected = _from_cases(built, ["week", "partner"])
    with duckdb.connect(str(built), read_only=True) as con:
        rows = con.execute(
            "select week_start, dimension_value, metric, value, sample "
            "from analytics.kpi_weekly where dimension = 'partner' and week_start is not null"
        ).fetchall()
    assert len(rows) > 100
    for week, partner, metric, value, sample in rows:
        want = expected[(week, partner, metric)]
        assert _close(value, want[0]) and sample == want[3], (week, partner, metric)
