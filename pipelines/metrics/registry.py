"""Every KPI Tierlens reports, declared once.

This file is the metric layer: each `Metric(...)` below is the whole KPI (its SQL,
its default target, its label and unit). `make metrics` writes everything that
follows from it: the models sql/marts/kpi_facts.sql, kpi_fact_cells.sql and
kpi_weekly.sql and the catalogue table of docs/metrics.md. The build stops when those are out of
step with this file. How to add a KPI: docs/metrics.md, "Adding a KPI".

Expressions are DuckDB SQL over the columns of the fact model's table
(sql/marts/fct_tickets.sql, sql/marts/fct_escalations.sql).
"""

from __future__ import annotations

from pipelines.metrics.declare import BusinessTwin, Dimension, FactModel, Metric, Target

DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(name="partner", column="partner", label="Partner"),
    Dimension(name="client", column="client", label="Client"),
    Dimension(name="category", column="category", label="Category"),
    Dimension(name="priority", column="priority", label="Priority"),
    Dimension(name="group", column="group_name", label="Group"),
    Dimension(name="agent", column="agent", label="Agent", filterable=False),
)

FACT_MODELS: tuple[FactModel, ...] = (
    FactModel(
        name="resolved_tickets",
        table="fct_tickets",
        where="state = 'resolved'",
        grain="ticket",
        week="week_start",
        columns={"group": "entry_group", "agent": "entry_agent"},
        description="Resolved tickets, in the week of their final resolution, by the "
        "entry group and agent (the team and agent who had the ticket first).",
    ),
    FactModel(
        name="open_tickets",
        table="fct_tickets",
        where="state = 'open'",
        grain="ticket",
        week=None,
        columns={"group": "entry_group", "agent": "entry_agent"},
        description="Tickets open now (a stock: not tied to a week).",
    ),
    FactModel(
        name="escalations",
        table="fct_escalations",
        grain="ticket",
        week="week_start",
        escalation_id="escalation_id",
        columns={"group": "from_group", "agent": "escalating_agent"},
        description="Escalations of resolved tickets, in the week the ticket was resolved, "
        "by the escalating group and agent (who held the ticket just before).",
    ),
)

# The four tiers' minutes of a ticket: the denominator of the SLA clock shares.
_ALL_TIER_MINUTES = (
    "coalesce(minutes_at_l1, 0) + coalesce(minutes_at_l2, 0)"
    " + coalesce(minutes_at_l3, 0) + coalesce(minutes_at_l4, 0)"
)
_ALL_TIER_BUSINESS_MINUTES = (
    "coalesce(business_minutes_at_l1, 0) + coalesce(business_minutes_at_l2, 0)"
    " + coalesce(business_minutes_at_l3, 0) + coalesce(business_minutes_at_l4, 0)"
)
_PAUSED = (
    "Counted in business hours (the ticket's calendar), leaving out the time the ticket "
    "waited on the user or a vendor ([clocks] pause_statuses)."
)
_BREACHED_ESCALATION = "is_escalated and is_sla_breached"

# The KPIs as declared; METRICS (below) adds each declared business-time twin.
DECLARED: tuple[Metric, ...] = (
    Metric(
        name="l1_resolution_rate",
        label="L1 resolution",
        description="Of the resolved tickets that entered at L1, the share never escalated "
        "and never reopened.",
        model="resolved_tickets",
        stat="rate",
        cases="entry_tier = 'L1'",
        numerator="is_l1_resolved",
        unit="%",
        direction="higher",
        target=Target(green_min=0.70, red_below=0.60, label=">= 70%"),
    ),
    Metric(
        name="escalation_rate",
        label="Escalation rate",
        description="Of the resolved tickets that entered at L1, the share escalated at "
        "least once.",
        model="resolved_tickets",
        stat="rate",
        cases="entry_tier = 'L1'",
        numerator="is_escalated",
        unit="%",
        direction="none",
        target=Target(green_max=0.20, red_above=0.30, label="15-20%"),
    ),
    Metric(
        name="first_contact_resolution_rate",
        label="First contact resolution (strict)",
        description="Of the resolved tickets whose source says whether they were resolved "
        "in the first contact, the share that were.",
        model="resolved_tickets",
        stat="rate",
        cases="is_first_contact_resolution is not null",
        numerator="is_first_contact_resolution",
        unit="%",
        direction="higher",
        needs_tiers=False,
        needs=("first_contact",),
    ),
    Metric(
        name="bounceback_rate",
        label="Bounceback",
        description="Of the escalations, the share whose next tier change sends the "
        "ticket back down.",
        model="escalations",
        stat="rate",
        numerator="is_bounceback",
        unit="%",
        direction="lower",
        target=Target(green_max=0.10, red_above=0.20, label="5-10%"),
    ),
    Metric(
        name="reescalation_rate",
        label="Re-escalation L2 to L3+",
        description="Of the escalations from L1 to L2, the share whose next tier change is "
        "a further rise (to L3 or above).",
        model="escalations",
        stat="rate",
        cases="is_l1_to_l2",
        numerator="is_reescalation",
        unit="%",
        direction="lower",
        target=Target(green_max=0.15, red_above=0.30, label="< 15%"),
    ),
    Metric(
        name="tier_skip_rate",
        label="Tier skip L1 to L3+",
        description="Of the escalations from L1, the share that went straight to L3 or above.",
        model="escalations",
        stat="rate",
        cases="is_from_l1",
        numerator="is_tier_skip",
        unit="%",
        direction="lower",
        target=Target(green_max=0.10, red_above=0.20, label="< 10%"),
    ),
    Metric(
        name="handoff_delay_median_min",
        label="Handoff delay to pickup (median)",
        description="Median minutes from an escalation to its pickup in the receiving tier.",
        model="escalations",
        stat="median",
        cases="is_picked_up",
        measure="pickup_minutes",
        unit="min",
        direction="lower",
        target=Target(green_max=30, red_above=60, label="< 30 min"),
        business=BusinessTwin(
            name="handoff_delay_median_business_min", measure="business_pickup_minutes"
        ),
    ),
    Metric(
        name="handoff_delay_p90_min",
        label="Handoff delay to pickup (90th percentile)",
        description="90th percentile of the minutes from an escalation to its pickup.",
        model="escalations",
        stat="p90",
        cases="is_picked_up",
        measure="pickup_minutes",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="handoff_delay_p90_business_min", measure="business_pickup_minutes"
        ),
    ),
    Metric(
        name="never_picked_up_rate",
        label="Never picked up",
        description="Of the escalations, the share nobody in the receiving tier picked up.",
        model="escalations",
        stat="rate",
        numerator="is_never_picked_up",
        unit="%",
        direction="lower",
    ),
    Metric(
        name="pickup_within_target_rate",
        label="Picked up within target (P1/P2)",
        description="Of the escalations with a pickup target (by priority), the share "
        "picked up within it; one never picked up counts as missed.",
        model="escalations",
        stat="rate",
        cases="pickup_target_minutes is not null and (is_picked_up or is_never_picked_up)",
        numerator="is_picked_up_within_target",
        unit="%",
        direction="higher",
        target=Target(green_min=0.90, red_below=0.75, label=">= 90%"),
    ),
    Metric(
        name="pingpong_rate",
        label="Ping-pong",
        description="Of the resolved tickets handed between groups at least once, the share "
        "that went back to a group it had left.",
        model="resolved_tickets",
        stat="rate",
        cases="n_handoffs >= 1",
        numerator="is_pingpong",
        unit="%",
        direction="lower",
        target=Target(green_max=0.10, red_above=0.20, label="< 10%"),
        needs_tiers=False,
    ),
    Metric(
        name="reopen_rate",
        label="Reopened",
        description="Of the resolved tickets, the share reopened after a resolution.",
        model="resolved_tickets",
        stat="rate",
        numerator="is_reopened",
        unit="%",
        direction="lower",
        target=Target(green_max=0.05, red_above=0.10, label="< 5%"),
        needs_tiers=False,
    ),
    Metric(
        name="time_to_escalate_median_min",
        label="Time at L1 before escalating (median)",
        description="Median minutes from a ticket's creation to its first escalation.",
        model="resolved_tickets",
        stat="median",
        cases="minutes_to_escalate is not null",
        measure="minutes_to_escalate",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="time_to_escalate_median_business_min", measure="business_minutes_to_escalate"
        ),
    ),
    Metric(
        name="time_to_escalate_p90_min",
        label="Time at L1 before escalating (90th percentile)",
        description="90th percentile of the minutes from creation to the first escalation.",
        model="resolved_tickets",
        stat="p90",
        cases="minutes_to_escalate is not null",
        measure="minutes_to_escalate",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="time_to_escalate_p90_business_min", measure="business_minutes_to_escalate"
        ),
    ),
    Metric(
        name="late_escalation_rate",
        label="Escalated late",
        description="Of the escalated tickets, the share escalated after the category's "
        "late-escalation threshold.",
        model="resolved_tickets",
        stat="rate",
        cases="minutes_to_escalate is not null",
        numerator="is_late_escalation",
        unit="%",
        direction="lower",
        target=Target(green_max=0.10, red_above=0.25, label="< 10%"),
    ),
    Metric(
        name="early_escalation_rate",
        label="Escalated in minutes with no internal note",
        description="Of the escalated tickets, the share escalated within minutes of "
        "creation with no internal note first.",
        model="resolved_tickets",
        stat="rate",
        cases="minutes_to_escalate is not null",
        numerator="is_early_escalation",
        unit="%",
        direction="lower",
        target=Target(green_max=0.10, red_above=0.25, label="< 10%"),
    ),
    Metric(
        name="unnecessary_escalation_rate",
        label="Unnecessary escalations (reviewed, else rules)",
        description="Of the escalated tickets, the share that did not need to leave L1: "
        "the review's verdict where there is one, else the rules.",
        model="resolved_tickets",
        stat="rate",
        cases="is_escalated",
        numerator="is_unnecessary",
        unit="%",
        direction="lower",
        target=Target(green_max=0.15, red_above=0.25, label="< 15%"),
    ),
    Metric(
        name="unnecessary_escalation_rate_rules",
        label="Unnecessary escalations (rules only)",
        description="Of the escalated tickets, the share the rules call unnecessary "
        "(before any review).",
        model="resolved_tickets",
        stat="rate",
        cases="is_escalated",
        numerator="is_unnecessary_rules",
        unit="%",
        direction="lower",
    ),
    Metric(
        name="unnecessary_by_scope_rate",
        label="Unnecessary: in L1 scope",
        description="Of the escalated tickets, the share whose category or resolution code "
        "is in L1's scope.",
        model="resolved_tickets",
        stat="rate",
        cases="is_escalated",
        numerator="is_unnecessary_by_scope",
        unit="%",
        direction="lower",
    ),
    Metric(
        name="unnecessary_by_kb_rate",
        label="Unnecessary: L1 KB article solved it",
        description="Of the escalated tickets, the share solved with a KB article L1 can use.",
        model="resolved_tickets",
        stat="rate",
        cases="is_escalated",
        numerator="is_unnecessary_by_kb",
        unit="%",
        direction="lower",
        needs=("kb_articles",),
    ),
    Metric(
        name="unnecessary_by_quick_fix_rate",
        label="Unnecessary: quick fix after pickup",
        description="Of the escalated tickets, the share resolved within minutes of the "
        "pickup above L1.",
        model="resolved_tickets",
        stat="rate",
        cases="is_escalated",
        numerator="is_unnecessary_by_quick_fix",
        unit="%",
        direction="lower",
    ),
    Metric(
        name="note_completeness_rate",
        label="Escalation notes complete",
        description="Of the escalations of a source with notes, the share whose note has "
        "every required section.",
        model="escalations",
        stat="rate",
        cases="source_has_notes",
        numerator="has_complete_note",
        unit="%",
        direction="higher",
        target=Target(green_min=0.90, red_below=0.80, label=">= 90%"),
        needs=("notes",),
    ),
    Metric(
        name="mttr_l1_only_median_min",
        label="Time to resolve, L1 only (median)",
        description="Median minutes to resolve the tickets that entered and stayed at L1.",
        model="resolved_tickets",
        stat="median",
        cases="entry_tier = 'L1' and highest_tier = 'L1'",
        measure="minutes_to_resolve",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="mttr_l1_only_median_business_min", measure="business_minutes_to_resolve"
        ),
    ),
    Metric(
        name="mttr_l1_only_p90_min",
        label="Time to resolve, L1 only (90th percentile)",
        description="90th percentile of the minutes to resolve the tickets that stayed at L1.",
        model="resolved_tickets",
        stat="p90",
        cases="entry_tier = 'L1' and highest_tier = 'L1'",
        measure="minutes_to_resolve",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="mttr_l1_only_p90_business_min", measure="business_minutes_to_resolve"
        ),
    ),
    Metric(
        name="mttr_escalated_median_min",
        label="Time to resolve, escalated (median)",
        description="Median minutes to resolve the escalated tickets.",
        model="resolved_tickets",
        stat="median",
        cases="is_escalated",
        measure="minutes_to_resolve",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="mttr_escalated_median_business_min", measure="business_minutes_to_resolve"
        ),
    ),
    Metric(
        name="mttr_escalated_p90_min",
        label="Time to resolve, escalated (90th percentile)",
        description="90th percentile of the minutes to resolve the escalated tickets.",
        model="resolved_tickets",
        stat="p90",
        cases="is_escalated",
        measure="minutes_to_resolve",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="mttr_escalated_p90_business_min", measure="business_minutes_to_resolve"
        ),
    ),
    Metric(
        name="mttr_bounced_back_median_min",
        label="Time to resolve, bounced back (median)",
        description="Median minutes to resolve the tickets bounced back at least once.",
        model="resolved_tickets",
        stat="median",
        cases="is_bounced_back",
        measure="minutes_to_resolve",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="mttr_bounced_back_median_business_min", measure="business_minutes_to_resolve"
        ),
    ),
    Metric(
        name="mttr_bounced_back_p90_min",
        label="Time to resolve, bounced back (90th percentile)",
        description="90th percentile of the minutes to resolve the bounced-back tickets.",
        model="resolved_tickets",
        stat="p90",
        cases="is_bounced_back",
        measure="minutes_to_resolve",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="mttr_bounced_back_p90_business_min", measure="business_minutes_to_resolve"
        ),
    ),
    Metric(
        name="mttr_unnecessary_median_min",
        label="Time to resolve, unnecessary escalation (median)",
        description="Median minutes to resolve the tickets escalated unnecessarily.",
        model="resolved_tickets",
        stat="median",
        cases="is_escalated and is_unnecessary",
        measure="minutes_to_resolve",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="mttr_unnecessary_median_business_min", measure="business_minutes_to_resolve"
        ),
    ),
    Metric(
        name="mttr_unnecessary_p90_min",
        label="Time to resolve, unnecessary escalation (90th percentile)",
        description="90th percentile of the minutes to resolve the unnecessary escalations.",
        model="resolved_tickets",
        stat="p90",
        cases="is_escalated and is_unnecessary",
        measure="minutes_to_resolve",
        unit="min",
        direction="lower",
        business=BusinessTwin(
            name="mttr_unnecessary_p90_business_min", measure="business_minutes_to_resolve"
        ),
    ),
    Metric(
        name="mttr_unnecessary_ratio",
        label="Time to resolve, unnecessary escalation vs L1 only (ratio of medians)",
        description="How many times longer an unnecessary escalation takes to resolve than "
        "a ticket L1 kept: the ratio of the two medians.",
        model="resolved_tickets",
        stat="median_ratio",
        cases="is_escalated and is_unnecessary",
        base_cases="entry_tier = 'L1' and highest_tier = 'L1'",
        measure="minutes_to_resolve",
        unit="x",
        direction="lower",
        business=BusinessTwin(
            name="mttr_unnecessary_business_ratio", measure="business_minutes_to_resolve"
        ),
    ),
    Metric(
        name="sla_breach_rate_escalated",
        label="SLA breached, escalated tickets",
        description="Of the escalated tickets with an SLA verdict, the share that breached.",
        model="resolved_tickets",
        stat="rate",
        cases="is_escalated and is_sla_breached is not null",
        numerator="is_sla_breached",
        unit="%",
        direction="lower",
        needs=("sla",),
    ),
    Metric(
        name="sla_breach_rate_not_escalated",
        label="SLA breached, not escalated",
        description="Of the tickets never escalated with an SLA verdict, the share that breached.",
        model="resolved_tickets",
        stat="rate",
        cases="not is_escalated and is_sla_breached is not null",
        numerator="is_sla_breached",
        unit="%",
        direction="lower",
        needs_tiers=False,
        needs=("sla",),
    ),
    Metric(
        name="sla_clock_share_l1",
        label="Breached escalations: clock used at L1",
        description="Of the minutes the escalated tickets that breached spent at any tier, "
        "the share spent at L1.",
        model="resolved_tickets",
        stat="share",
        cases=_BREACHED_ESCALATION,
        numerator="coalesce(minutes_at_l1, 0)",
        denominator=_ALL_TIER_MINUTES,
        unit="%",
        direction="none",
        business=BusinessTwin(
            name="sla_clock_share_business_l1",
            numerator="coalesce(business_minutes_at_l1, 0)",
            denominator=_ALL_TIER_BUSINESS_MINUTES,
            label_suffix="business hours, waits paused",
            note=_PAUSED,
        ),
        needs=("sla",),
    ),
    Metric(
        name="sla_clock_share_l2",
        label="Breached escalations: clock used at L2",
        description="Of the minutes the escalated tickets that breached spent at any tier, "
        "the share spent at L2.",
        model="resolved_tickets",
        stat="share",
        cases=_BREACHED_ESCALATION,
        numerator="coalesce(minutes_at_l2, 0)",
        denominator=_ALL_TIER_MINUTES,
        unit="%",
        direction="none",
        business=BusinessTwin(
            name="sla_clock_share_business_l2",
            numerator="coalesce(business_minutes_at_l2, 0)",
            denominator=_ALL_TIER_BUSINESS_MINUTES,
            label_suffix="business hours, waits paused",
            note=_PAUSED,
        ),
        needs=("sla",),
    ),
    Metric(
        name="sla_clock_share_l3",
        label="Breached escalations: clock used at L3",
        description="Of the minutes the escalated tickets that breached spent at any tier, "
        "the share spent at L3.",
        model="resolved_tickets",
        stat="share",
        cases=_BREACHED_ESCALATION,
        numerator="coalesce(minutes_at_l3, 0)",
        denominator=_ALL_TIER_MINUTES,
        unit="%",
        direction="none",
        business=BusinessTwin(
            name="sla_clock_share_business_l3",
            numerator="coalesce(business_minutes_at_l3, 0)",
            denominator=_ALL_TIER_BUSINESS_MINUTES,
            label_suffix="business hours, waits paused",
            note=_PAUSED,
        ),
        needs=("sla",),
    ),
    Metric(
        name="sla_clock_share_l4",
        label="Breached escalations: clock used at L4",
        description="Of the minutes the escalated tickets that breached spent at any tier, "
        "the share spent at L4.",
        model="resolved_tickets",
        stat="share",
        cases=_BREACHED_ESCALATION,
        numerator="coalesce(minutes_at_l4, 0)",
        denominator=_ALL_TIER_MINUTES,
        unit="%",
        direction="none",
        business=BusinessTwin(
            name="sla_clock_share_business_l4",
            numerator="coalesce(business_minutes_at_l4, 0)",
            denominator=_ALL_TIER_BUSINESS_MINUTES,
            label_suffix="business hours, waits paused",
            note=_PAUSED,
        ),
        needs=("sla",),
    ),
    Metric(
        name="kb_deflection_rate",
        label="KB deflection",
        description="Of the resolved tickets, the share resolved with a knowledge-base article.",
        model="resolved_tickets",
        stat="rate",
        numerator="is_kb_deflected",
        unit="%",
        direction="higher",
        target=Target(green_min=0.40, red_below=0.25, label=">= 40%"),
        needs=("kb_articles",),
    ),
    Metric(
        name="tier_mix_highest_l1",
        label="Highest tier reached: L1",
        description="Of the resolved tickets with a known tier, the share that never went "
        "above L1.",
        model="resolved_tickets",
        stat="rate",
        cases="highest_tier is not null",
        numerator="highest_tier = 'L1'",
        unit="%",
        direction="none",
    ),
    Metric(
        name="tier_mix_highest_l2",
        label="Highest tier reached: L2",
        description="Of the resolved tickets with a known tier, the share whose highest "
        "tier was L2.",
        model="resolved_tickets",
        stat="rate",
        cases="highest_tier is not null",
        numerator="highest_tier = 'L2'",
        unit="%",
        direction="none",
    ),
    Metric(
        name="tier_mix_highest_l3",
        label="Highest tier reached: L3",
        description="Of the resolved tickets with a known tier, the share whose highest "
        "tier was L3.",
        model="resolved_tickets",
        stat="rate",
        cases="highest_tier is not null",
        numerator="highest_tier = 'L3'",
        unit="%",
        direction="none",
    ),
    Metric(
        name="tier_mix_highest_l4",
        label="Highest tier reached: L4",
        description="Of the resolved tickets with a known tier, the share whose highest "
        "tier was L4.",
        model="resolved_tickets",
        stat="rate",
        cases="highest_tier is not null",
        numerator="highest_tier = 'L4'",
        unit="%",
        direction="none",
    ),
    Metric(
        name="tier_mix_resolving_l1",
        label="Resolved at L1",
        description="Of the resolved tickets with a known resolving tier, the share "
        "resolved at L1.",
        model="resolved_tickets",
        stat="rate",
        cases="resolving_tier is not null",
        numerator="resolving_tier = 'L1'",
        unit="%",
        direction="none",
    ),
    Metric(
        name="tier_mix_resolving_l2",
        label="Resolved at L2",
        description="Of the resolved tickets with a known resolving tier, the share "
        "resolved at L2.",
        model="resolved_tickets",
        stat="rate",
        cases="resolving_tier is not null",
        numerator="resolving_tier = 'L2'",
        unit="%",
        direction="none",
    ),
    Metric(
        name="tier_mix_resolving_l3",
        label="Resolved at L3",
        description="Of the resolved tickets with a known resolving tier, the share "
        "resolved at L3.",
        model="resolved_tickets",
        stat="rate",
        cases="resolving_tier is not null",
        numerator="resolving_tier = 'L3'",
        unit="%",
        direction="none",
    ),
    Metric(
        name="tier_mix_resolving_l4",
        label="Resolved at L4",
        description="Of the resolved tickets with a known resolving tier, the share "
        "resolved at L4.",
        model="resolved_tickets",
        stat="rate",
        cases="resolving_tier is not null",
        numerator="resolving_tier = 'L4'",
        unit="%",
        direction="none",
    ),
    Metric(
        name="backlog_open_tickets",
        label="Open tickets (backlog)",
        description="Tickets open now, whatever their week.",
        model="open_tickets",
        stat="count",
        unit="tickets",
        direction="none",
        min_sample=0,
        needs_tiers=False,
    ),
)


def _with_business_twins(declared: tuple[Metric, ...]) -> tuple[Metric, ...]:
    """Each KPI followed by the business-time twin it declares."""
    return tuple(m for wall in declared for m in (wall, wall.business_twin()) if m is not None)


METRICS: tuple[Metric, ...] = _with_business_twins(DECLARED)
