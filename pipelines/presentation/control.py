"""Which weekly points a trend can trust, and which of them signal a real change.

Two questions a service-desk manager asks of a weekly line:

1. Is this week's point worth reading at all? A week with fewer cases than the
   minimum sample (one ticket reads 0% or 100%) or a week that is not over yet is
   not: `week_kinds` says which weeks are full, which have too few cases and which
   are partial. Charts grey or hide the last two, and sparklines leave them out.
2. Did something change, or is it noise? For a rate KPI, a p-chart (Shewhart's
   control chart for a proportion) answers it: the centre line is the pooled rate
   of the weeks shown, p̄ = Σ numerator / Σ denominator, and each week's limits are
   p̄ ± 3 · √(p̄ (1 − p̄) / n_w) for that week's n_w cases (clipped to 0-100%). A week
   outside its limits, or 8 weeks in a row on one side of the centre line, is a
   signal: chance alone makes either rare (about 3 weeks in 1,000, and 1 in 128 for
   a given run of 8), so something changed. Every other wiggle is noise.

Pure polars, no Streamlit or Plotly: tested on hand-worked numbers in
tests/presentation/test_control.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from pipelines.presentation.format import METRIC_DEFS

FULL, FEW_CASES, PARTIAL = "full", "few cases", "partial week"
SIGMAS = 3.0
RUN_LENGTH = 8
ABOVE_LIMIT, BELOW_LIMIT = "above the upper control limit", "below the lower control limit"
RUN_ABOVE, RUN_BELOW = "run above the centre line", "run below the centre line"


def week_kinds(
    weekly: pl.DataFrame, min_sample: int, complete_until: date | None = None
) -> pl.DataFrame:
    """`weekly` (week_start, and optionally sample and status) with `week_kind`:
    PARTIAL for a week after `complete_until` (the last complete week), FEW_CASES for
    a week with fewer than `min_sample` cases or a status of 'insufficient', FULL
    otherwise. A frame without a sample column has only full (or partial) weeks."""
    few = pl.lit(False)
    if "sample" in weekly.columns:
        few = few | (pl.col("sample").fill_null(0) < min_sample)
    if "status" in weekly.columns:
        few = few | (pl.col("status") == "insufficient").fill_null(False)
    partial = pl.col("week_start") > pl.lit(complete_until) if complete_until else pl.lit(False)
    return weekly.with_columns(
        week_kind=pl.when(partial)
        .then(pl.lit(PARTIAL))
        .when(few)
        .then(pl.lit(FEW_CASES))
        .otherwise(pl.lit(FULL))
    )


def is_proportion(metric: str) -> bool:
    """A KPI a p-chart applies to: a rate of cases (numerator and denominator counted)."""
    found = METRIC_DEFS.get(metric)
    return found is not None and found.stat == "rate"


def _over(expr: pl.Expr, by: Sequence[str]) -> pl.Expr:
    return expr.over(list(by)) if by else expr


def _limits(points: pl.DataFrame, by: Sequence[str], sigmas: float) -> pl.DataFrame:
    """rate, centre (pooled over each `by` group), sigma and the clipped limits."""
    centre = _over(pl.col("numerator").sum(), by) / _over(pl.col("denominator").sum(), by)
    return (
        points.with_columns(
            rate=pl.col("numerator") / pl.col("denominator"),
            centre=centre,
        )
        .with_columns(
            sigma=(pl.col("centre") * (1 - pl.col("centre")) / pl.col("denominator")).sqrt()
        )
        .with_columns(
            lower=(pl.col("centre") - sigmas * pl.col("sigma")).clip(0.0, 1.0),
            upper=(pl.col("centre") + sigmas * pl.col("sigma")).clip(0.0, 1.0),
        )
    )


def _runs(chart: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """side (+1 above the centre line, -1 below, 0 on it), run_id (numbers the runs
    of each group in week order) and run_length: how many weeks in a row (of the rows
    given) share the week's side."""
    side = (pl.col("rate") - pl.col("centre")).sign().cast(pl.Int8)
    new_run = (pl.col("side") != _over(pl.col("side").shift(1), by)).fill_null(True)
    return (
        chart.with_columns(side=side)
        .with_columns(run_id=_over(new_run.cast(pl.Int32).cum_sum(), by))
        .with_columns(run_length=pl.len().over([*by, "run_id"]).cast(pl.Int32))
    )


def p_chart(
    points: pl.DataFrame,
    by: Sequence[str] = (),
    *,
    sigmas: float = SIGMAS,
    run_length: int = RUN_LENGTH,
) -> pl.DataFrame:
    """The p-chart of weekly proportions: `points` has week_start, numerator,
    denominator and the `by` columns (one chart per group, e.g. per partner), one row
    per week to judge (leave out weeks too small or not over). Weeks without cases
    are dropped. Returns the rows in week order with rate, centre, sigma, lower,
    upper, side, run_id, run_length and `signal`: ABOVE_LIMIT or BELOW_LIMIT for a week
    outside its limits, else RUN_ABOVE or RUN_BELOW for every week of a run of at
    least `run_length` weeks on one side of the centre line, else null."""
    chart = _limits(
        points.filter(pl.col("denominator").fill_null(0) > 0).sort([*by, "week_start"]),
        by,
        sigmas,
    )
    in_run = (pl.col("side") != 0) & (pl.col("run_length") >= run_length)
    return _runs(chart, by).with_columns(
        signal=pl.when(pl.col("rate") > pl.col("upper"))
        .then(pl.lit(ABOVE_LIMIT))
        .when(pl.col("rate") < pl.col("lower"))
        .then(pl.lit(BELOW_LIMIT))
        .when(in_run & (pl.col("side") > 0))
        .then(pl.lit(RUN_ABOVE))
        .when(in_run)
        .then(pl.lit(RUN_BELOW))
    )


def weekly_p_chart(
    weekly: pl.DataFrame,
    metric: str,
    min_sample: int = 0,
    complete_until: date | None = None,
) -> pl.DataFrame | None:
    """`p_chart` of a KPI's weekly rows (weekly_kpis: week_start, numerator,
    denominator, sample, status, and split for one chart per split value) over
    their full weeks (`week_kinds`, unless the rows carry week_kind already). None
    for a KPI that is not a rate, or rows without their counts."""
    if not is_proportion(metric) or not {"numerator", "denominator"} <= set(weekly.columns):
        return None
    by = ["split"] if "split" in weekly.columns else []
    kinds = (
        weekly if "week_kind" in weekly.columns else week_kinds(weekly, min_sample, complete_until)
    )
    full = kinds.filter(pl.col("week_kind") == FULL)
    return p_chart(full.select(*by, "week_start", "numerator", "denominator"), by=by)


def describe_signals(chart: pl.DataFrame, by: str | None = None) -> list[str]:
    """One sentence per signal of a `p_chart` result (a rate KPI), for a caption:
    each week outside its limits, then each run once, with its first and last week.
    With `by`, each sentence starts with the group's value."""
    prefix = (pl.col(by).cast(pl.String) + ": ") if by else pl.lit("")
    beyond = chart.filter(pl.col("signal").is_in([ABOVE_LIMIT, BELOW_LIMIT])).select(
        prefix
        + "week of "
        + pl.col("week_start").dt.strftime("%d %b")
        + ": "
        + pct_text("rate")
        + " on "
        + pl.col("denominator").cast(pl.Int64).cast(pl.String)
        + " cases is "
        + pl.col("signal")
        + " ("
        + pl.when(pl.col("signal") == ABOVE_LIMIT)
        .then(pct_text("upper"))
        .otherwise(pct_text("lower"))
        + ")."
    )
    runs = (
        chart.filter(pl.col("signal").is_in([RUN_ABOVE, RUN_BELOW]))
        .group_by([*([by] if by else []), "run_id"], maintain_order=True)
        .agg(
            signal=pl.col("signal").first(),
            centre=pl.col("centre").first(),
            first=pl.col("week_start").min(),
            last=pl.col("week_start").max(),
            n=pl.len(),
        )
        .select(
            prefix
            + pl.col("n").cast(pl.String)
            + " weeks in a row "
            + pl.col("signal").str.replace("run ", "", literal=True)
            + " ("
            + pct_text("centre")
            + "), "
            + pl.col("first").dt.strftime("%d %b")
            + " to "
            + pl.col("last").dt.strftime("%d %b")
            + "."
        )
    )
    return [*beyond.to_series().to_list(), *runs.to_series().to_list()]


def pct_text(column: str) -> pl.Expr:
    """A rate column as text, as fmt_value shows it: 42.0%."""
    return pl.format("{}%", (pl.col(column) * 100).round(1))
