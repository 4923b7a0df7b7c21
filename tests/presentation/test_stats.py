"""The dashboard's computations on numbers worked by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipelines.presentation.stats import (
    pairwise_tests,
    sankey_links,
    scorecard_tiles,
    verdict,
)


def test_z_test_on_hand_worked_numbers():
    # 30/100 vs 20/100: pooled p = 0.25, se = sqrt(0.25 * 0.75 * 0.02) = 0.061237,
    # z = 0.10 / 0.061237 = 1.633 -> not significant.
    # 60/200 vs 40/200: se = sqrt(0.25 * 0.75 * 0.01) = 0.043301, z = 2.309 -> significant.
    rates = pl.DataFrame(
        {
            "partner": ["A", "B", "A", "B"],
            "metric": ["small", "small", "large", "large"],
            "numerator": [30.0, 20.0, 60.0, 40.0],
            "denominator": [100.0, 100.0, 200.0, 200.0],
        }
    )
    tests = {r["metric"]: r for r in pairwise_tests(rates).to_dicts()}
    assert tests["small"]["z"] == pytest.approx(1.63299, abs=1e-4)
    assert not tests["small"]["significant"]
    assert tests["large"]["z"] == pytest.approx(2.30940, abs=1e-4)
    assert tests["large"]["significant"]
    assert tests["large"]["difference"] == pytest.approx(0.10)


def test_z_test_with_no_variance_is_not_significant():
    rates = pl.DataFrame(
        {
            "partner": ["A", "B"],
            "metric": ["m", "m"],
            "numerator": [0.0, 0.0],
            "denominator": [50.0, 80.0],
        }
    )
    row = pairwise_tests(rates).row(0, named=True)
    assert row["z"] is None and row["significant"] is False


def _weekly(values: dict[str, list[tuple[date, float | None, str]]]) -> pl.DataFrame:
    rows = [
        {
            "week_start": w,
            "metric": m,
            "value": v,
            "status": s,
            "target": "t",
            "sample": 50,
            "numerator": None,
            "denominator": None,
        }
        for m, series in values.items()
        for w, v, s in series
    ]
    return pl.DataFrame(rows, schema_overrides={"numerator": pl.Float64, "denominator": pl.Float64})


W1, W2, W3 = date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17)


def test_tiles_change_and_sparkline():
    weekly = _weekly(
        {
            "bounceback_rate": [(W1, 0.10, "green"), (W2, 0.12, "amber"), (W3, 0.24, "red")],
            "reopen_rate": [(W2, 0.03, "green"), (W3, 0.02, "insufficient")],
        }
    )
    tiles = scorecard_tiles(weekly, W3, ["reopen_rate", "bounceback_rate", "pingpong_rate"])
    assert tiles["metric"].to_list() == ["reopen_rate", "bounceback_rate", "pingpong_rate"]
    bounce = tiles.row(1, named=True)
    assert bounce["change"] == pytest.approx(0.12)
    assert bounce["spark_values"] == [0.10, 0.12, 0.24]
    reopen = tiles.row(0, named=True)
    assert reopen["change"] is None  # an insufficient sample has no change to show
    assert tiles.row(2, named=True)["status"] == "n/a"


def test_verdict_lists_red_first():
    tiles = pl.DataFrame(
        {
            "metric": ["bounceback_rate", "reopen_rate", "pingpong_rate", "tier_skip_rate"],
            "value": [0.24, 0.12, 0.15, 0.01],
            "status": ["red", "red", "amber", "insufficient"],
        }
    )
    assert verdict(tiles) == (
        "2 KPIs red: Bounceback 24.0%, Reopened 12.0%; 1 amber (1 with too few cases to judge)."
    )
    green = tiles.with_columns(status=pl.lit("green"))
    assert verdict(green) == "All 4 KPIs with a target are green."


def test_sankey_links_from_paths():
    paths = pl.DataFrame({"path": ["L1 > L2", "L1 > L2 > L1", "L1"], "n_tickets": [10, 4, 50]})
    nodes, links = sankey_links(paths)
    by_label = dict(zip(nodes["node"].to_list(), nodes["label"].to_list(), strict=True))
    named = {(by_label[r["source"]], by_label[r["target"]]): r["value"] for r in links.to_dicts()}
    assert named == {
        ("L1 · step 1 (14)", "L2 · step 2 (14)"): 14,
        ("L2 · step 2 (14)", "L1 · step 3 (4)"): 4,
    }
