"""Pure polars computations behind the pages: scorecard tiles, the verdict line,
fair partner comparison (indirect standardisation, funnel limits, stratified pairwise
tests with a false-discovery-rate control) and Sankey links.

No Streamlit and no SQL here, so every function is unit-tested on hand-worked
numbers (tests/presentation/test_stats.py, tests/presentation/test_comparison.py)
and, for the comparison, by simulation.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Literal

import numpy as np
import polars as pl

from pipelines.presentation.format import METRIC_DEFS, fmt_value, label, unit

Z95 = 1.959964


def scorecard_tiles(weekly: pl.DataFrame, week: date, metrics: list[str]) -> pl.DataFrame:
    """One row per metric in `metrics` (in that order): value, status, target,
    sample, numerator/denominator for `week`, the previous week's value and the
    change, and the weekly series (spark_weeks, spark_values) up to `week`.

    `weekly` has week_start, metric, value, status, target, sample."""
    order = pl.DataFrame({"metric": metrics, "order": range(len(metrics))})
    history = weekly.filter(pl.col("week_start").is_not_null() & (pl.col("week_start") <= week))
    current = history.filter(pl.col("week_start") == week).select(
        "metric", "value", "status", "target", "sample", "numerator", "denominator"
    )
    previous = history.filter(pl.col("week_start") == week - timedelta(weeks=1)).select(
        "metric", pl.col("value").alias("previous_value"), pl.col("status").alias("prev_status")
    )
    spark = (
        history.sort("week_start")
        .group_by("metric")
        .agg(spark_weeks=pl.col("week_start"), spark_values=pl.col("value"))
    )
    return (
        order.join(current, on="metric", how="left")
        .join(previous, on="metric", how="left")
        .join(spark, on="metric", how="left")
        .with_columns(
            status=pl.col("status").fill_null("n/a"),
            change=pl.when(
                pl.col("status").is_in(["green", "amber", "red", "no target"])
                & pl.col("prev_status").is_in(["green", "amber", "red", "no target"])
            ).then(pl.col("value") - pl.col("previous_value")),
        )
        .sort("order")
        .drop("order", "prev_status")
    )


def verdict(tiles: pl.DataFrame) -> str:
    """One line for the top of the scorecard: the red KPIs first, then amber."""

    def listed(status: str) -> list[str]:
        rows = tiles.filter(pl.col("status") == status).select("metric", "value").to_dicts()
        return [f"{label(r['metric'])} {fmt_value(r['value'], unit(r['metric']))}" for r in rows]

    red, amber = listed("red"), listed("amber")
    judged = tiles.filter(pl.col("status").is_in(["green", "amber", "red"])).height
    short = tiles.filter(pl.col("status") == "insufficient").height
    tail = f" ({short} with too few cases to judge)" if short else ""
    if red:
        noun = "KPI" if len(red) == 1 else "KPIs"
        amber_part = f"; {len(amber)} amber" if amber else ""
        return f"{len(red)} {noun} red: {', '.join(red)}{amber_part}{tail}."
    if amber:
        noun = "KPI" if len(amber) == 1 else "KPIs"
        return f"No KPI red. {len(amber)} {noun} amber: {', '.join(amber)}{tail}."
    if judged:
        return f"All {judged} KPIs with a target are green{tail}."
    return f"No KPI can be judged this week{tail}."


def pairwise_tests(rates: pl.DataFrame) -> pl.DataFrame:
    """Two-proportion z-tests between every pair of partners, per metric.

    `rates`: partner, metric, numerator, denominator. For partners a < b:
    p = (k_a + k_b) / (n_a + n_b), se = sqrt(p (1 - p) (1/n_a + 1/n_b)),
    z = (k_a/n_a - k_b/n_b) / se. The difference is significant at 95% when
    |z| >= 1.96; with se = 0 (both 0% or both 100%) it is not."""
    side = rates.filter(pl.col("denominator") > 0).select(
        "metric", "partner", k="numerator", n="denominator"
    )
    pairs = side.join(side, on="metric", suffix="_b").filter(
        pl.col("partner") < pl.col("partner_b")
    )
    pooled = (pl.col("k") + pl.col("k_b")) / (pl.col("n") + pl.col("n_b"))
    return (
        pairs.with_columns(
            rate_a=pl.col("k") / pl.col("n"),
            rate_b=pl.col("k_b") / pl.col("n_b"),
            se=(pooled * (1 - pooled) * (1 / pl.col("n") + 1 / pl.col("n_b"))).sqrt(),
        )
        .with_columns(
            difference=pl.col("rate_a") - pl.col("rate_b"),
            z=pl.when(pl.col("se") > 0).then((pl.col("rate_a") - pl.col("rate_b")) / pl.col("se")),
        )
        .with_columns(significant=pl.col("z").abs().fill_null(0.0) >= Z95)
        .select(
            "metric",
            pl.col("partner").alias("partner_a"),
            "partner_b",
            "rate_a",
            "rate_b",
            "difference",
            "z",
            "significant",
        )
        .sort("metric", "partner_a", "partner_b")
    )


def sankey_links(paths: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Nodes (node, label, tier, step, tickets) and links (source, target, value) of a Sankey
    from tier-path counts: `paths` has path ("L1 > L2 > L1") and n_tickets. A
    node is a tier at a step of the path, so L1 -> L2 -> L1 reads left to right."""
    steps = (
        paths.with_columns(tiers=pl.col("path").str.split(" > "))
        .with_columns(
            src=pl.col("tiers").list.slice(0, pl.col("tiers").list.len() - 1),
            dst=pl.col("tiers").list.slice(1),
            step=pl.int_ranges(1, pl.col("tiers").list.len()),
        )
        .explode("src", "dst", "step")
        .drop_nulls("src")
        .group_by("step", "src", "dst")
        .agg(value=pl.col("n_tickets").sum())
    )
    node_keys = pl.concat(
        [
            steps.select(step=pl.col("step"), tier=pl.col("src")),
            steps.select(step=pl.col("step") + 1, tier=pl.col("dst")),
        ]
    ).unique()
    nodes = (
        node_keys.sort("step", "tier")
        .with_row_index("node")
        .with_columns(
            label=pl.col("tier") + pl.lit(" · step ") + pl.col("step").cast(pl.String),
        )
    )
    links = (
        steps.join(
            nodes.select("step", "tier", source="node"),
            left_on=["step", "src"],
            right_on=["step", "tier"],
        )
        .with_columns(next_step=pl.col("step") + 1)
        .join(
            nodes.select("step", "tier", target="node"),
            left_on=["next_step", "dst"],
            right_on=["step", "tier"],
        )
        .select("source", "target", "value", "src", "dst")
        .sort("source", "target")
    )
    inflow = links.group_by(node="target").agg(flow_in=pl.col("value").sum())
    outflow = links.group_by(node="source").agg(flow_out=pl.col("value").sum())
    nodes = (
        nodes.join(inflow, on="node", how="left")
        .join(outflow, on="node", how="left")
        .with_columns(
            tickets=pl.max_horizontal(
                pl.col("flow_in").fill_null(0), pl.col("flow_out").fill_null(0)
            )
        )
        .with_columns(label=pl.col("label") + " (" + pl.col("tickets").cast(pl.String) + ")")
        .sort("node")
    )
    return nodes.select("node", "label", "tier", "step", "tickets"), links


def metric_is_rate(metric: str) -> bool:
    found = METRIC_DEFS.get(metric)
    return found is not None and found.stat == "rate"


# ---------------------------------------------------------------- funnel limits

Z998 = 3.090232  # two-sided 99.8%: the funnel plot's outer limits
# The quantiles of a funnel's limits: 95% (2.5% each side) and 99.8% (0.1% each side).
FUNNEL_QUANTILES: dict[str, tuple[float, float]] = {
    "lower998": (0.001, -Z998),
    "lower95": (0.025, -Z95),
    "upper95": (0.975, Z95),
    "upper998": (0.999, Z998),
}
# Exact binomial quantiles up to this many cases; beyond, the normal approximation,
# whose limits differ from the exact ones by less than 0.02 percentage points there.
EXACT_UP_TO = 10_000
EXACT_CHUNK = 256  # rows summed at once: at most 256 x ~1,000 probabilities
# ln(k!) for k = 0 .. EXACT_UP_TO, summed once
_LOG_FACTORIALS = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1.0, EXACT_UP_TO + 1)))])


def _exact_binomial_limits(n: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """Spiegelhalter's (2005, appendix A.1.1) exact binomial funnel limits for whole
    numbers of cases n >= 1 and rates 0 < p < 1: r = the smallest count whose
    cumulative probability F(r) reaches the quantile q, then the limit is
    (r - a) / n with a = (F(r) - q) / (F(r) - F(r - 1)), which draws the step of a
    discrete distribution as a smooth curve. The probabilities are summed over the
    counts within mean +/- (10 sd + 10), which hold all but a negligible mass."""
    mean, sd = n * p, np.sqrt(n * p * (1 - p))
    low = np.maximum(0.0, np.floor(mean - 10 * sd - 10))
    high = np.minimum(n, np.ceil(mean + 10 * sd + 10))
    counts = low[:, None] + np.arange(int((high - low).max()) + 1)[None, :]
    inside = counts <= n[:, None]
    k = np.where(inside, counts, 0.0)
    rest = np.where(inside, n[:, None] - counts, 0.0)
    log_pmf = (
        _LOG_FACTORIALS[n.astype(int)][:, None]
        - _LOG_FACTORIALS[k.astype(int)]
        - _LOG_FACTORIALS[rest.astype(int)]
        + k * np.log(p)[:, None]
        + rest * np.log1p(-p)[:, None]
    )
    pmf = np.exp(np.where(inside, log_pmf, -np.inf))
    cdf = np.cumsum(pmf, axis=1)
    rows = np.arange(n.size)
    limits = {}
    for name, (q, _) in FUNNEL_QUANTILES.items():
        at = np.argmax(cdf >= q, axis=1)
        step = (cdf[rows, at] - q) / pmf[rows, at]
        limits[name] = np.clip((low + at - step) / n, 0.0, 1.0)
    return limits


def _whole_case_limits(n: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """Funnel limits for whole numbers of cases n >= 1 around rates p: exact binomial
    up to EXACT_UP_TO cases, p +/- z sqrt(p (1 - p) / n) beyond; a rate of 0 or 1
    has no spread (its limits are the rate)."""
    spread = np.sqrt(p * (1 - p) / n)
    limits = {
        name: np.clip(p + z * spread, 0.0, 1.0) for name, (_, z) in FUNNEL_QUANTILES.items()
    }
    exact = np.flatnonzero((n <= EXACT_UP_TO) & (p > 0) & (p < 1))
    exact = exact[np.argsort(n[exact], kind="stable")]  # blocks of similar widths
    for start in range(0, exact.size, EXACT_CHUNK):  # a bounded block of memory at a time
        rows = exact[start : start + EXACT_CHUNK]
        for name, values in _exact_binomial_limits(n[rows], p[rows]).items():
            limits[name][rows] = values
    return limits


def binomial_funnel_limits(rates: np.ndarray, cases: np.ndarray) -> pl.DataFrame:
    """The 95% and 99.8% funnel limits around each rate in `rates` for the matching
    number of `cases` (a unit with that many cases and that true rate falls outside
    the 95% limits about 5% of the time, outside the 99.8% limits about 0.2%; checked
    by simulation in tests/presentation/test_comparison.py). Exact binomial
    limits (Spiegelhalter 2005) up to EXACT_UP_TO cases, the normal approximation
    beyond. Cases need not be whole (a weight of evidence): the limits are
    interpolated between the whole numbers on either side; fewer than 1 case reads
    as 1. Returns cases, lower998, lower95, upper95, upper998."""
    n = np.maximum(np.asarray(cases, dtype=float), 1.0)
    p = np.broadcast_to(np.asarray(rates, dtype=float), n.shape)
    below, above = np.floor(n), np.ceil(n)
    low_limits = _whole_case_limits(below, p)
    high_limits = _whole_case_limits(above, p)
    share = n - below
    return pl.DataFrame(
        {"cases": n}
        | {
            name: low_limits[name] + share * (high_limits[name] - low_limits[name])
            for name in FUNNEL_QUANTILES
        }
    )


def funnel_limits(
    pooled: float,
    max_cases: float,
    *,
    points: int = 120,
    method: Literal["exact", "normal"] = "exact",
) -> pl.DataFrame:
    """A funnel plot's control limits around the pooled rate `pooled` (Spiegelhalter
    2005), for n from 1 to `max_cases` cases on a log grid: columns cases, lower95,
    upper95, lower998, upper998. `method="exact"`: binomial_funnel_limits (right
    for small n and rates near 0% or 100%, where the normal curve is not);
    `"normal"`: pooled +/- z sqrt(p (1 - p) / n), clipped to [0, 1]. A unit outside
    the 99.8% limits differs by more than chance would make it."""
    top = max(float(max_cases), 2.0)
    n = np.array([top ** (i / (points - 1)) for i in range(points)])
    if method == "exact":
        return binomial_funnel_limits(np.full(n.shape, pooled), n).select(
            "cases", "lower95", "upper95", "lower998", "upper998"
        )
    spread = np.sqrt(pooled * (1 - pooled) / n)
    return pl.DataFrame(
        {
            "cases": n,
            "lower95": np.clip(pooled - Z95 * spread, 0, 1),
            "upper95": np.clip(pooled + Z95 * spread, 0, 1),
            "lower998": np.clip(pooled - Z998 * spread, 0, 1),
            "upper998": np.clip(pooled + Z998 * spread, 0, 1),
        }
    )


# ---------------------------------------------------------------- comparing partners fairly
#
# Input of every function below, `strata`: partner, metric, category, priority,
# numerator, denominator: one row per partner and category x priority stratum of a
# rate KPI (the KPI query grouped by those three).

STRATUM = ("metric", "category", "priority")
TOO_FEW = "too few cases"
TOO_FEW_COMPARABLE = "too few comparable cases"


def wilson_interval(k: pl.Expr, n: pl.Expr, z: float = Z95) -> tuple[pl.Expr, pl.Expr]:
    """The Wilson score interval of the rate k / n: (centre -/+ half) with
    centre = (k/n + z^2/2n) / (1 + z^2/n) and
    half = z sqrt(k/n (1 - k/n) / n + z^2/4n^2) / (1 + z^2/n)."""
    rate = k / n
    shrink = 1 + z**2 / n
    centre = (rate + z**2 / (2 * n)) / shrink
    half = z * (rate * (1 - rate) / n + z**2 / (4 * n**2)).sqrt() / shrink
    return (centre - half).clip(0.0, 1.0), (centre + half).clip(0.0, 1.0)


def _cells(strata: pl.DataFrame) -> pl.DataFrame:
    """partner, metric, category, priority, n (cases), k (numerator), and the
    stratum's totals over every partner: N cases, M numerator."""
    return (
        strata.filter(pl.col("denominator") > 0)
        .group_by("partner", *STRATUM)
        .agg(n=pl.col("denominator").sum(), k=pl.col("numerator").sum())
        .with_columns(N=pl.col("n").sum().over(STRATUM), M=pl.col("k").sum().over(STRATUM))
    )


def _observed_and_expected(strata: pl.DataFrame) -> pl.DataFrame:
    """Per partner and metric: cases, observed O (its numerator), expected E = sum over
    its strata of n_s x M_s / N_s (its cases at each stratum's overall rate),
    shared_cases (its cases in strata another partner also has cases in), and
    variance: the variance of O - E when every partner has the same rate in each
    stratum, sum of n (N - n) M (N - M) / (N^2 (N - 1)) (the hypergeometric variance
    of the partner's share of the stratum's numerator, as in the Mantel-Haenszel and
    log-rank tests; 0 where the partner is alone in a stratum: its cases there say
    nothing about how it compares)."""
    n, k, big_n, big_m = pl.col("n"), pl.col("k"), pl.col("N"), pl.col("M")
    return (
        _cells(strata)
        .with_columns(
            expected=n * big_m / big_n,
            variance=pl.when(big_n > 1)
            .then(n * (big_n - n) * big_m * (big_n - big_m) / (big_n**2 * (big_n - 1)))
            .otherwise(0.0),
            shared=pl.when(big_n > n).then(n).otherwise(0.0),
        )
        .group_by("partner", "metric")
        .agg(
            cases=n.sum(),
            observed=k.sum(),
            expected=pl.col("expected").sum(),
            shared_cases=pl.col("shared").sum(),
            variance=pl.col("variance").sum(),
        )
        .with_columns(
            pooled_rate=pl.col("observed").sum().over("metric")
            / pl.col("cases").sum().over("metric")
        )
    )


def indirect_standardise(strata: pl.DataFrame, min_sample: int) -> pl.DataFrame:
    """Case-mix adjusted rates by INDIRECT standardisation, one row per partner and
    metric.

    For a partner: O = its numerator, E = its expected numerator (its cases in each
    category x priority stratum times the stratum's rate over all partners), the
    ratio O / E (1: as expected for its mix of tickets) and the adjusted rate
    (O / E) x the pooled rate P of all partners. Its 95% interval is the Wilson score
    interval of the partner's own rate O / n carried by the same factor, P n / E:
    the ratio's uncertainty is that of its O out of n cases, E being fixed. So the
    interval is never narrower, relative to the rate, than the partner's crude
    Wilson interval; a partner with few cases gets a wide one. (Not the exact
    Poisson interval of O: these rates are common events, 20-80%, where Poisson
    overstates the spread of a count out of n by 1 / sqrt(1 - rate).)

    A partner with fewer than `min_sample` cases, or fewer than `min_sample` cases
    in strata other partners also have cases in (so its expected figure would be
    mostly its own result), gets no adjusted figure: null, with `reason` saying
    which. The same partners get no weight of evidence and are not judged on the
    funnel plot.

    `weighted_cases`, the weight of evidence in cases of an average mix, places the
    partner on a funnel plot of adjusted rates against cases:
    (1 - P) E^2 / (P V), V the variance of O - E when every partner has the same rate
    in each stratum (see _observed_and_expected). For a partner with the average
    mix and a small share of the tickets it is its number of cases; tickets of kinds
    with predictable outcomes weigh more, tickets of kinds no other partner handles
    nothing. With it, the funnel's limits at `weighted_cases` are the partner's own
    limits under that hypothesis, whatever its mix.

    Returns partner, metric, cases, observed, expected, shared_cases, pooled_rate,
    crude_rate, crude_low, crude_high, expected_rate (E / n), ratio, adjusted_rate,
    adjusted_low, adjusted_high, weighted_cases, reason (null when judged)."""
    crude_low, crude_high = wilson_interval(pl.col("observed"), pl.col("cases"))
    scale = pl.col("pooled_rate") * pl.col("cases") / pl.col("expected")
    reason = (
        pl.when(pl.col("cases") < min_sample)
        .then(pl.lit(TOO_FEW))
        .when(
            (pl.col("shared_cases") < min_sample)
            | (pl.col("variance") <= 0)
            | (pl.col("expected") <= 0)
        )
        .then(pl.lit(TOO_FEW_COMPARABLE))
    )
    judged = pl.col("reason").is_null()
    return (
        _observed_and_expected(strata)
        .with_columns(
            crude_rate=pl.col("observed") / pl.col("cases"),
            crude_low=crude_low,
            crude_high=crude_high,
            expected_rate=pl.col("expected") / pl.col("cases"),
            reason=reason,
        )
        .with_columns(
            ratio=pl.when(judged).then(pl.col("observed") / pl.col("expected")),
            adjusted_rate=pl.when(judged).then(
                (pl.col("observed") / pl.col("expected") * pl.col("pooled_rate")).clip(0.0, 1.0)
            ),
            adjusted_low=pl.when(judged).then((pl.col("crude_low") * scale).clip(0.0, 1.0)),
            adjusted_high=pl.when(judged).then((pl.col("crude_high") * scale).clip(0.0, 1.0)),
            weighted_cases=pl.when(judged).then(
                (1 - pl.col("pooled_rate"))
                * pl.col("expected") ** 2
                / (pl.col("pooled_rate") * pl.col("variance"))
            ),
        )
        .select(
            "partner",
            "metric",
            "cases",
            "observed",
            "expected",
            "shared_cases",
            "pooled_rate",
            "crude_rate",
            "crude_low",
            "crude_high",
            "expected_rate",
            "ratio",
            "adjusted_rate",
            "adjusted_low",
            "adjusted_high",
            "weighted_cases",
            "reason",
        )
        .sort("metric", "partner")
    )


# Where a partner falls on the funnel plot.
ABOVE_998, ABOVE_95 = "above the 99.8% limit", "above the 95% limit"
WITHIN = "within the limits"
BELOW_95, BELOW_998 = "below the 95% limit", "below the 99.8% limit"


def funnel_positions(standardised: pl.DataFrame) -> pl.DataFrame:
    """indirect_standardise's frame with the funnel limits around the pooled rate at
    each partner's weighted_cases (at its cases when it is not judged: every partner
    has limits) and `funnel`: where its adjusted rate falls (ABOVE_998 ... BELOW_998),
    or its `reason` when it is not judged."""
    at = standardised.select(pl.coalesce("weighted_cases", "cases").alias("at"), "pooled_rate")
    limits = binomial_funnel_limits(at["pooled_rate"].to_numpy(), at["at"].to_numpy())
    rate = pl.col("adjusted_rate")
    return pl.concat([standardised, limits.drop("cases")], how="horizontal").with_columns(
        funnel=pl.when(pl.col("reason").is_not_null())
        .then(pl.col("reason"))
        .when(rate > pl.col("upper998"))
        .then(pl.lit(ABOVE_998))
        .when(rate > pl.col("upper95"))
        .then(pl.lit(ABOVE_95))
        .when(rate < pl.col("lower998"))
        .then(pl.lit(BELOW_998))
        .when(rate < pl.col("lower95"))
        .then(pl.lit(BELOW_95))
        .otherwise(pl.lit(WITHIN))
    )


def _two_sided_p(z: pl.Expr) -> pl.Expr:
    """P(|Z| >= z) for a standard normal Z: erfc(z / sqrt 2), by the Chebyshev fit
    of Numerical Recipes (erfcc, relative error below 1.2e-7 everywhere)."""
    x = z.abs() / math.sqrt(2.0)
    t = 1 / (1 + 0.5 * x)
    coefficients = (
        -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
        0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277,
    )  # fmt: skip
    poly = pl.lit(coefficients[-1])
    for c in reversed(coefficients[:-1]):
        poly = c + t * poly
    return (t * (-(x**2) + poly).exp()).clip(0.0, 1.0)


def benjamini_hochberg(frame: pl.DataFrame, p: str, by: str) -> pl.Series:
    """Benjamini-Hochberg adjusted p-values (q-values) of column `p` within each
    group of `by`, in the rows' order: q_(i) = min over j >= i of m p_(j) / j for the
    i-th smallest of the group's m p-values, at most 1. Declaring the rows with
    q < 0.05 different keeps the expected share of false discoveries among them at or
    below 5%. A null p (not tested) is not counted in m and gets a null q."""
    ranked = (
        frame.select(by, p)
        .with_row_index("row")
        .filter(pl.col(p).is_not_null())
        .sort(by, p, descending=[False, True])  # largest p first in each group
        .with_columns(m=pl.len().over(by), position=pl.int_range(pl.len()).over(by))
        .with_columns(  # the largest p has rank m, the next m - 1, ...
            q=(pl.col(p) * pl.col("m") / (pl.col("m") - pl.col("position")))
            .cum_min()
            .over(by)
            .clip(upper_bound=1.0)
        )
    )
    return (
        frame.with_row_index("row")
        .join(ranked.select("row", "q"), on="row", how="left")
        .sort("row")["q"]
    )


# Verdicts on a pair of partners.
DIFFERENT = "different"
BELOW_MIN_GAP = "gap below the minimum that matters"
NO_CLEAR_GAP = "no clear gap"
NOTHING_SHARED = "no tickets of the same kinds"
FDR = 0.05


def _pair_strata(cells: pl.DataFrame) -> pl.DataFrame:
    """Per metric and pair of partners a < b, the sums over the strata both have
    cases in: shared_a, shared_b (their cases there), excess (a's numerator minus
    what a would have at the pair's rate in each stratum), variance (its
    hypergeometric variance, as in the Mantel-Haenszel test) and the two halves of
    the Mantel-Haenszel rate difference."""
    n, k, n_b, k_b = pl.col("n"), pl.col("k"), pl.col("n_b"), pl.col("k_b")
    big_n, big_m = n + n_b, k + k_b
    return (
        cells.join(cells, on=list(STRATUM), suffix="_b")
        .filter(pl.col("partner") < pl.col("partner_b"))
        .group_by("metric", "partner", "partner_b")
        .agg(
            shared_a=n.sum(),
            shared_b=n_b.sum(),
            excess=(k - n * big_m / big_n).sum(),
            variance=pl.when(big_n > 1)
            .then(n * n_b * big_m * (big_n - big_m) / (big_n**2 * (big_n - 1)))
            .otherwise(0.0)
            .sum(),
            gap_num=((k * n_b - k_b * n) / big_n).sum(),
            gap_den=(n * n_b / big_n).sum(),
        )
    )


def pairwise_adjusted(
    strata: pl.DataFrame, min_sample: int, min_gap: float, fdr: float = FDR
) -> pl.DataFrame:
    """Every pair of partners on each rate metric, compared on the tickets of the
    kinds both handle (the category x priority strata both have cases in), so a
    partner with harder tickets is not called worse for it.

    gap: the Mantel-Haenszel rate difference a - b, sum_s (k_a n_b - k_b n_a) / N_s
    over sum_s n_a n_b / N_s (the rate gap within strata, averaged with the weights
    that make it most precise). Its test: the Cochran-Mantel-Haenszel statistic with
    continuity correction, z = (|sum_s (k_a - n_a M_s / N_s)| - 0.5) / sqrt(sum_s
    n_a n_b M_s (N_s - M_s) / (N_s^2 (N_s - 1))), two-sided p. The p-values of the
    tested pairs of a metric are adjusted by Benjamini-Hochberg (q); a pair is
    DIFFERENT only when q < `fdr` AND |gap| >= `min_gap` (a gap that matters);
    with q < fdr and a smaller gap it is BELOW_MIN_GAP, else NO_CLEAR_GAP. A pair
    with a partner of fewer than `min_sample` cases is not tested (TOO_FEW), nor one
    with no stratum in common (NOTHING_SHARED).

    Returns metric, partner_a, partner_b, cases_a, cases_b, rate_a, rate_b (the
    observed rates), shared_a, shared_b, gap, z, p, q, verdict."""
    cells = _cells(strata).select("partner", *STRATUM, "n", "k")
    totals = cells.group_by("partner", "metric").agg(
        cases=pl.col("n").sum(), rate=pl.col("k").sum() / pl.col("n").sum()
    )
    pairs = (
        totals.join(totals, on="metric", suffix="_b")
        .filter(pl.col("partner") < pl.col("partner_b"))
        .join(_pair_strata(cells), on=["metric", "partner", "partner_b"], how="left")
        .with_columns(pl.col("shared_a", "shared_b").fill_null(0.0))
    )
    enough = (pl.col("cases") >= min_sample) & (pl.col("cases_b") >= min_sample)
    tested = enough & (pl.col("shared_a") > 0)
    z = pl.when(pl.col("variance") > 0).then(
        pl.col("excess").sign()
        * (pl.col("excess").abs() - 0.5).clip(lower_bound=0.0)
        / pl.col("variance").sqrt()
    )
    pairs = pairs.with_columns(
        gap=pl.when(pl.col("gap_den") > 0).then(pl.col("gap_num") / pl.col("gap_den")),
        z=pl.when(tested).then(z.fill_null(0.0)),
    ).with_columns(p=_two_sided_p(pl.col("z")))
    pairs = pairs.with_columns(q=benjamini_hochberg(pairs, "p", "metric"))
    verdict = (
        pl.when(~enough)
        .then(pl.lit(TOO_FEW))
        .when(~tested)
        .then(pl.lit(NOTHING_SHARED))
        .when((pl.col("q") < fdr) & (pl.col("gap").abs() >= min_gap - 1e-12))
        .then(pl.lit(DIFFERENT))
        .when(pl.col("q") < fdr)
        .then(pl.lit(BELOW_MIN_GAP))
        .otherwise(pl.lit(NO_CLEAR_GAP))
    )
    return (
        pairs.with_columns(verdict=verdict)
        .select(
            "metric",
            pl.col("partner").alias("partner_a"),
            "partner_b",
            pl.col("cases").alias("cases_a"),
            "cases_b",
            pl.col("rate").alias("rate_a"),
            "rate_b",
            "shared_a",
            "shared_b",
            "gap",
            "z",
            "p",
            "q",
            "verdict",
        )
        .sort("metric", "partner_a", "partner_b")
    )
