"""Control-chart signals and week kinds (pipelines/presentation/control.py), on
numbers worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from pipelines.presentation.control import (
    ABOVE_LIMIT,
    BELOW_LIMIT,
    FEW_CASES,
    FULL,
    PARTIAL,
    RUN_ABOVE,
    describe_signals,
    is_proportion,
    p_chart,
    week_kinds,
)

MONDAY = date(2025, 3, 3)


def _weeks(n: int) -> list[date]:
    return [MONDAY + timedelta(weeks=i) for i in range(n)]


def _points(numerators: list[int], denominators: list[int], **extra: list) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "week_start": _weeks(len(numerators)),
            "numerator": [float(k) for k in numerators],
            "denominator": [float(n) for n in denominators],
            **extra,
        }
    )


def test_limits_follow_each_weeks_own_number_of_cases():
    # 300 of 600 cases: p = 0.5, so sigma_w = 0.5 / sqrt(n_w):
    # n = 100 -> 0.05 -> limits 0.35-0.65;  50/100 = 0.50 is inside
    # n = 400 -> 0.025 -> 0.425-0.575;     168/400 = 0.42 is below
    # n = 25  -> 0.1  -> 0.2-0.8;          22/25 = 0.88 is above
    # n = 75  -> 0.0577 -> 0.3268-0.6732;  60/75 = 0.80 is above
    chart = p_chart(_points([50, 168, 22, 60], [100, 400, 25, 75]))
    assert chart["centre"].to_list() == pytest.approx([0.5] * 4)
    assert chart["lower"].to_list() == pytest.approx([0.35, 0.425, 0.2, 0.5 - 1.5 / 75**0.5])
    assert chart["upper"].to_list() == pytest.approx([0.65, 0.575, 0.8, 0.5 + 1.5 / 75**0.5])
    assert chart["rate"].to_list() == pytest.approx([0.5, 0.42, 0.88, 0.8])
    assert chart["signal"].to_list() == [None, BELOW_LIMIT, ABOVE_LIMIT, ABOVE_LIMIT]


def test_limits_are_clipped_to_0_and_100_percent():
    # p = 0.5 on n = 4: sigma 0.25, 0.5 -/+ 0.75 -> clipped to 0 and 1.
    chart = p_chart(_points([2, 2], [4, 4]))
    assert chart["lower"].to_list() == [0.0, 0.0]
    assert chart["upper"].to_list() == [1.0, 1.0]
    assert chart["signal"].to_list() == [None, None]


def test_eight_weeks_in_a_row_above_the_centre_line_is_a_run():
    # 10 then 21 (x8) of 100: p = 178 / 900 = 0.19778; the 21% weeks are the 8 above
    # the centre line. sigma = sqrt(0.19778 * 0.80222 / 100) = 0.03983: the limits
    # 0.0783-0.3173 hold every week, so the run is the only signal.
    chart = p_chart(_points([10] + [21] * 8, [100] * 9))
    assert chart["centre"][0] == pytest.approx(178 / 900)
    assert chart["lower"][0] == pytest.approx(178 / 900 - 3 * (178 / 900 * 722 / 900 / 100) ** 0.5)
    assert chart["side"].to_list() == [-1] + [1] * 8
    assert chart["run_length"].to_list() == [1] + [8] * 8
    assert chart["signal"].to_list() == [None] + [RUN_ABOVE] * 8


def test_seven_weeks_in_a_row_is_not_a_run_and_a_week_on_the_line_breaks_one():
    # 10 then 21 (x7) of 100: p = 157 / 800; seven weeks above: no signal.
    assert p_chart(_points([10] + [21] * 7, [100] * 8))["signal"].null_count() == 8
    # 4 weeks of 30, one of 25, 4 of 20 (of 100 each): p = 225 / 900 = 0.25, so the
    # fifth week sits on the centre line: 4 above, 1 on it, 4 below; no run of 8.
    chart = p_chart(_points([30] * 4 + [25] + [20] * 4, [100] * 9))
    assert chart["centre"][0] == pytest.approx(0.25)
    assert chart["side"].to_list() == [1] * 4 + [0] + [-1] * 4
    assert chart["run_length"].to_list() == [4] * 4 + [1] + [4] * 4
    assert chart["signal"].null_count() == 9


def test_each_group_has_its_own_centre_line_and_weeks_without_cases_are_dropped():
    points = pl.DataFrame(
        {
            "week_start": _weeks(2) * 2 + [MONDAY + timedelta(weeks=2)],
            "split": ["A", "A", "B", "B", "B"],
            "numerator": [10.0, 30.0, 5.0, 5.0, 0.0],
            "denominator": [100.0, 100.0, 10.0, 40.0, 0.0],
        }
    )
    chart = p_chart(points, by=["split"])
    assert chart["split"].to_list() == ["A", "A", "B", "B"]
    # A: 40 / 200 = 0.2; B: 10 / 50 = 0.2 as well, on fewer cases, so wider limits:
    # A, n = 100: sigma = sqrt(0.16 / 100) = 0.04, limits 0.08-0.32
    # B, n = 10: sigma = sqrt(0.016) = 0.12649, limits 0 (clipped)-0.57947
    # B, n = 40: sigma = sqrt(0.004) = 0.06325, limits 0.01026-0.38974
    assert chart["centre"].to_list() == pytest.approx([0.2] * 4)
    assert chart["upper"].to_list() == pytest.approx([0.32, 0.32, 0.57947, 0.38974], abs=1e-5)
    assert chart["lower"].to_list() == pytest.approx([0.08, 0.08, 0.0, 0.01026], abs=1e-5)


def test_signals_read_as_sentences():
    chart = p_chart(_points([50, 168, 22, 60], [100, 400, 25, 75]))
    assert describe_signals(chart) == [
        "week of 10 Mar: 42.0% on 400 cases is below the lower control limit (42.5%).",
        "week of 17 Mar: 88.0% on 25 cases is above the upper control limit (80.0%).",
        "week of 24 Mar: 80.0% on 75 cases is above the upper control limit (67.3%).",
    ]
    run = p_chart(_points([10] + [21] * 8, [100] * 9).with_columns(split=pl.lit("Acme")))
    assert describe_signals(run, by="split") == [
        "Acme: 8 weeks in a row above the centre line (19.8%), 10 Mar to 28 Apr."
    ]


def test_week_kinds_mark_partial_and_near_empty_weeks():
    weekly = pl.DataFrame(
        {
            "week_start": _weeks(4),
            "sample": [1, 300, 25, 40],
            "status": ["insufficient", "green", "insufficient", "amber"],
        }
    )
    # min_sample 20: week 1 has 1 case; week 3 is 'insufficient' by its KPI's own
    # min_sample even with 25; week 4 comes after the last complete week.
    kinds = week_kinds(weekly, 20, complete_until=_weeks(3)[-1])
    assert kinds["week_kind"].to_list() == [FEW_CASES, FULL, FEW_CASES, PARTIAL]
    assert week_kinds(weekly.drop("status"), 30)["week_kind"].to_list() == [
        FEW_CASES,
        FULL,
        FEW_CASES,
        FULL,
    ]
    assert week_kinds(weekly.select("week_start"), 20)["week_kind"].to_list() == [FULL] * 4


def test_only_rates_get_a_p_chart():
    assert is_proportion("l1_resolution_rate")
    assert not is_proportion("handoff_delay_median_min")
    assert not is_proportion("no_such_metric")
