"""How a metric's value reads, in its unit: one formatter for the command line,
the dashboard and the report, as Python (one value) and as polars expressions
(a column)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.metrics import METRICS

if TYPE_CHECKING:  # loaded by the expressions alone: `tierlens kpis` formats values only
    import polars as pl

UNITS: dict[str, str] = {m.name: m.unit for m in METRICS}
LABELS: dict[str, str] = {m.name: m.label for m in METRICS}


def fmt_value(value: float | None, unit: str) -> str:
    """42.0% for rates, 1,234 min for durations, 2.4x for ratios, 17 for counts."""
    if value is None:
        return "n/a"
    if unit == "%":
        return f"{100 * value:.1f}%"
    if unit == "min":
        return f"{value:,.0f} min"
    if unit == "x":
        return f"{value:.1f}x"
    return f"{value:,.0f}"


def fmt_delta(delta: float | None, unit: str) -> str | None:
    """A week-on-week change: +2.5 pts for rates, +12 min, +0.3x, +4."""
    if delta is None:
        return None
    if unit == "%":
        return f"{100 * delta:+.1f} pts"
    if unit == "min":
        return f"{delta:+,.0f} min"
    if unit == "x":
        return f"{delta:+.1f}x"
    return f"{delta:+,.0f}"


def _unit_expr(metric: str) -> pl.Expr:
    import polars as pl

    return pl.col(metric).replace_strict(UNITS, default=pl.lit(""), return_dtype=pl.String)


def _thousands(v: pl.Expr) -> pl.Expr:
    """A whole number with thousands separators, as fmt_value's `{:,.0f}`."""
    import polars as pl

    whole = v.round(0).cast(pl.Int64)
    digits = (
        whole.abs()
        .cast(pl.String)
        .str.reverse()
        .str.replace_all(r"(\d{3})", "$1,")
        .str.strip_chars_end(",")
        .str.reverse()
    )
    return pl.when(whole < 0).then("-" + digits).otherwise(digits)


def value_expr(value: str, metric: str = "metric") -> pl.Expr:
    """fmt_value over a column of values, the unit read from the metric column."""
    import polars as pl

    unit, v = _unit_expr(metric), pl.col(value)
    return (
        pl.when(v.is_null())
        .then(pl.lit("n/a"))
        .when(unit == "%")
        .then((v * 100).round(1).cast(pl.String) + "%")
        .when(unit == "min")
        .then(_thousands(v) + " min")
        .when(unit == "x")
        .then(v.round(1).cast(pl.String) + "x")
        .otherwise(_thousands(v))
    )


def label(metric: str) -> str:
    return LABELS.get(metric, metric)


def label_expr(column: str = "metric") -> pl.Expr:
    """The metric's label, as a polars expression."""
    import polars as pl

    return pl.col(column).replace_strict(LABELS, default=pl.col(column))
