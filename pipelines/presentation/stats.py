"""Pure polars computations behind the pages: scorecard tiles, the verdict line,
case-mix standardisation, pairwise significance and Sankey links.

No Streamlit and no SQL here, so every function is unit-tested on hand-worked
numbers (tests/presentation/test_stats.py).
"""

from __future__ import annotations

from datetime import date, timedelta

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


def standardise(strata: pl.DataFrame) -> pl.DataFrame:
    """Case-mix adjusted rates by direct standardisation.

    `strata`: partner, metric, category, priority, numerator, denominator (one
    row per partner and category x priority stratum of a rate metric). For each
    metric the standard population is everyone in `strata`: stratum weight
    w_s = cases in s / all cases. A partner's adjusted rate is
    sum_s w_s * (the partner's rate in s), where a stratum the partner has no
    case in takes the overall rate of s. Its 95% interval uses the normal
    approximation var = sum_s w_s^2 p_s (1 - p_s) / n_s over the partner's strata.

    Returns partner, metric, numerator, denominator, crude_rate, adjusted_rate,
    adjusted_low, adjusted_high."""
    keys = ["metric", "category", "priority"]
    overall = (
        strata.group_by(keys)
        .agg(overall_num=pl.col("numerator").sum(), overall_den=pl.col("denominator").sum())
        .filter(pl.col("overall_den") > 0)
        .with_columns(
            overall_rate=pl.col("overall_num") / pl.col("overall_den"),
            weight=pl.col("overall_den") / pl.col("overall_den").sum().over("metric"),
        )
    )
    own = strata.group_by(["partner", *keys]).agg(
        num=pl.col("numerator").sum(), den=pl.col("denominator").sum()
    )
    partners = strata.filter(pl.col("denominator") > 0).select("partner", "metric").unique()
    grid = (
        partners.join(overall, on="metric")
        .join(own, on=["partner", *keys], how="left")
        .with_columns(
            has_cases=pl.col("den").fill_null(0) > 0,
        )
        .with_columns(
            rate=pl.when(pl.col("has_cases"))
            .then(pl.col("num") / pl.col("den"))
            .otherwise(pl.col("overall_rate")),
        )
        .with_columns(
            variance=pl.when(pl.col("has_cases"))
            .then(pl.col("weight") ** 2 * pl.col("rate") * (1 - pl.col("rate")) / pl.col("den"))
            .otherwise(0.0),
        )
    )
    return (
        grid.group_by("partner", "metric")
        .agg(
            numerator=pl.col("num").sum(),
            denominator=pl.col("den").sum(),
            adjusted_rate=(pl.col("weight") * pl.col("rate")).sum(),
            variance=pl.col("variance").sum(),
        )
        .with_columns(
            crude_rate=pl.col("numerator") / pl.col("denominator"),
            adjusted_low=(pl.col("adjusted_rate") - Z95 * pl.col("variance").sqrt()).clip(0.0, 1.0),
            adjusted_high=(pl.col("adjusted_rate") + Z95 * pl.col("variance").sqrt()).clip(
                0.0, 1.0
            ),
        )
        .drop("variance")
        .sort("metric", "partner")
    )


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


Z998 = 3.090232  # two-sided 99.8%: the funnel plot's outer limits


def funnel_limits(
    pooled: float, max_cases: float, *, points: int = 120
) -> pl.DataFrame:
    """A funnel plot's control limits around the pooled rate `pooled` (Spiegelhalter
    2005, normal approximation): for n cases, pooled +/- z * sqrt(p(1-p)/n) for the
    95% and 99.8% limits, clipped to [0, 1]; n from 1 to `max_cases` on a log grid.
    A unit outside the 99.8% limits differs by more than chance would make it."""
    top = max(float(max_cases), 2.0)
    n = pl.Series("cases", [top ** (i / (points - 1)) for i in range(points)])
    spread = ((pooled * (1 - pooled)) / n).sqrt()
    return pl.DataFrame({"cases": n}).with_columns(
        lower95=(pooled - Z95 * spread).clip(0, 1),
        upper95=(pooled + Z95 * spread).clip(0, 1),
        lower998=(pooled - Z998 * spread).clip(0, 1),
        upper998=(pooled + Z998 * spread).clip(0, 1),
    )
