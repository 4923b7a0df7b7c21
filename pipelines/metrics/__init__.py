"""The metric layer: every KPI declared once (registry.py), checked here.

Everything else reads the KPIs from here: the generated models (sql.py), the
default targets of the configuration, `tierlens kpis`, the dashboard and the
report. A name that is not declared is an error wherever it is written: in a
config file (pipelines.config), in code (`known(...)` at import), in a model.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from pipelines.metrics.declare import SOURCE_NEEDS, Dimension, FactModel, Metric, Target
from pipelines.metrics.registry import DIMENSIONS, FACT_MODELS, METRICS

__all__ = [
    "DIMENSIONS",
    "DIMENSION_NAMES",
    "FACT_MODELS",
    "METRICS",
    "METRIC_NAMES",
    "STOCK_METRICS",
    "Dimension",
    "FactModel",
    "Metric",
    "Target",
    "UnknownMetricError",
    "default_targets",
    "dimension",
    "fact_model",
    "for_clock",
    "known",
    "metric",
    "unknown_metric_message",
]


class UnknownMetricError(KeyError):
    """A metric name that registry.py does not declare."""

    def __str__(self) -> str:
        return str(self.args[0])


def _check(metrics: tuple[Metric, ...], models: tuple[FactModel, ...]) -> None:
    names = [m.name for m in metrics]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"metrics declared twice: {', '.join(twice)}")
    model_names = {m.name for m in models}
    dimension_names = {d.name for d in DIMENSIONS}
    for model in models:
        extra = set(model.columns) - dimension_names
        if extra:
            raise ValueError(f"fact model {model.name}: no dimension {', '.join(sorted(extra))}")
    for m in metrics:
        if m.model not in model_names:
            raise ValueError(f"{m.name}: no fact model {m.model!r}")


_check(METRICS, FACT_MODELS)

METRIC_NAMES: frozenset[str] = frozenset(m.name for m in METRICS)
DIMENSION_NAMES: tuple[str, ...] = tuple(d.name for d in DIMENSIONS)
_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
# KPIs of the present moment (the backlog): over a fact model with no week, so
# they are not compared between weeks or partners' periods.
STOCK_METRICS: tuple[str, ...] = tuple(
    m.name for m in METRICS for f in FACT_MODELS if f.name == m.model and f.week is None
)


def unknown_metric_message(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(METRIC_NAMES), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown metric {name!r}{hint}; `tierlens metrics list` shows every KPI"


def metric(name: str) -> Metric:
    """The declaration of `name`; UnknownMetricError when there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownMetricError(unknown_metric_message(name)) from None


def known(*names: str) -> tuple[str, ...]:
    """`names`, checked: code that lists KPIs by name (a dashboard page) calls this at
    import, so a misspelled or retired name fails the import, not the page."""
    for name in names:
        metric(name)
    return names


def fact_model(name: str) -> FactModel:
    return next(m for m in FACT_MODELS if m.name == name)


def dimension(name: str) -> Dimension:
    for d in DIMENSIONS:
        if d.name == name:
            return d
    raise KeyError(f"unknown dimension {name!r}; choose from {', '.join(DIMENSION_NAMES)}")


def for_clock(names: Iterable[str], clock: str) -> list[str]:
    """`names` as shown on one clock: on "wall" without the business twins; on
    "business" each KPI whose twin is among `names` replaced by the twin."""
    chosen = list(names)
    wall = [n for n in chosen if metric(n).clock == "wall"]
    if clock == "wall":
        return wall
    twins = {m.wall_twin: m.name for m in METRICS if m.wall_twin}
    return [twins[n] if twins.get(n) in chosen else n for n in wall]


def default_targets() -> dict[str, Target]:
    """The targets declared with the KPIs (the config's [targets] starts from these)."""
    return {m.name: m.target for m in METRICS if m.target is not None}


def needs_of(m: Metric) -> tuple[str, ...]:
    """What the export must carry for `m` to be measurable (keys of SOURCE_NEEDS)."""
    return (("tiers",) if m.needs_tiers else ()) + m.needs


def not_measurable(name: str, coverage: Mapping[str, bool]) -> str | None:
    """Why the KPI `name` cannot be measured from exports with this `coverage`
    (source_coverage's has_* columns, over the filtered tickets), or None when it can."""
    missing = [
        SOURCE_NEEDS[n][1] for n in needs_of(metric(name)) if not coverage.get(SOURCE_NEEDS[n][0])
    ]
    return "; ".join(missing) or None


def coverage_sql(where: str = "true") -> str:
    """One row: each has_* column of analytics.source_coverage over the rows `where`
    selects, for not_measurable. With no row there is no source to fault: true (a
    KPI then reads "no cases", not "not measurable")."""
    columns = ", ".join(
        f"coalesce(bool_or({column}), true) as {column}" for column, _ in SOURCE_NEEDS.values()
    )
    return f"select {columns} from analytics.source_coverage where {where}"
