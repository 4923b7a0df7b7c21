"""The vocabulary of the metric layer: what a KPI declaration is made of.

Modelled on the semantic layers of dbt (MetricFlow) and Cube: a *fact model*
names a table of the build and the rows it contributes (resolved tickets,
escalations), with the column that holds each *dimension*; a *metric* is a
statistic over the cases of one fact model, written as SQL expressions over that
table's columns. The declarations themselves are in registry.py; sql.py turns
them into the kpi_facts, kpi_fact_cells and kpi_weekly models and the `tierlens
kpis` query.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Stat = Literal["rate", "share", "median", "p90", "count", "median_ratio"]
Unit = Literal["%", "min", "tickets", "x"]
Direction = Literal["higher", "lower", "none"]
Grain = Literal["ticket", "escalation"]
Clock = Literal["wall", "business"]
SourceNeed = Literal["first_contact", "kb_articles", "sla", "notes"]
# What each need is, as the dashboard says when no loaded export meets it (the
# column of sql/serving/source_coverage.sql that tells whether one does).
SOURCE_NEEDS: dict[str, tuple[str, str]] = {
    "tiers": ("has_tiers", "no tier: no group matches the tier map and no tier label"),
    "first_contact": ("has_first_contact", "no first-contact flag or first-contact status"),
    "kb_articles": ("has_kb_articles", "no knowledge-base article on any ticket"),
    "sla": ("has_sla", "no SLA due date or SLA verdict"),
    "notes": ("has_notes", "no escalation notes"),
}

NAME = re.compile(r"[a-z][a-z0-9_]*")
_SQL_FIELDS = ("measure", "numerator", "denominator")
STATS_WITH_NUMERATOR = ("rate", "share")
STATS_WITH_MEASURE = ("median", "p90", "median_ratio")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Frozen):
    """What good looks like for one KPI.

    green when the value lies in [green_min, green_max]; red when below red_below
    or above red_above; amber otherwise.
    """

    green_min: float | None = None
    green_max: float | None = None
    red_below: float | None = None
    red_above: float | None = None
    label: str = ""


class Dimension(_Frozen):
    """A way to slice every KPI: a column of kpi_facts, a `--by` name of `tierlens
    kpis`, a row family of kpi_weekly."""

    name: str = Field(description="the name users type: --by, kpi_weekly.dimension")
    column: str = Field(description="the column of kpi_facts")
    label: str
    filterable: bool = Field(True, description="offered as a dashboard filter")

    @model_validator(mode="after")
    def _names(self) -> Dimension:
        for value in (self.name, self.column):
            if not NAME.fullmatch(value):
                raise ValueError(f"{value!r} is not a snake_case name")
        return self


class FactModel(_Frozen):
    """The rows of a table of the build that metrics count: their grain, the week
    they are reported in, and where each dimension's value is."""

    name: str
    table: str = Field(description="a model of sql/ (read by its bare name)")
    where: str | None = Field(None, description="which rows of the table belong here")
    grain: Grain
    week: str | None = Field(description="column of the reporting week; None: a stock, no week")
    escalation_id: str | None = None
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="dimension name -> expression, where it is not the dimension's column",
    )
    description: str


class BusinessTwin(_Frozen):
    """The business-time twin of a duration KPI: the same KPI over business minutes
    (the ticket's calendar, docs/metrics.md "Business time"). Only the expressions
    that read a clock change; the rest (cases, statistic, target) is the KPI's."""

    name: str
    measure: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    label_suffix: str = "business hours"
    note: str = "Counted in business hours (the ticket's calendar)."


class Metric(_Frozen):
    """One KPI. `cases` selects the rows of `model` the KPI is about; the statistic
    says what is computed over them:

    - rate: sum(numerator) / sum(denominator) over the cases where both are known,
      with a 95% Wilson interval (numerator a 0/1 flag, denominator 1 by default);
    - share: the same for amounts (minutes), without an interval;
    - median, p90: of `measure` over the cases where it is known;
    - median_ratio: median of `measure` over the cases / over the `base_cases`;
    - count: the number of cases.
    """

    name: str
    label: str
    description: str
    model: str
    stat: Stat
    unit: Unit
    direction: Direction
    cases: str = "true"
    numerator: str | None = None
    denominator: str = "1"
    measure: str | None = None
    base_cases: str | None = None
    target: Target | None = None
    min_sample: int | None = Field(
        None, ge=0, description="fewer cases than this: 'insufficient'; None: the config's"
    )
    needs_tiers: bool = Field(True, description="no value when no event of the export has a tier")
    needs: tuple[SourceNeed, ...] = Field(
        (), description="what the export must carry beyond tickets and events (SOURCE_NEEDS)"
    )
    business: BusinessTwin | None = Field(
        None, description="declares the KPI's business-time twin (durations)"
    )
    clock: Clock = Field("wall", description="the clock its minutes are read on")
    wall_twin: str | None = Field(None, description="a business twin: the wall-clock KPI")

    @model_validator(mode="after")
    def _fits_the_stat(self) -> Metric:
        if not NAME.fullmatch(self.name):
            raise ValueError(f"{self.name!r} is not a snake_case name")
        wants_numerator = self.stat in STATS_WITH_NUMERATOR
        if wants_numerator != (self.numerator is not None):
            raise ValueError(
                f"{self.name}: a {self.stat} "
                + ("needs a numerator" if wants_numerator else "takes no numerator")
            )
        wants_measure = self.stat in STATS_WITH_MEASURE
        if wants_measure != (self.measure is not None):
            raise ValueError(
                f"{self.name}: a {self.stat} "
                + ("needs a measure" if wants_measure else "takes no measure")
            )
        if (self.stat == "median_ratio") != (self.base_cases is not None):
            raise ValueError(f"{self.name}: base_cases is for a median_ratio, and it needs them")
        if self.denominator != "1" and self.stat not in STATS_WITH_NUMERATOR:
            raise ValueError(f"{self.name}: a {self.stat} takes no denominator")
        return self

    def business_twin(self) -> Metric | None:
        """The twin this KPI declares, as a KPI of its own."""
        if self.business is None:
            return None
        twin = self.business
        fields = self.model_dump(exclude={"business"}) | {
            "name": twin.name,
            "label": f"{self.label} ({twin.label_suffix})",
            "description": f"{self.description} {twin.note}",
            "clock": "business",
            "wall_twin": self.name,
        }
        fields |= {k: v for k, v in twin.model_dump().items() if k in _SQL_FIELDS and v}
        return Metric(**fields)

    @property
    def higher_is_better(self) -> bool | None:
        return {"higher": True, "lower": False, "none": None}[self.direction]
