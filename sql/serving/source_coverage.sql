-- What the loaded exports can measure, by week and by the dimensions the dashboard
-- filters on: whether the tickets' sources carry tiers (a tier label or a group the
-- tier map knows), first-contact signals, KB articles, SLA verdicts and escalation
-- notes (int_source_capabilities). A KPI whose need no filtered row meets is "not
-- measurable from this source", which the dashboard says instead of "no cases"
-- (pipelines/metrics: Metric.needs).
-- test unique: week_start, partner, client, category, priority, group_name
-- test not_null: week_start, partner, client, category, priority, group_name, n_tickets, has_tiers, has_first_contact, has_kb_articles, has_sla, has_notes
-- test expression: n_tickets > 0

with tickets as (
    select * from fct_tickets
    where state = 'resolved'
),

capabilities as (
    select * from int_source_capabilities
),

final as (
    select
        tickets.week_start,
        tickets.partner,
        coalesce(tickets.client, '(none)') as client,
        coalesce(tickets.category, '(none)') as category,
        coalesce(tickets.priority, '(none)') as priority,
        coalesce(tickets.entry_group, '(none)') as group_name,
        count(*) as n_tickets,
        bool_or(tickets.highest_tier is not null) as has_tiers,
        bool_or(tickets.has_first_contact_signal) as has_first_contact,
        bool_or(tickets.source_has_kb_articles) as has_kb_articles,
        bool_or(tickets.is_sla_breached is not null) as has_sla,
        bool_or(coalesce(capabilities.has_notes, false)) as has_notes
    from tickets
    left join capabilities on capabilities.source = tickets.source
    group by all
)

select * from final
