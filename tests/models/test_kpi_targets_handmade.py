"""The default targets (docs/metrics.md, pipelines/config.py) judge the hand-made
timelines of test_kpis_handmade.py: each status worked out by hand from the values
asserted there, with the minimum sample lowered to 1 so that every rate is judged.

Green inside [green_min, green_max], red below red_below or above red_above, amber
in between.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.config import Config
from pipelines.kpis import kpi_table
from tests.models.test_kpis_handmade import handmade
from tests.models.timelines import build

# metric -> (its value on the hand-made timelines, default target label, status)
EXPECTED: dict[str, tuple[float, str, str]] = {
    "l1_resolution_rate": (1 / 8, ">= 70%", "red"),  # red below 60%
    "escalation_rate": (6 / 8, "15-20%", "red"),  # red above 30%
    "bounceback_rate": (2 / 7, "5-10%", "red"),  # 28.6%: red above 20%
    "reescalation_rate": (1 / 5, "< 15%", "amber"),  # 20%: past 15%, not past 30%
    "tier_skip_rate": (1 / 6, "< 10%", "amber"),  # 16.7%: past 10%, not past 20%
    "pingpong_rate": (2 / 6, "< 10%", "red"),  # 33%: red above 20%
    "reopen_rate": (1 / 9, "< 5%", "red"),  # 11.1%: red above 10%
    "handoff_delay_median_min": (8.0, "< 30 min", "green"),
    # no calendar: business time is wall-clock time; the twin has the same target
    "handoff_delay_median_business_min": (8.0, "< 30 min", "green"),
    "pickup_within_target_rate": (1 / 2, ">= 90%", "red"),  # red below 75%
    "note_completeness_rate": (1 / 7, ">= 90%", "red"),  # red below 80%
    "kb_deflection_rate": (1 / 9, ">= 40%", "red"),  # red below 25%
    "late_escalation_rate": (1 / 6, "< 10%", "amber"),  # past 10%, not past 25%
    "early_escalation_rate": (1 / 6, "< 10%", "amber"),
    "unnecessary_escalation_rate": (3 / 6, "< 15%", "red"),  # red above 25%
}


def judged(db: Path) -> dict[str, tuple[float, str, str]]:
    """metric -> (value, target, status) of the overall KPI table of a built database,
    for the metrics that have a target."""
    table = kpi_table(db, Config()).filter(pl.col("target").is_not_null())
    rows = table.iter_rows(named=True)
    return {r["metric"]: (r["value"], r["target"], r["status"]) for r in rows}


@pytest.fixture(scope="module")
def statuses(tmp_path_factory) -> dict[str, tuple[float, str, str]]:
    db = tmp_path_factory.mktemp("targets") / "t.duckdb"
    build(db, handmade(), config=Config(min_sample=1)).close()
    return judged(db)


def test_every_default_target_is_judged(statuses):
    assert set(statuses) == set(EXPECTED) == set(Config().targets)


@pytest.mark.parametrize("metric", EXPECTED)
def test_status_under_the_default_target(statuses, metric):
    value, target, status = EXPECTED[metric]
    assert statuses[metric] == (pytest.approx(value), target, status)
