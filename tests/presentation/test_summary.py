"""The report's opening paragraph, on hand-made weeks."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.report.summary import Outlier, moves, summary_text


def _week(rows: list[tuple[str, str, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["metric", "stat", "numerator", "denominator"], orient="row"
    ).with_columns(value=pl.col("numerator") / pl.col("denominator"))


def test_only_a_move_beyond_chance_is_a_move():
    this = _week(
        [
            ("l1_resolution_rate", "rate", 60, 100),  # 60% vs 75%: pooled p = 0.675,
            ("escalation_rate", "rate", 21, 100),  # se = sqrt(.675 * .325 * (2 / 100)) =
            ("bounceback_rate", "rate", 0, 0),  # 0.06624, z = -0.15 / 0.06624 = -2.26
        ]
    )
    previous = _week(
        [
            ("l1_resolution_rate", "rate", 75, 100),
            ("escalation_rate", "rate", 18, 100),  # 21% vs 18%: z = 0.03 / 0.0560 = 0.54
            ("bounceback_rate", "rate", 3, 40),
        ]
    )
    moved = moves(this, previous)
    assert moved["metric"].to_list() == ["l1_resolution_rate"]
    assert moved["z"][0] == pytest.approx(-2.2646, abs=1e-3)


def test_the_paragraph_says_red_moves_and_outliers():
    tiles = pl.DataFrame(
        {
            "metric": ["l1_resolution_rate", "escalation_rate", "bounceback_rate"],
            "value": [0.55, 0.19, 0.12],
            "status": ["red", "green", "amber"],
        }
    )
    moved = pl.DataFrame(
        {"metric": ["l1_resolution_rate"], "value": [0.55], "previous_value": [0.75], "z": [-3.1]}
    )
    text = summary_text(
        week_label="17 Mar 2025",
        who="all partners",
        n_resolved=1234,
        tiles=tiles,
        moved=moved,
        outliers=[Outlier("Globex", "l1_resolution_rate", "below", "99.8%")],
    )
    assert text == (
        "In the week of 17 Mar 2025, 1,234 tickets were resolved (all partners). "
        "1 KPI is red: L1 resolution (55.0%); 1 amber. "
        "Moved beyond chance since the previous week: L1 resolution fell from 75.0% to "
        "55.0%; the other changes are within what chance gives a week of this size. "
        "Outside the funnel limits: Globex on L1 resolution (below the 99.8% limit)."
    )


def test_a_quiet_week_says_so():
    tiles = pl.DataFrame({"metric": ["escalation_rate"], "value": [0.18], "status": ["green"]})
    empty = pl.DataFrame(
        schema={
            "metric": pl.String,
            "value": pl.Float64,
            "previous_value": pl.Float64,
            "z": pl.Float64,
        }
    )
    text = summary_text(
        week_label="3 Mar 2025",
        who="partner Acme",
        n_resolved=5,
        tiles=tiles,
        moved=empty,
        outliers=[],
    )
    assert "Every KPI with a target that can be judged is green." in text
    assert "No rate moved beyond chance since the previous week." in text
    assert "funnel" not in text
