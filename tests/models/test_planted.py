"""The models recover the rates the generator planted.

The generator labels every ticket with its scenario while it draws the timelines
and counts the true numerators and denominators from those labels (planted.json),
not from the event rows. The full pipeline (sample files -> ingest -> build) must
give back exactly those counts, and rates within sampling error of the planted
probabilities.
"""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.kpis import kpi_table
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample

SEED = 20261123


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    planted = write_sample(root / "data", n_tickets=4000, seed=SEED, fmt="csv")
    db = root / "t.duckdb"
    result = run_ingest([root / "data"], db_path=db, config=Config(), source="sample")
    assert result.rows_rejected == 0
    run_build(db, Config())
    truth = json.loads((root / "data" / "planted.json").read_text())
    assert truth["n_tickets"] == planted["n_tickets"] == 4000
    return db, truth


def _counts(frame: pl.DataFrame, key: str) -> dict:
    return {
        (r[key] if key else None, r["metric"]): (r["numerator"], r["denominator"])
        for r in frame.iter_rows(named=True)
    }


def test_realised_counts_are_recovered_exactly(built):
    db, truth = built
    overall = _counts(kpi_table(db, Config()), "")
    by_partner = _counts(kpi_table(db, Config(), by="partner"), "partner")
    checked = 0
    for metric, planted in truth["realised"]["metrics"].items():
        o = planted["overall"]
        assert overall[(None, metric)] == (o["numerator"], o["denominator"]), metric
        for partner, p in planted["by_partner"].items():
            assert by_partner[(partner, metric)] == (p["numerator"], p["denominator"]), (
                metric,
                partner,
            )
            checked += 1
    assert checked >= 10 * 4


def test_rates_lie_within_sampling_error_of_the_planted_probabilities(built):
    db, truth = built
    by_partner = kpi_table(db, Config(), by="partner")
    for metric, expected in truth["expected"].items():
        for partner, p in expected["by_partner"].items():
            row = by_partner.filter((pl.col("partner") == partner) & (pl.col("metric") == metric))
            n = row["denominator"][0]
            se = math.sqrt(p * (1 - p) / n)
            assert abs(row["value"][0] - p) <= 4 * se + 1e-9, (metric, partner, row["value"][0], p)


def test_backlog_and_handoff_delay(built):
    db, truth = built
    frame = kpi_table(db, Config())
    value = dict(zip(frame["metric"], frame["value"], strict=True))
    assert value["backlog_open_tickets"] == truth["realised"]["n_open"]
    assert value["handoff_delay_median_min"] == pytest.approx(
        truth["realised"]["handoff_delay_median_min"], abs=0.001
    )
