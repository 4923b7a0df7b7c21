"""The metric catalogue: every KPI the product reports, and how it aggregates.

The SQL marts write one row per case and `fact` into `kpi_facts` (a ticket or an
escalation that is in the fact's denominator). A metric is a fact plus a
statistic: `rate` = sum(numerator) / sum(denominator) with a Wilson interval,
`share` = the same without an interval (durations, not counts), `median`/`p90`
of the `measure` column, `count` = number of cases, `median_ratio` = the median
of the fact's measure over the median of its `base_fact`'s measure. docs/metrics.md explains
each in words; the names here are the contract for scripts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Stat = Literal["rate", "share", "median", "p90", "count", "median_ratio"]
Grain = Literal["ticket", "escalation"]


class MetricDef(BaseModel):
    model_config = ConfigDict(frozen=True)

    metric: str
    fact: str
    stat: Stat
    grain: Grain
    unit: Literal["%", "min", "tickets", "x"]
    label: str
    higher_is_better: bool | None
    # median_ratio only: the fact whose median is the denominator
    base_fact: str | None = None


def _rate(metric: str, fact: str, grain: Grain, label: str, higher: bool | None) -> MetricDef:
    return MetricDef(
        metric=metric,
        fact=fact,
        stat="rate",
        grain=grain,
        unit="%",
        label=label,
        higher_is_better=higher,
    )


def _durations(fact: str, grain: Grain, label: str) -> list[MetricDef]:
    return [
        MetricDef(
            metric=f"{fact}_{stat}_min",
            fact=fact,
            stat=stat,
            grain=grain,
            unit="min",
            label=f"{label} ({'median' if stat == 'median' else '90th percentile'})",
            higher_is_better=False,
        )
        for stat in ("median", "p90")
    ]


TIERS = ("l1", "l2", "l3", "l4")

METRICS: tuple[MetricDef, ...] = (
    _rate("l1_resolution_rate", "l1_resolution", "ticket", "L1 resolution", True),
    _rate("escalation_rate", "escalation", "ticket", "Escalation rate", None),
    _rate(
        "first_contact_resolution_rate",
        "first_contact_resolution",
        "ticket",
        "First contact resolution (strict)",
        True,
    ),
    _rate("bounceback_rate", "bounceback", "escalation", "Bounceback", False),
    _rate("reescalation_rate", "reescalation", "escalation", "Re-escalation L2 to L3+", False),
    _rate("tier_skip_rate", "tier_skip", "escalation", "Tier skip L1 to L3+", False),
    *_durations("handoff_delay", "escalation", "Handoff delay to pickup"),
    _rate("never_picked_up_rate", "never_picked_up", "escalation", "Never picked up", False),
    _rate(
        "pickup_within_target_rate",
        "pickup_within_target",
        "escalation",
        "Picked up within target (P1/P2)",
        True,
    ),
    _rate("pingpong_rate", "pingpong", "ticket", "Ping-pong", False),
    _rate("reopen_rate", "reopen", "ticket", "Reopened", False),
    *_durations("time_to_escalate", "ticket", "Time at L1 before escalating"),
    _rate("late_escalation_rate", "late_escalation", "ticket", "Escalated late", False),
    _rate(
        "early_escalation_rate",
        "early_escalation",
        "ticket",
        "Escalated in minutes with no internal note",
        False,
    ),
    _rate(
        "unnecessary_escalation_rate",
        "unnecessary_escalation",
        "ticket",
        "Unnecessary escalations (reviewed, else rules)",
        False,
    ),
    _rate(
        "unnecessary_escalation_rate_rules",
        "unnecessary_escalation_rules",
        "ticket",
        "Unnecessary escalations (rules only)",
        False,
    ),
    _rate(
        "unnecessary_by_scope_rate",
        "unnecessary_by_scope",
        "ticket",
        "Unnecessary: in L1 scope",
        False,
    ),
    _rate(
        "unnecessary_by_kb_rate",
        "unnecessary_by_kb",
        "ticket",
        "Unnecessary: L1 KB article solved it",
        False,
    ),
    _rate(
        "unnecessary_by_quick_fix_rate",
        "unnecessary_by_quick_fix",
        "ticket",
        "Unnecessary: quick fix after pickup",
        False,
    ),
    _rate(
        "note_completeness_rate",
        "note_completeness",
        "escalation",
        "Escalation notes complete",
        True,
    ),
    *_durations("mttr_l1_only", "ticket", "Time to resolve, L1 only"),
    *_durations("mttr_escalated", "ticket", "Time to resolve, escalated"),
    *_durations("mttr_bounced_back", "ticket", "Time to resolve, bounced back"),
    *_durations("mttr_unnecessary", "ticket", "Time to resolve, unnecessary escalation"),
    MetricDef(
        metric="mttr_unnecessary_ratio",
        fact="mttr_unnecessary",
        base_fact="mttr_l1_only",
        stat="median_ratio",
        grain="ticket",
        unit="x",
        label="Time to resolve, unnecessary escalation vs L1 only (ratio of medians)",
        higher_is_better=False,
    ),
    _rate(
        "sla_breach_rate_escalated",
        "sla_breach_escalated",
        "ticket",
        "SLA breached, escalated tickets",
        False,
    ),
    _rate(
        "sla_breach_rate_not_escalated",
        "sla_breach_not_escalated",
        "ticket",
        "SLA breached, not escalated",
        False,
    ),
    *(
        MetricDef(
            metric=f"sla_clock_share_{t}",
            fact=f"sla_clock_{t}",
            stat="share",
            grain="ticket",
            unit="%",
            label=f"Breached escalations: clock used at {t.upper()}",
            higher_is_better=None,
        )
        for t in TIERS
    ),
    _rate("kb_deflection_rate", "kb_deflection", "ticket", "KB deflection", True),
    *(
        _rate(
            f"tier_mix_highest_{t}",
            f"highest_tier_{t}",
            "ticket",
            f"Highest tier reached: {t.upper()}",
            None,
        )
        for t in TIERS
    ),
    *(
        _rate(
            f"tier_mix_resolving_{t}",
            f"resolving_tier_{t}",
            "ticket",
            f"Resolved at {t.upper()}",
            None,
        )
        for t in TIERS
    ),
    MetricDef(
        metric="backlog_open_tickets",
        fact="backlog",
        stat="count",
        grain="ticket",
        unit="tickets",
        label="Open tickets (backlog)",
        higher_is_better=None,
    ),
)

METRIC_NAMES: frozenset[str] = frozenset(m.metric for m in METRICS)
