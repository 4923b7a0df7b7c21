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
TIER_COLOURS: dict[str, str] = {
    "L1": "#4c9be8",
    "L2": "#f0a030",
    "L3": "#d64545",
    "L4": "#8e5bd6",
}


def unit(metric: str) -> str:
    return UNITS.get(metric, "")


def goodness(metric: str) -> str:
    """What good looks like, for chart titles."""
    found = METRIC_DEFS.get(metric)
    if found is None or found.higher_is_better is None:
        return "no direction is better; read against the target"
    return "higher is better" if found.higher_is_better else "lower is better"
