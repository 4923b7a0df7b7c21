"""The funnel plot of a partner among its unnamed peers: limits worked by hand."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.presentation.charts import peer_funnel_chart
from pipelines.presentation.stats import funnel_limits


def test_normal_limits_at_100_cases_around_a_half():
    # the normal approximation (the exact limits: tests/presentation/test_comparison.py):
    # sqrt(0.5 * 0.5 / 100) = 0.05; 1.959964 * 0.05 = 0.0979982; 3.090232 * 0.05 = 0.1545116
    row = funnel_limits(0.5, 100, method="normal").row(-1, named=True)
    assert row["cases"] == pytest.approx(100)
    assert (row["lower95"], row["upper95"]) == pytest.approx((0.4020018, 0.5979982))
    assert (row["lower998"], row["upper998"]) == pytest.approx((0.3454884, 0.6545116))


def test_normal_limits_narrow_with_cases_and_stay_within_0_and_1():
    limits = funnel_limits(0.9, 10_000, method="normal")
    width = limits["upper95"] - limits["lower95"]
    assert width.is_sorted(descending=True)
    assert limits["upper998"].max() <= 1 and limits["lower998"].min() >= 0
    assert limits.row(0, named=True)["upper998"] == 1  # one case: anything goes


def test_the_chart_places_the_partner_and_names_no_peer():
    own = pl.DataFrame({"partner": ["Acme <b>x</b>"], "numerator": [70], "denominator": [100]})
    peers = pl.DataFrame(
        {"peer": ["Peer 1", "Peer 2"], "numerator": [30, 160], "denominator": [50, 200]}
    )
    fig = peer_funnel_chart(own, peers, "l1_resolution_rate")
    by_name = {trace.name: trace for trace in fig.data}
    mine = by_name["Acme &lt;b&gt;x&lt;/b&gt;"]  # the partner's name, as text
    assert list(mine.x) == [100] and list(mine.y) == [0.7]
    others = by_name["Other partners (unnamed)"]
    assert list(others.x) == [50, 200] and list(others.y) == [0.6, 0.8]
    assert "Peer" not in fig.to_json()
    # the pooled rate line: (70 + 30 + 160) / (100 + 50 + 200)
    assert fig.layout.shapes[0].y0 == pytest.approx(260 / 350)
