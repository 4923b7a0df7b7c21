"""The partner comparison of the dashboard's page and the report, in one place: the
statistics of pipelines.presentation.stats for one rate KPI, and the tables and
funnel points a service-desk manager reads.

- Each partner against everyone (indirect standardisation and the funnel plot):
  its rate adjusted for its mix of tickets (category x priority), and whether it
  falls outside the funnel's limits around the pooled rate.
- Pairs of partners (Mantel-Haenszel on the kinds of tickets both handle): a pair is
  "different" only when the false-discovery-rate-controlled test says so AND the
  gap is at least [comparison] min_gap.

Pure polars: no Streamlit, no SQL, no Plotly. Text from the data is left as it is
here; the page (md), the charts (plot_text) and the report (esc) make it inert.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines.presentation.format import METRIC_DEFS
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
    WITHIN,
    funnel_positions,
    indirect_standardise,
    pairwise_adjusted,
)

NO_CATEGORY = "(none)"


@dataclass(frozen=True)
class PartnerComparison:
    """One rate KPI compared across partners: `partners` (funnel_positions, one row
    per partner) and `pairs` (pairwise_adjusted)."""

    metric: str
    partners: pl.DataFrame
    pairs: pl.DataFrame
    min_sample: int
    min_gap: float

    @property
    def pooled(self) -> float:
        """The rate of all partners together: the centre line of the funnel."""
        return float(self.partners["pooled_rate"][0]) if self.partners.height else 0.0

    @property
    def judged(self) -> pl.DataFrame:
        """The partners with enough (comparable) cases to be placed on the funnel."""
        return self.partners.filter(pl.col("reason").is_null())

    @property
    def not_judged(self) -> pl.DataFrame:
        return self.partners.filter(pl.col("reason").is_not_null())


def compare_partners(
    strata: pl.DataFrame, metric: str, min_sample: int, min_gap: float
) -> PartnerComparison:
    """`strata`: the KPI query by partner, category and priority (partner, metric,
    category, priority, numerator, denominator); a missing category or priority is
    a stratum of its own."""
    own = strata.filter(pl.col("metric") == metric).with_columns(
        pl.col("category", "priority").fill_null(NO_CATEGORY)
    )
    return PartnerComparison(
        metric=metric,
        partners=funnel_positions(indirect_standardise(own, min_sample)),
        pairs=pairwise_adjusted(own, min_sample, min_gap),
        min_sample=min_sample,
        min_gap=min_gap,
    )


def _pct(column: str) -> pl.Expr:
    return (pl.col(column) * 100).round(1).cast(pl.String) + "%"


def _interval(value: str, low: str, high: str) -> pl.Expr:
    return _pct(value) + " (" + _pct(low) + "–" + _pct(high) + ")"


def _whole(column: str) -> pl.Expr:
    return pl.col(column).round(0).cast(pl.Int64)


def direction_words(metric: str) -> tuple[str, str]:
    """How 'above' and 'below' read for this KPI: better/worse, or higher/lower
    when no direction is better."""
    found = METRIC_DEFS.get(metric)
    better = None if found is None else found.higher_is_better
    if better is None:
        return "higher than expected", "lower than expected"
    return ("better", "worse") if better else ("worse", "better")


def funnel_words(metric: str) -> pl.Expr:
    """The `funnel` column as a manager reads it."""
    above, below = direction_words(metric)
    return (
        pl.col("funnel")
        .replace_strict(
            {
                ABOVE_998: f"outside the 99.8% limits: {above}",
                ABOVE_95: f"outside the 95% limits only ({above}?): watch",
                WITHIN: "as expected for its mix",
                BELOW_95: f"outside the 95% limits only ({below}?): watch",
                BELOW_998: f"outside the 99.8% limits: {below}",
            },
            default=pl.col("funnel"),
            return_dtype=pl.String,
        )
        .alias("on the funnel")
    )


def partner_table(comparison: PartnerComparison) -> pl.DataFrame:
    """One row per partner, largest first: tickets, how many can be compared (in
    kinds other partners also handle), the observed rate and the case-mix adjusted
    rate with their 95% intervals, and where it falls on the funnel."""
    frame = comparison.partners.sort("cases", "partner", descending=[True, False])
    adjusted = (
        pl.when(pl.col("reason").is_null())
        .then(_interval("adjusted_rate", "adjusted_low", "adjusted_high"))
        .otherwise(pl.col("reason"))
    )
    return frame.select(
        "partner",
        _whole("cases").alias("tickets"),
        _interval("crude_rate", "crude_low", "crude_high").alias("observed (95% interval)"),
        adjusted.alias("case-mix adjusted (95% interval)"),
        funnel_words(comparison.metric),
        _pct("expected_rate").alias("expected for its mix"),
        _whole("shared_cases").alias("comparable"),
    )


def _gap_words() -> pl.Expr:
    """'A higher by 4.2 pts' from the signed gap a - b."""
    points = (pl.col("gap").abs() * 100).round(1).cast(pl.String) + " pts"
    return (
        pl.when(pl.col("gap").is_null())
        .then(pl.lit(""))
        .when(pl.col("gap") > 0)
        .then(pl.col("partner_a") + " higher by " + points)
        .when(pl.col("gap") < 0)
        .then(pl.col("partner_b") + " higher by " + points)
        .otherwise(pl.lit("no gap"))
    )


def pair_verdict_words(comparison: PartnerComparison) -> pl.Expr:
    minimum = f"{100 * comparison.min_gap:.1f} pts"
    return pl.col("verdict").replace_strict(
        {
            DIFFERENT: "different",
            BELOW_MIN_GAP: f"gap below the minimum that matters ({minimum})",
            NO_CLEAR_GAP: "no clear gap",
            NOTHING_SHARED: "no tickets of the same kinds",
            TOO_FEW: TOO_FEW,
        },
        default=pl.col("verdict"),
        return_dtype=pl.String,
    )


def _q_text() -> pl.Expr:
    return (
        pl.when(pl.col("q").is_null())
        .then(pl.lit(""))
        .when(pl.col("q") < 0.001)
        .then(pl.lit("< 0.001"))
        .otherwise(pl.col("q").round(3).cast(pl.String))
    )


def pair_table(comparison: PartnerComparison) -> pl.DataFrame:
    """The compared pairs (both partners with at least min_sample tickets): the
    different ones first, then by the size of the gap. The gap is on the tickets of
    the kinds both handle, so it can differ from the gap of the observed rates."""
    order = pl.col("verdict").replace_strict(
        {DIFFERENT: 0, BELOW_MIN_GAP: 1, NO_CLEAR_GAP: 2}, default=3, return_dtype=pl.Int8
    )
    return (
        comparison.pairs.filter(pl.col("verdict") != TOO_FEW)
        .sort(order, pl.col("gap").abs(), descending=[False, True], nulls_last=True)
        .select(
            pl.col("partner_a").alias("partner A"),
            pl.col("partner_b").alias("partner B"),
            pair_verdict_words(comparison).alias("verdict"),
            _gap_words().alias("gap on the same kinds of tickets"),
            _pct("rate_a").alias("observed A"),
            _pct("rate_b").alias("observed B"),
            (_whole("shared_a").cast(pl.String) + " / " + _whole("shared_b").cast(pl.String)).alias(
                "tickets compared (A / B)"
            ),
            _q_text().alias("q (FDR-adjusted p)"),
        )
    )


def untested_pairs(comparison: PartnerComparison) -> int:
    """Pairs not compared because a partner has fewer than min_sample tickets."""
    return comparison.pairs.filter(pl.col("verdict") == TOO_FEW).height


# The funnel's point groups: legend name and tone (the chart's colour).
def _group(metric: str) -> pl.Expr:
    above, below = direction_words(metric)
    return (
        pl.when(pl.col("funnel") == ABOVE_998)
        .then(pl.lit(f"Outside the 99.8% limits: {above}"))
        .when(pl.col("funnel") == BELOW_998)
        .then(pl.lit(f"Outside the 99.8% limits: {below}"))
        .when(pl.col("funnel").is_in([ABOVE_95, BELOW_95]))
        .then(pl.lit("Outside the 95% limits only: watch"))
        .otherwise(pl.lit("Within the limits"))
    )


def _tone_of(words: str) -> str:
    return words if words in ("better", "worse") else "outside"


def _tone(metric: str) -> pl.Expr:
    above, below = direction_words(metric)
    return (
        pl.when(pl.col("funnel") == ABOVE_998)
        .then(pl.lit(_tone_of(above)))
        .when(pl.col("funnel") == BELOW_998)
        .then(pl.lit(_tone_of(below)))
        .when(pl.col("funnel").is_in([ABOVE_95, BELOW_95]))
        .then(pl.lit("watch"))
        .otherwise(pl.lit("within"))
    )


def funnel_points(comparison: PartnerComparison) -> pl.DataFrame:
    """The judged partners as the funnel chart's points: name, x (weight of
    evidence), y (case-mix adjusted rate), group, tone, detail (numbers only, one
    line each) and key (the partner, for a click)."""
    detail = pl.concat_str(
        [
            pl.lit("adjusted ") + _pct("adjusted_rate"),
            pl.lit(" (observed ") + _pct("crude_rate") + pl.lit(")"),
            pl.lit("\n") + _whole("cases").cast(pl.String) + pl.lit(" tickets, "),
            _whole("shared_cases").cast(pl.String) + pl.lit(" comparable"),
            pl.lit("\nweighs as ") + _whole("weighted_cases").cast(pl.String),
            pl.lit(" tickets of an average mix"),
        ]
    )
    return comparison.judged.select(
        pl.col("partner").alias("name"),
        pl.col("weighted_cases").alias("x"),
        pl.col("adjusted_rate").alias("y"),
        _group(comparison.metric).alias("group"),
        _tone(comparison.metric).alias("tone"),
        detail.alias("detail"),
        pl.col("partner").alias("key"),
    )


def outside_limits(comparison: PartnerComparison) -> pl.DataFrame:
    """The partners outside the funnel's limits, the 99.8% ones first: partner,
    metric, side ('above' or 'below') and limit ('99.8%' or '95%'), e.g. for the
    report's opening paragraph."""
    where = {
        ABOVE_998: ("above", "99.8%"),
        BELOW_998: ("below", "99.8%"),
        ABOVE_95: ("above", "95%"),
        BELOW_95: ("below", "95%"),
    }
    return (
        comparison.partners.filter(pl.col("funnel").is_in(list(where)))
        .select(
            "partner",
            "metric",
            pl.col("funnel")
            .replace_strict({k: v[0] for k, v in where.items()}, return_dtype=pl.String)
            .alias("side"),
            pl.col("funnel")
            .replace_strict({k: v[1] for k, v in where.items()}, return_dtype=pl.String)
            .alias("limit"),
        )
        .sort(pl.col("limit") == "95%", "partner")
    )
