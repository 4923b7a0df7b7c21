"""How values read on screen: metric labels and units from pipelines.metrics."""

from __future__ import annotations

import polars as pl

from pipelines.metrics import METRICS, MetricDef

METRIC_DEFS: dict[str, MetricDef] = {m.metric: m for m in METRICS}

STATUS_COLOURS: dict[str, str] = {
    "green": "#2e9e5b",
    "amber": "#e0a100",
    "red": "#d64545",
    "insufficient": "#8c8c8c",
    "no target": "#5b8def",
    "n/a": "#8c8c8c",
}
TIER_COLOURS: dict[str, str] = {
    "L1": "#4c9be8",
    "L2": "#f0a030",
    "L3": "#d64545",
    "L4": "#8e5bd6",
}


def label(metric: str) -> str:
    found = METRIC_DEFS.get(metric)
    return found.label if found else metric


def unit(metric: str) -> str:
    found = METRIC_DEFS.get(metric)
    return found.unit if found else ""


def fmt_value(value: float | None, unit_: str) -> str:
    if value is None:
        return "n/a"
    if unit_ == "%":
        return f"{100 * value:.1f}%"
    if unit_ == "min":
        return f"{value:,.0f} min"
    return f"{value:,.0f}"


def fmt_delta(delta: float | None, unit_: str) -> str | None:
    if delta is None:
        return None
    if unit_ == "%":
        return f"{100 * delta:+.1f} pts"
    if unit_ == "min":
        return f"{delta:+,.0f} min"
    return f"{delta:+,.0f}"


def goodness(metric: str) -> str:
    """What good looks like, for chart titles."""
    found = METRIC_DEFS.get(metric)
    if found is None or found.higher_is_better is None:
        return "no direction is better; read against the target"
    return "higher is better" if found.higher_is_better else "lower is better"


def label_expr(column: str = "metric") -> pl.Expr:
    """The metric's label, as a polars expression."""
    return pl.col(column).replace_strict(
        {m: d.label for m, d in METRIC_DEFS.items()}, default=pl.col(column)
    )


def value_expr(value: str, metric: str = "metric") -> pl.Expr:
    """The value as text in the metric's unit (see fmt_value), as a polars expression."""
    unit_ = pl.col(metric).replace_strict(
        {m: d.unit for m, d in METRIC_DEFS.items()}, default=pl.lit("")
    )
    v = pl.col(value)
    return (
        pl.when(v.is_null())
        .then(pl.lit("n/a"))
        .when(unit_ == "%")
        .then((v * 100).round(1).cast(pl.String) + "%")
        .when(unit_ == "min")
        .then(v.round(0).cast(pl.Int64).cast(pl.String) + " min")
        .otherwise(v.round(0).cast(pl.Int64).cast(pl.String))
    )
