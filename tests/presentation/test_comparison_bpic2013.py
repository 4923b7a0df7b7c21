"""The partner comparison on the real Volvo IT log (BPI Challenge 2013): org lines
from 1 to 5,580 tickets. Small ones get no precise adjusted figure, every one has
funnel limits, and no pair with a small partner is called different.

Before indirect standardisation the comparison read: Org line I, 1 ticket at 0%,
"adjusted" to 63.7% with a +/-0.0 interval; Org line A2 from 53.7% +/-5.5 to 65.4%
+/-0.8 (direct standardisation pulled small partners onto the overall rate with a
narrower interval than their own)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.presentation import queries
from pipelines.presentation.comparison import compare_partners, partner_table
from pipelines.presentation.filters import Filters
from pipelines.presentation.stats import DIFFERENT, TOO_FEW, metric_is_rate
from pipelines.serving import read_pointer

LOG = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "bpic2013_incidents.csv.gz"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> str:
    if not LOG.exists():
        pytest.fail(f"{LOG} is missing: the shared datasets must sit beside the project")
    path = tmp_path_factory.mktemp("bpic") / "bpic.duckdb"
    result = run_ingest([LOG], db_path=path, config=Config(), source="bpic2013", fmt="eventlog")
    assert result.rows_rejected == 0
    run_build(path, Config())
    pointer = read_pointer(path)
    assert pointer is not None
    return str(path.parent / f"{path.name}.serving" / pointer.snapshot)


@pytest.fixture(scope="module")
def strata(snapshot: str) -> pl.DataFrame:
    return queries.kpis(snapshot, Filters(), ("partner", "category", "priority"))


@pytest.fixture(scope="module")
def comparisons(snapshot: str, strata: pl.DataFrame) -> dict:
    with duckdb.connect(snapshot, read_only=True) as con:  # the build's settings
        settings = con.execute("select min_sample, min_gap from config.settings").fetchone()
    assert settings == (20, 0.05)
    metrics = [m for m in strata["metric"].unique().sort().to_list() if metric_is_rate(m)]
    return {m: compare_partners(strata, m, 20, 0.05) for m in metrics}


def test_no_small_partner_gets_a_precise_adjusted_figure(comparisons):
    assert len(comparisons) >= 8
    for metric, comparison in comparisons.items():
        partners = comparison.partners
        small = partners.filter(pl.col("cases") < 20)
        assert small["adjusted_rate"].null_count() == small.height, metric
        assert small["adjusted_low"].null_count() == small.height, metric
        assert (small["reason"] == TOO_FEW).all(), metric
        # an adjusted figure is exactly as precise as the partner's own rate, carried
        # by the case-mix factor P n / E (capped at 100%)
        judged = partners.filter(pl.col("adjusted_rate").is_not_null())
        scale = judged["pooled_rate"] * judged["cases"] / judged["expected"]
        assert ((judged["adjusted_low"] - judged["crude_low"] * scale).abs() < 1e-12).all()
        high = (judged["crude_high"] * scale).clip(upper_bound=1.0)
        assert ((judged["adjusted_high"] - high).abs() < 1e-12).all()


def test_every_partner_has_funnel_limits(comparisons):
    for metric, comparison in comparisons.items():
        limits = comparison.partners.select("lower998", "lower95", "upper95", "upper998")
        assert limits.null_count().sum_horizontal().item() == 0, metric
        ordered = comparison.partners.select(
            (pl.col("lower998") <= pl.col("lower95"))
            & (pl.col("lower95") <= pl.col("pooled_rate"))
            & (pl.col("pooled_rate") <= pl.col("upper95"))
            & (pl.col("upper95") <= pl.col("upper998"))
        ).to_series()
        assert ordered.all(), metric


def test_the_one_ticket_partner_is_marked_too_few(comparisons):
    partners = comparisons["l1_resolution_rate"].partners
    one = partners.filter(pl.col("partner") == "Org line I").row(0, named=True)
    assert (one["cases"], one["observed"]) == (1, 0)
    assert one["adjusted_rate"] is None and one["reason"] == TOO_FEW
    assert one["crude_high"] - one["crude_low"] > 0.75  # 0 of 1: 0% .. 79.3%
    assert one["upper95"] - one["lower95"] > 0.9  # its funnel limits at 1 case: almost anything
    shown = partner_table(comparisons["l1_resolution_rate"]).filter(
        pl.col("partner") == "Org line I"
    )
    assert shown["case-mix adjusted (95% interval)"].to_list() == [TOO_FEW]


def test_org_line_a2_keeps_an_honest_interval(comparisons):
    a2 = (
        comparisons["l1_resolution_rate"]
        .partners.filter(pl.col("partner") == "Org line A2")
        .row(0, named=True)
    )
    # 169 of 315 resolved at L1 (53.7%, Wilson 48.1-59.1%); expected for its products
    # and priorities 156.9: adjusted 169 / 156.9 x 63.7% = 68.6%, 61.6-75.6%
    assert (a2["observed"], a2["cases"]) == (169, 315)
    assert a2["crude_rate"] == pytest.approx(0.5365, abs=1e-4)
    assert a2["adjusted_rate"] == pytest.approx(0.6861, abs=1e-4)
    assert (a2["adjusted_low"], a2["adjusted_high"]) == pytest.approx((0.6156, 0.7556), abs=1e-4)
    assert a2["adjusted_high"] - a2["adjusted_low"] > a2["crude_high"] - a2["crude_low"]


def test_no_pair_with_a_small_partner_is_called_different(comparisons):
    for metric, comparison in comparisons.items():
        pairs = comparison.pairs
        small = pairs.filter((pl.col("cases_a") < 20) | (pl.col("cases_b") < 20))
        assert (small["verdict"] == TOO_FEW).all(), metric
        different = pairs.filter(pl.col("verdict") == DIFFERENT)
        assert (different["gap"].abs() >= 0.05).all() and (different["q"] < 0.05).all(), metric
    # 66 pairs of 12 org lines on L1 resolution: 51 have a partner under 20 tickets
    l1 = comparisons["l1_resolution_rate"].pairs
    assert l1.height == 66 and (l1["verdict"] == TOO_FEW).sum() == 51
