"""The stratified estimator and the rules-vs-reviewers agreement, on numbers worked by hand."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.review.estimate import agreement, stratified_rate


def _items(rows):
    return pl.DataFrame(
        rows,
        schema=["stratum", "stratum_population", "is_unnecessary", "is_rule_unnecessary"],
        orient="row",
    )


def test_stratified_rate_by_hand():
    # A: 10 escalations, 4 reviewed, 2 unnecessary -> p_A = 0.5
    # B: 30 escalations, 2 reviewed, none unnecessary -> p_B = 0; 1 unsure (null)
    items = _items(
        [
            ("A", 10, 1, True),
            ("A", 10, 1, False),
            ("A", 10, 0, True),
            ("A", 10, 0, False),
            ("B", 30, 0, False),
            ("B", 30, 0, False),
            ("B", 30, None, True),
        ]
    )
    est = stratified_rate(items)
    assert est.value == pytest.approx((10 * 0.5 + 30 * 0) / 40)  # 0.125
    # V = (10/40)^2 (1 - 4/10) (4/3 * 0.25) / 4 = 0.003125 ; B adds 0
    half = 1.959964 * 0.003125**0.5
    assert (est.ci_low, est.ci_high) == pytest.approx((0.125 - half, 0.125 + half))
    assert (est.reviewed, est.population, est.coverage) == (6, 40, 1.0)


def test_single_verdict_stratum_gets_the_widest_variance_and_coverage_is_reported():
    items = _items([("A", 5, 1, False), ("B", 15, None, False)])
    est = stratified_rate(items)
    assert est.value == 1.0
    # only A (5 of 20) is covered; V = 1 * (1 - 1/5) * 0.25 / 1 = 0.2
    assert est.ci_low == pytest.approx(max(0.0, 1 - 1.959964 * 0.2**0.5))
    assert est.ci_high == 1.0
    assert est.coverage == 0.25


def test_no_verdicts_gives_no_estimate():
    assert stratified_rate(_items([("A", 5, None, True)])).value is None


def test_agreement_by_hand():
    items = _items(
        [
            ("A", 1, 1, True),
            ("A", 1, 1, True),
            ("A", 1, 0, True),
            ("A", 1, 1, False),
            ("A", 1, 0, False),
            ("A", 1, 0, False),
            ("A", 1, None, True),
        ]
    )
    a = agreement(items)
    assert (a.both_unnecessary, a.rules_only, a.reviewers_only, a.both_needed) == (2, 1, 1, 2)
    assert a.observed == pytest.approx(4 / 6)
    # chance: rules yes 3/6, reviewers yes 3/6 -> 0.5 ; kappa = (2/3 - 1/2) / (1/2) = 1/3
    assert a.kappa == pytest.approx(1 / 3)
    assert a.rule_precision == pytest.approx(2 / 3)
