"""How values read on screen: metric labels and units from pipelines.metrics."""

from __future__ import annotations

from pipelines.formatting import (  # re-exported for the pages
    UNITS as UNITS,
    fmt_delta as fmt_delta,
    fmt_value as fmt_value,
    label as label,
    label_expr as label_expr,
    value_expr as value_expr,
)
from pipelines.metrics import METRICS, Metric

METRIC_DEFS: dict[str, Metric] = {m.name: m for m in METRICS}

STATUS_COLOURS: dict[str, str] = {
    "green": "#2e9e5b",
    "amber": "#e0a100",
    "red": "#d64545",
    "insufficient": "#8c8c8c",
    "no target": "#5b8def",
    "n/a": "#8c8c8c",
}
# Red, green and amber mean a status (above) and nothing else: tiers and chart
# series use cool hues only (cyan, blue, violet, magenta), each of a mid lightness
# that reads on a white and on a dark page (contrast >= 3:1 on both; checked by
# tests/presentation/test_trend_chart.py). Tiers darken from L1 to L3, so they differ in
# lightness too, not only in hue.
TIER_COLOURS: dict[str, str] = {
    "L1": "#1c9bb8",
    "L2": "#3b6fd8",
    "L3": "#7c4dd6",
    "L4": "#c24fb0",
}
UNKNOWN_TIER_COLOUR = "#8c8c8c"


def unit(metric: str) -> str:
    return UNITS.get(metric, "")


def goodness(metric: str) -> str:
    """What good looks like, for chart titles."""
    found = METRIC_DEFS.get(metric)
    if found is None or found.higher_is_better is None:
        return "no direction is better; read against the target"
    return "higher is better" if found.higher_is_better else "lower is better"
