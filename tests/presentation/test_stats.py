"""The dashboard's computations on numbers worked by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipelines.presentation.stats import (
    pairwise_tests,
    sankey_links,
    scorecard_tiles,
    standardise,
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


def test_direct_standardisation_by_hand():
    # Two strata. Overall: easy 80/100 (80%), hard 20/100 (20%) -> weights 0.5 / 0.5.
    # A: easy 72/90 (80%), hard 2/10 (20%): crude 74%, adjusted 0.5*0.8 + 0.5*0.2 = 50%.
    # B: easy 8/10 (80%), hard 18/90 (20%): crude 26%, adjusted 50% too: the whole
    # crude gap is case mix.
    # C: only easy cases, 0/0 in hard -> hard takes the overall 20%.
    strata = pl.DataFrame(
        {
            "partner": ["A", "A", "B", "B", "C"],
            "metric": ["m"] * 5,
            "category": ["easy", "hard", "easy", "hard", "easy"],
            "priority": ["P3"] * 5,
            "numerator": [72.0, 2.0, 8.0, 18.0, 0.0],
            "denominator": [90.0, 10.0, 10.0, 90.0, 0.0],
        }
    )
    out = {r["partner"]: r for r in standardise(strata).to_dicts()}
    assert out["A"]["crude_rate"] == pytest.approx(0.74)
    assert out["B"]["crude_rate"] == pytest.approx(0.26)
    assert out["A"]["adjusted_rate"] == pytest.approx(0.50)
    assert out["B"]["adjusted_rate"] == pytest.approx(0.50)
    assert "C" not in out  # no case at all in this metric
    # A's variance: 0.25 * 0.8*0.2/90 + 0.25 * 0.2*0.8/10 = 0.0044444; sd = 0.066667
    assert out["A"]["adjusted_high"] - out["A"]["adjusted_rate"] == pytest.approx(
        1.959964 * 0.0666667, abs=1e-5
    )


def test_stratum_without_partner_cases_takes_the_overall_rate():
    # Overall easy 50/100 (weights: easy 100/150, hard 50/150), hard 10/50 (20%).
    # C has easy 30/50 only: adjusted = 2/3 * 0.6 + 1/3 * 0.2 = 0.4667.
    strata = pl.DataFrame(
        {
            "partner": ["C", "D", "D"],
            "metric": ["m"] * 3,
            "category": ["easy", "easy", "hard"],
            "priority": ["P3"] * 3,
            "numerator": [30.0, 20.0, 10.0],
            "denominator": [50.0, 50.0, 50.0],
        }
    )
    out = {r["partner"]: r for r in standardise(strata).to_dicts()}
    assert out["C"]["adjusted_rate"] == pytest.approx(2 / 3 * 0.6 + 1 / 3 * 0.2)


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
