-- The cases behind every KPI, one row per (fact, case): a resolved ticket or an
-- escalation of a resolved ticket that is in the fact's denominator, with its 0/1
-- (or minutes) numerator, or the duration it contributes (measure). Any grouping of
-- the KPIs is a group by over this table; see pipelines/metrics.py for the catalogue.
-- Ticket facts carry the ticket's entry group and agent; escalation facts the
-- escalating group and agent.
-- test not_null: fact, ticket_id, partner
-- test expression: numerator is null or denominator is null or numerator <= denominator
-- test expression: measure is null or measure >= 0
-- test relationships: ticket_id -> fct_tickets.ticket_id

with tickets as (
    select * from fct_tickets
),

escalations as (
    select * from fct_escalations
),

resolved as (
    select * from tickets where state = 'resolved'
),

ticket_cases as (
    select
        ticket_id,
        week_start,
        partner,
        client,
        category,
        priority,
        entry_group as group_name,
        entry_agent as agent,
        coalesce(minutes_at_l1, 0) + coalesce(minutes_at_l2, 0)
        + coalesce(minutes_at_l3, 0) + coalesce(minutes_at_l4, 0) as minutes_all_tiers,
        unnest([
            {'fact': 'l1_resolution', 'is_case': entry_tier = 'L1', 'hit': is_l1_resolved, 'measure': null::double},
            {'fact': 'escalation', 'is_case': entry_tier = 'L1', 'hit': is_escalated, 'measure': null},
            {'fact': 'first_contact_resolution', 'is_case': is_first_contact_resolution is not null, 'hit': is_first_contact_resolution, 'measure': null},
            {'fact': 'pingpong', 'is_case': n_handoffs >= 1, 'hit': is_pingpong, 'measure': null},
            {'fact': 'reopen', 'is_case': true, 'hit': is_reopened, 'measure': null},
            {'fact': 'time_to_escalate', 'is_case': minutes_to_escalate is not null, 'hit': null, 'measure': minutes_to_escalate},
            {'fact': 'late_escalation', 'is_case': minutes_to_escalate is not null, 'hit': is_late_escalation, 'measure': null},
            {'fact': 'early_escalation', 'is_case': minutes_to_escalate is not null, 'hit': is_early_escalation, 'measure': null},
            {'fact': 'unnecessary_escalation', 'is_case': is_escalated, 'hit': is_unnecessary, 'measure': null},
            {'fact': 'unnecessary_escalation_rules', 'is_case': is_escalated, 'hit': is_unnecessary_rules, 'measure': null},
            {'fact': 'unnecessary_by_scope', 'is_case': is_escalated, 'hit': is_unnecessary_by_scope, 'measure': null},
            {'fact': 'unnecessary_by_kb', 'is_case': is_escalated, 'hit': is_unnecessary_by_kb, 'measure': null},
            {'fact': 'unnecessary_by_quick_fix', 'is_case': is_escalated, 'hit': is_unnecessary_by_quick_fix, 'measure': null},
            {'fact': 'mttr_l1_only', 'is_case': entry_tier = 'L1' and highest_tier = 'L1', 'hit': null, 'measure': minutes_to_resolve},
            {'fact': 'mttr_escalated', 'is_case': is_escalated, 'hit': null, 'measure': minutes_to_resolve},
            {'fact': 'mttr_bounced_back', 'is_case': is_bounced_back, 'hit': null, 'measure': minutes_to_resolve},
            {'fact': 'mttr_unnecessary', 'is_case': is_escalated and is_unnecessary, 'hit': null, 'measure': minutes_to_resolve},
            {'fact': 'sla_breach_escalated', 'is_case': is_escalated and is_sla_breached is not null, 'hit': is_sla_breached, 'measure': null},
            {'fact': 'sla_breach_not_escalated', 'is_case': not is_escalated and is_sla_breached is not null, 'hit': is_sla_breached, 'measure': null},
            {'fact': 'sla_clock_l1', 'is_case': is_escalated and is_sla_breached, 'hit': null, 'measure': minutes_at_l1},
            {'fact': 'sla_clock_l2', 'is_case': is_escalated and is_sla_breached, 'hit': null, 'measure': minutes_at_l2},
            {'fact': 'sla_clock_l3', 'is_case': is_escalated and is_sla_breached, 'hit': null, 'measure': minutes_at_l3},
            {'fact': 'sla_clock_l4', 'is_case': is_escalated and is_sla_breached, 'hit': null, 'measure': minutes_at_l4},
            {'fact': 'kb_deflection', 'is_case': true, 'hit': is_kb_deflected, 'measure': null},
            {'fact': 'highest_tier_l1', 'is_case': highest_tier is not null, 'hit': highest_tier = 'L1', 'measure': null},
            {'fact': 'highest_tier_l2', 'is_case': highest_tier is not null, 'hit': highest_tier = 'L2', 'measure': null},
            {'fact': 'highest_tier_l3', 'is_case': highest_tier is not null, 'hit': highest_tier = 'L3', 'measure': null},
            {'fact': 'highest_tier_l4', 'is_case': highest_tier is not null, 'hit': highest_tier = 'L4', 'measure': null},
            {'fact': 'resolving_tier_l1', 'is_case': resolving_tier is not null, 'hit': resolving_tier = 'L1', 'measure': null},
            {'fact': 'resolving_tier_l2', 'is_case': resolving_tier is not null, 'hit': resolving_tier = 'L2', 'measure': null},
            {'fact': 'resolving_tier_l3', 'is_case': resolving_tier is not null, 'hit': resolving_tier = 'L3', 'measure': null},
            {'fact': 'resolving_tier_l4', 'is_case': resolving_tier is not null, 'hit': resolving_tier = 'L4', 'measure': null}
        ]) as f
    from resolved
),

ticket_facts as (
    select
        f.fact,
        ticket_id,
        null::varchar as escalation_id,
        week_start,
        partner,
        client,
        category,
        priority,
        group_name,
        agent,
        case
            when f.fact like 'sla_clock_%' then coalesce(f.measure, 0)
            when f.hit is not null then f.hit::double
        end as numerator,
        case
            when f.fact like 'sla_clock_%' then minutes_all_tiers
            when f.hit is not null then 1.0
        end as denominator,
        case when f.fact not like 'sla_clock_%' then f.measure end as measure
    from ticket_cases
    where coalesce(f.is_case, false)
        and (f.fact like 'sla_clock_%' or f.hit is not null or f.measure is not null)
),

backlog_facts as (
    select
        'backlog' as fact,
        ticket_id,
        null::varchar as escalation_id,
        null::date as week_start,
        partner,
        client,
        category,
        priority,
        entry_group as group_name,
        entry_agent as agent,
        1.0 as numerator,
        null::double as denominator,
        null::double as measure
    from tickets
    where state = 'open'
),

escalation_cases as (
    select
        ticket_id,
        escalation_id,
        week_start,
        partner,
        client,
        category,
        priority,
        from_group as group_name,
        escalating_agent as agent,
        unnest([
            {'fact': 'bounceback', 'is_case': true, 'hit': is_bounceback, 'measure': null::double},
            {'fact': 'reescalation', 'is_case': is_l1_to_l2, 'hit': is_reescalation, 'measure': null},
            {'fact': 'tier_skip', 'is_case': is_from_l1, 'hit': is_tier_skip, 'measure': null},
            {'fact': 'handoff_delay', 'is_case': is_picked_up, 'hit': null, 'measure': pickup_minutes},
            {'fact': 'never_picked_up', 'is_case': true, 'hit': is_never_picked_up, 'measure': null},
            {'fact': 'pickup_within_target', 'is_case': pickup_target_minutes is not null and (is_picked_up or is_never_picked_up), 'hit': is_picked_up_within_target, 'measure': null},
            {'fact': 'note_completeness', 'is_case': source_has_notes, 'hit': has_complete_note, 'measure': null}
        ]) as f
    from escalations
),

escalation_facts as (
    select
        f.fact,
        ticket_id,
        escalation_id,
        week_start,
        partner,
        client,
        category,
        priority,
        group_name,
        agent,
        f.hit::double as numerator,
        case when f.hit is not null then 1.0 end as denominator,
        f.measure as measure
    from escalation_cases
    where coalesce(f.is_case, false) and (f.hit is not null or f.measure is not null)
),

final as (
    select * from ticket_facts
    union all
    select * from backlog_facts
    union all
    select * from escalation_facts
)

select * from final
