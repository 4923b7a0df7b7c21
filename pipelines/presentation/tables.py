"""Tables of figures for the partner comparison, shared by the dashboard's page
and the report."""

from __future__ import annotations

import polars as pl

from pipelines.presentation.format import label_expr, value_expr


def kpi_overview(by_partner: pl.DataFrame) -> pl.DataFrame:
    """Metric rows x partner columns: value (95% interval) and status."""
    interval = (
        pl.when(pl.col("ci_low").is_not_null())
        .then(pl.lit(" (") + value_expr("ci_low") + pl.lit("–") + value_expr("ci_high") + ")")
        .otherwise(pl.lit(""))
    )
    flag = (
        pl.when(pl.col("status").is_in(["green", "no target", "n/a"]))
        .then(pl.lit(""))
        .otherwise(pl.lit(" · ") + pl.col("status"))
    )
    cells = by_partner.with_columns(cell=value_expr("value") + interval + flag, KPI=label_expr())
    order = cells.select("KPI").unique(maintain_order=True)
    wide = cells.pivot(on="partner", index="KPI", values="cell")
    return order.join(wide, on="KPI", how="left")
