"""Comparing partners fairly: indirect standardisation, exact funnel limits, the
stratified pairwise test and Benjamini-Hochberg, on numbers worked by hand and by
simulation (partners that are all the same must be flagged at the nominal rates)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from pipelines.presentation.comparison import (
    PartnerComparison,
    compare_partners,
    outside_limits,
    pair_table,
    partner_table,
)
from pipelines.presentation.stats import (
    ABOVE_95,
    ABOVE_998,
    BELOW_95,
    BELOW_998,
    BELOW_MIN_GAP,
    DIFFERENT,
    NO_CLEAR_GAP,
    NOTHING_SHARED,
    TOO_FEW,
    TOO_FEW_COMPARABLE,
    WITHIN,
    benjamini_hochberg,
    binomial_funnel_limits,
    funnel_limits,
    funnel_positions,
    indirect_standardise,
    pairwise_adjusted,
)

# Two kinds of tickets, three partners with different mixes:
#            easy (cases, resolved)   hard (cases, resolved)   all
#   A        60, 48 (80%)             20,  6 (30%)             80, 54 (67.5%)
#   B        20, 16 (80%)             60, 24 (40%)             80, 40 (50.0%)
#   C        20, 12 (60%)             20, 10 (50%)             40, 22 (55.0%)
#   stratum  100, 76 (76%)            100, 40 (40%)            200, 116: pooled P = 58%
# A looks 17.5 points better than B, but on the same kinds of tickets A is level
# with B (easy) or worse (hard): its easier mix made the gap.
STRATA = pl.DataFrame(
    {
        "partner": ["A", "A", "B", "B", "C", "C"],
        "metric": ["l1_resolution_rate"] * 6,
        "category": ["easy", "hard"] * 3,
        "priority": ["P3"] * 6,
        "numerator": [48.0, 6.0, 16.0, 24.0, 12.0, 10.0],
        "denominator": [60.0, 20.0, 20.0, 60.0, 20.0, 20.0],
    }
)
P = 116 / 200


def _by_partner(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["partner"]: row for row in frame.to_dicts()}


def test_expected_counts_ratio_and_adjusted_rate_by_hand():
    out = _by_partner(indirect_standardise(STRATA, min_sample=20))
    # E = own cases x the stratum's rate over all partners:
    # A: 60 x 0.76 + 20 x 0.40 = 45.6 + 8 = 53.6; B: 20 x 0.76 + 60 x 0.40 = 39.2;
    # C: 20 x 0.76 + 20 x 0.40 = 23.2
    assert [out[p]["expected"] for p in "ABC"] == pytest.approx([53.6, 39.2, 23.2])
    # O / E: A 54 / 53.6 = 1.007463, B 40 / 39.2 = 1.020408, C 22 / 23.2 = 0.948276
    assert [out[p]["ratio"] for p in "ABC"] == pytest.approx([1.007463, 1.020408, 0.948276])
    # adjusted = O / E x 0.58: A 0.584328, B 0.591837, C 0.55 -> the 17.5-point crude
    # gap between A and B shrinks to 0.75 points, with B ahead
    assert [out[p]["adjusted_rate"] for p in "ABC"] == pytest.approx(
        [0.584328, 0.591837, 0.55], abs=1e-6
    )
    assert [out[p]["crude_rate"] for p in "ABC"] == pytest.approx([0.675, 0.5, 0.55])
    assert out["A"]["expected_rate"] == pytest.approx(53.6 / 80)
    assert out["A"]["pooled_rate"] == pytest.approx(P)
    assert all(out[p]["reason"] is None for p in "ABC")


def test_the_adjusted_interval_is_the_wilson_interval_carried_to_the_ratio():
    out = _by_partner(indirect_standardise(STRATA, min_sample=20))
    # Wilson for A's 54 / 80, z = 1.959964: z^2 / n = 0.0480182,
    # centre = (0.675 + 0.0240091) / 1.0480182 = 0.666982,
    # half = 1.959964 x sqrt(0.675 x 0.325 / 80 + 3.841459 / 25600) / 1.0480182 = 0.100577
    # -> 0.566405 .. 0.767558; carried by P n / E = 0.58 x 80 / 53.6 = 0.865672
    # -> 0.490321 .. 0.664454
    assert (out["A"]["crude_low"], out["A"]["crude_high"]) == pytest.approx(
        (0.566405, 0.767558), abs=1e-6
    )
    assert (out["A"]["adjusted_low"], out["A"]["adjusted_high"]) == pytest.approx(
        (0.490321, 0.664454), abs=1e-6
    )
    # C's mix gives it the pooled rate as its expected rate (23.2 / 40 = 0.58): its
    # adjusted interval is its own Wilson interval, 22 / 40 -> 0.398291 .. 0.692947
    assert (out["C"]["adjusted_low"], out["C"]["adjusted_high"]) == pytest.approx(
        (0.398291, 0.692947), abs=1e-6
    )
    assert out["C"]["adjusted_low"] == pytest.approx(out["C"]["crude_low"])


def test_weight_of_evidence_by_hand():
    out = _by_partner(indirect_standardise(STRATA, min_sample=20))
    # variance of O - E: sum of n (N - n) M (N - M) / (N^2 (N - 1)) over A's strata:
    # easy 60 x 40 x 76 x 24 / (10000 x 99) = 4.421818, hard 20 x 80 x 40 x 60 / 990000
    # = 3.878788: V = 8.300606. weighted = (1 - P) E^2 / (P V)
    # = 0.42 x 53.6^2 / (0.58 x 8.300606) = 250.635 (A is 60% of the easy tickets: its
    # adjusted rate moves little with chance, so each point of it weighs more).
    # C: V = 2.947879 + 3.878788 = 6.826667, 0.42 x 23.2^2 / (0.58 x 6.826667) = 57.094
    assert out["A"]["weighted_cases"] == pytest.approx(250.6346, abs=1e-3)
    assert out["C"]["weighted_cases"] == pytest.approx(57.09375, abs=1e-4)


def test_too_few_cases_get_no_adjusted_figure():
    tiny = pl.concat(
        [
            STRATA,
            pl.DataFrame(  # D: one hard ticket, resolved; E: 25 tickets of a kind only it has
                {
                    "partner": ["D", "E"],
                    "metric": ["l1_resolution_rate"] * 2,
                    "category": ["hard", "odd"],
                    "priority": ["P3", "P3"],
                    "numerator": [1.0, 20.0],
                    "denominator": [1.0, 25.0],
                }
            ),
        ]
    )
    out = _by_partner(funnel_positions(indirect_standardise(tiny, min_sample=20)))
    assert out["D"]["reason"] == TOO_FEW and out["D"]["funnel"] == TOO_FEW
    assert out["E"]["reason"] == TOO_FEW_COMPARABLE  # its expected figure is its own result
    for p in "DE":
        assert out[p]["adjusted_rate"] is None and out[p]["adjusted_low"] is None
        assert out[p]["ratio"] is None and out[p]["weighted_cases"] is None
    # D's observed rate keeps its (wide) interval: Wilson for 1 / 1, z^2 = 3.841459:
    # centre (1 + 1.920729) / 4.841459 = 0.603275, half 1.959964 x 0.979982 / 4.841459
    # = 0.396725 -> 0.206549 .. 1
    low, high = out["D"]["crude_low"], out["D"]["crude_high"]
    assert (low, high) == pytest.approx((0.206549, 1.0), abs=1e-6)
    # every partner has funnel limits, at its cases when it is not judged
    assert all(out[p]["lower95"] is not None and out[p]["upper998"] is not None for p in out)


def _binomial_cdf(r: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(r + 1))


def _spiegelhalter_limit(n: int, p: float, q: float) -> float:
    """Written from Spiegelhalter (2005) appendix A.1.1, one limit at a time."""
    r = next(r for r in range(n + 1) if _binomial_cdf(r, n, p) >= q)
    step = (_binomial_cdf(r, n, p) - q) / (_binomial_cdf(r, n, p) - _binomial_cdf(r - 1, n, p))
    return min(max((r - step) / n, 0.0), 1.0)


def test_exact_funnel_limits_by_hand():
    # 4 cases at 50%: F(0..4) = 1/16, 5/16, 11/16, 15/16, 1.
    # 97.5%: r = 4 (F(3) = 0.9375 < 0.975), a = (1 - 0.975) / (1/16) = 0.4 -> 3.6 / 4 = 0.9
    # 99.9%: r = 4, a = 0.001 x 16 = 0.016 -> 3.984 / 4 = 0.996
    # 2.5%: r = 0 (F(0) = 0.0625), a = (0.0625 - 0.025) x 16 = 0.6 -> -0.15, clipped to 0
    row = binomial_funnel_limits(np.array([0.5]), np.array([4.0])).row(0, named=True)
    assert (row["upper95"], row["upper998"]) == pytest.approx((0.9, 0.996))
    assert (row["lower95"], row["lower998"]) == (0.0, 0.0)
    # against the definition written out with math.comb, at several sizes and rates
    for n, p in ((10, 0.3), (25, 0.05), (60, 0.64), (200, 0.9)):
        row = binomial_funnel_limits(np.array([p]), np.array([float(n)])).row(0, named=True)
        for name, q in (
            ("lower998", 0.001),
            ("lower95", 0.025),
            ("upper95", 0.975),
            ("upper998", 0.999),
        ):
            assert row[name] == pytest.approx(_spiegelhalter_limit(n, p, q), abs=1e-9), (n, p, name)


def test_funnel_limits_between_whole_cases_and_far_out():
    # 10.25 cases: a quarter of the way from the limits at 10 to those at 11
    at = binomial_funnel_limits(np.array([0.3, 0.3, 0.3]), np.array([10.0, 10.25, 11.0]))
    ten, mid, eleven = at["upper95"].to_list()
    assert mid == pytest.approx(ten + 0.25 * (eleven - ten))
    # beyond 10,000 cases: the normal approximation, 0.3 +/- 1.959964 sqrt(0.21 / 40000)
    far = binomial_funnel_limits(np.array([0.3]), np.array([40_000.0])).row(0, named=True)
    assert far["upper95"] == pytest.approx(0.3 + 1.959964 * math.sqrt(0.21 / 40_000))
    # the grid for the chart: the same limits, 1 .. max cases
    grid = funnel_limits(0.5, 4)
    last = grid.row(-1, named=True)
    assert last["cases"] == pytest.approx(4) and last["upper95"] == pytest.approx(0.9)


def test_funnel_positions_flag_outside_the_limits():
    frame = pl.DataFrame(
        {
            "partner": ["in", "high", "higher", "low", "lower"],
            "metric": ["m"] * 5,
            "cases": [100.0] * 5,
            "pooled_rate": [0.5] * 5,
            "adjusted_rate": [0.5, 0.61, 0.7, 0.39, 0.3],
            "weighted_cases": [100.0] * 5,
            "reason": [None] * 5,
        },
        schema_overrides={"reason": pl.String},
    )
    # at 100 cases and 50%, exact limits: 95% 0.3968 .. 0.5932, 99.8% 0.3412 .. 0.6488
    out = dict(zip(*funnel_positions(frame).select("partner", "funnel"), strict=True))
    assert out == {
        "in": WITHIN,
        "high": ABOVE_95,
        "higher": ABOVE_998,
        "low": BELOW_95,
        "lower": BELOW_998,
    }


def test_mantel_haenszel_pair_by_hand():
    pairs = pairwise_adjusted(STRATA, min_sample=20, min_gap=0.05)
    ab = pairs.filter((pl.col("partner_a") == "A") & (pl.col("partner_b") == "B")).row(
        0, named=True
    )
    # easy: N = 80, M = 64, A expected 60 x 64 / 80 = 48 (has 48), variance
    #   60 x 20 x 64 x 16 / (6400 x 79) = 2.430380, gap terms (48x20 - 16x60)/80 = 0, 60x20/80 = 15
    # hard: N = 80, M = 30, expected 7.5 (has 6), variance 20 x 60 x 30 x 50 / 505600
    #   = 3.560127, gap terms (6x60 - 24x20)/80 = -1.5, 15
    # gap = -1.5 / 30 = -0.05 (B 5 points ahead on the same tickets, A 17.5 ahead crude);
    # z = -(1.5 - 0.5) / sqrt(5.990506) = -0.408572, p = erfc(0.408572 / sqrt 2) = 0.682854
    assert ab["gap"] == pytest.approx(-0.05)
    assert ab["rate_a"] - ab["rate_b"] == pytest.approx(0.175)
    assert ab["z"] == pytest.approx(-0.408572, abs=1e-6)
    assert ab["p"] == pytest.approx(0.682854, abs=1e-6)
    assert ab["verdict"] == NO_CLEAR_GAP
    assert (ab["shared_a"], ab["shared_b"]) == (80, 80)


def test_benjamini_hochberg_by_hand():
    # p = .01, .04, .03, .5 (m = 4): sorted .01 .03 .04 .5 -> m p / rank = .04 .06 .0533 .5;
    # running minimum from the top: .04 .0533 .0533 .5; back in the rows' order:
    frame = pl.DataFrame({"metric": ["m"] * 5, "p": [0.01, 0.04, 0.03, 0.5, None]})
    q = benjamini_hochberg(frame, "p", "metric").to_list()
    assert q[:4] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert q[4] is None  # not tested: not counted in m


def test_a_pair_is_different_only_with_a_gap_that_matters():
    # two partners of 10,000 tickets each in one stratum: 50% against 53% or 60%
    def pair(rate_b: float, min_gap: float) -> str:
        strata = pl.DataFrame(
            {
                "partner": ["A", "B"],
                "metric": ["m", "m"],
                "category": ["c", "c"],
                "priority": ["P3", "P3"],
                "numerator": [5000.0, 10_000 * rate_b],
                "denominator": [10_000.0, 10_000.0],
            }
        )
        return pairwise_adjusted(strata, 20, min_gap)["verdict"][0]

    # 3 points: A expected 10000 x 10300 / 20000 = 5150, has 5000; variance
    # 10000 x 10000 x 10300 x 9700 / (20000^2 x 19999) = 1248.94; z = 149.5 / 35.340
    # = 4.23, p = 2.3e-5 (one pair: q = p): sure, but below a 5-point minimum
    assert pair(0.53, 0.05) == BELOW_MIN_GAP
    assert pair(0.53, 0.03) == DIFFERENT
    assert pair(0.60, 0.05) == DIFFERENT
    assert pair(0.505, 0.0) == NO_CLEAR_GAP  # 0.5 points: z = 0.7, chance


def test_pairs_with_a_small_partner_or_nothing_in_common_are_not_tested():
    strata = pl.DataFrame(
        {
            "partner": ["A", "B", "C"],
            "metric": ["m"] * 3,
            "category": ["x", "y", "x"],
            "priority": ["P3"] * 3,
            "numerator": [10.0, 10.0, 1.0],
            "denominator": [30.0, 30.0, 3.0],
        }
    )
    out = {
        (r["partner_a"], r["partner_b"]): r for r in pairwise_adjusted(strata, 20, 0.05).to_dicts()
    }
    assert out[("A", "B")]["verdict"] == NOTHING_SHARED and out[("A", "B")]["q"] is None
    assert out[("A", "C")]["verdict"] == TOO_FEW and out[("A", "C")]["p"] is None


def test_the_tables_read_as_a_manager_reads_them():
    comparison = compare_partners(STRATA, "l1_resolution_rate", 20, 0.05)
    table = _by_partner(partner_table(comparison))
    assert table["A"]["observed (95% interval)"] == "67.5% (56.6%–76.8%)"
    assert table["A"]["case-mix adjusted (95% interval)"] == "58.4% (49.0%–66.4%)"
    assert table["A"]["expected for its mix"] == "67.0%"
    assert table["A"]["on the funnel"] == "as expected for its mix"
    pairs = pair_table(comparison)
    assert pairs.height == 3
    ab = (
        pairs.filter(pl.col("partner A") == "A")
        .filter(pl.col("partner B") == "B")
        .row(0, named=True)
    )
    assert ab["gap on the same kinds of tickets"] == "B higher by 5.0 pts"
    assert ab["verdict"] == "no clear gap"


# ---------------------------------------------------------------- simulation

STRATUM_RATES = np.array([0.15, 0.35, 0.5, 0.65, 0.8, 0.95])


def _identical_partners(rng: np.random.Generator, runs: int, partners: int, low: int, high: int):
    """`runs` independent desks of `partners` partners that all resolve each kind of
    ticket at the same true rate (STRATUM_RATES), with sizes from `low` to `high`
    (log-uniform) and very different mixes (Dirichlet 0.5 over the kinds). Each run
    is a 'metric' of its own, so one call handles them all."""
    kinds = STRATUM_RATES.size
    sizes = np.exp(rng.uniform(np.log(low), np.log(high), (runs, partners))).astype(int)
    mix = rng.dirichlet(np.full(kinds, 0.5), (runs, partners))
    cases = rng.multinomial(sizes, mix)
    resolved = rng.binomial(cases, STRATUM_RATES)
    return pl.DataFrame(
        {
            "metric": np.repeat([f"run {r}" for r in range(runs)], partners * kinds),
            "partner": np.tile(np.repeat([f"P{m:02d}" for m in range(partners)], kinds), runs),
            "category": np.tile([f"kind {k}" for k in range(kinds)], runs * partners),
            "priority": "P3",
            "numerator": resolved.ravel().astype(float),
            "denominator": cases.ravel().astype(float),
        }
    )


def _within_binomial_tolerance(share: float, nominal: float, trials: int) -> bool:
    """The nominal rate, not more: within 3 standard errors of it."""
    return abs(share - nominal) <= 3 * math.sqrt(nominal * (1 - nominal) / trials)


def test_identical_partners_are_flagged_at_the_nominal_rates():
    strata = _identical_partners(
        np.random.default_rng(20250301), runs=300, partners=40, low=20, high=2000
    )
    placed = funnel_positions(indirect_standardise(strata, min_sample=20)).filter(
        pl.col("reason").is_null()
    )
    trials = placed.height
    assert trials > 11_000  # nearly every partner has enough comparable cases
    outside95 = placed["funnel"].is_in([ABOVE_95, BELOW_95, ABOVE_998, BELOW_998]).mean()
    outside998 = placed["funnel"].is_in([ABOVE_998, BELOW_998]).mean()
    assert _within_binomial_tolerance(outside95, 0.05, trials), outside95
    assert _within_binomial_tolerance(outside998, 0.002, trials), outside998
    # the crude rates of the same partners, on the same funnel, are not comparable: their
    # mixes alone push far more than 5% outside
    crude = funnel_positions(
        indirect_standardise(strata, min_sample=20).with_columns(
            adjusted_rate=pl.col("crude_rate"), weighted_cases=pl.col("cases")
        )
    ).filter(pl.col("reason").is_null())
    assert crude["funnel"].is_in([ABOVE_95, BELOW_95, ABOVE_998, BELOW_998]).mean() > 0.3


def test_identical_partners_give_no_more_false_discoveries_than_the_nominal_rate():
    strata = _identical_partners(np.random.default_rng(7), runs=400, partners=8, low=50, high=1000)
    for min_gap in (0.0, 0.05):
        pairs = pairwise_adjusted(strata, min_sample=20, min_gap=min_gap)
        assert pairs.filter(pl.col("verdict") != TOO_FEW).height > 0.99 * pairs.height
        # every null hypothesis is true, so any discovery is false: the false discovery
        # rate is the share of runs with at least one pair called different
        runs = pairs.group_by("metric").agg(found=(pl.col("verdict") == DIFFERENT).any())
        share = runs["found"].mean()
        assert share <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs.height), (min_gap, share)


def test_partners_outside_the_limits_are_listed_the_998_ones_first():
    frame = pl.DataFrame(
        {
            "partner": ["in", "high", "lower"],
            "metric": ["l1_resolution_rate"] * 3,
            "cases": [100.0] * 3,
            "pooled_rate": [0.5] * 3,
            "adjusted_rate": [0.5, 0.61, 0.3],
            "weighted_cases": [100.0] * 3,
            "reason": [None] * 3,
        },
        schema_overrides={"reason": pl.String},
    )
    comparison = PartnerComparison(
        "l1_resolution_rate", funnel_positions(frame), pl.DataFrame(), 20, 0.05
    )
    assert outside_limits(comparison).rows() == [
        ("lower", "l1_resolution_rate", "below", "99.8%"),
        ("high", "l1_resolution_rate", "above", "95%"),
    ]
