-- The escalations a weekly review can sample from: one row per escalation of a
-- resolved ticket, with the reasons it looks suspicious. Suspicious escalations are
-- over-sampled by `tierlens review sample` (and weighted back).
-- incremental: by ticket_id
-- test unique: escalation_id
-- test not_null: escalation_id, ticket_id, week_start, partner, is_suspicious
-- test relationships: escalation_id -> fct_escalations.escalation_id
-- test expression: is_suspicious = (suspicion_reasons <> '')

with escalations as (
    select * from fct_escalations
),

tickets as (
    select * from fct_tickets
),

flags as (
    select
        escalations.escalation_id,
        escalations.ticket_id,
        escalations.week_start,
        escalations.partner,
        coalesce(escalations.category, '(none)') as category,
        escalations.priority,
        escalations.from_tier,
        escalations.to_tier,
        escalations.from_group,
        escalations.to_group,
        escalations.escalating_agent,
        escalations.escalated_at,
        coalesce(tickets.is_unnecessary_rules, false) as is_rule_unnecessary,
        escalations.is_bounceback,
        escalations.is_never_picked_up
        or coalesce(escalations.pickup_minutes > escalations.pickup_target_minutes, false)
            as is_late_pickup,
        coalesce(escalations.source_has_notes and not escalations.has_complete_note, false)
            as is_incomplete_note,
        escalations.escalation_number = 1 and coalesce(tickets.is_early_escalation, false)
            as is_very_early,
        escalations.escalation_number = 1 and coalesce(tickets.is_late_escalation, false)
            as is_very_late
    from escalations
    inner join tickets on tickets.ticket_id = escalations.ticket_id
),

final as (
    select
        *,
        concat_ws(
            ', ',
            case when is_rule_unnecessary then 'unnecessary by rules' end,
            case when is_bounceback then 'bounced back' end,
            case when is_late_pickup then 'picked up late' end,
            case when is_incomplete_note then 'incomplete note' end,
            case when is_very_early then 'escalated very early' end,
            case when is_very_late then 'escalated very late' end
        ) as suspicion_reasons,
        is_rule_unnecessary or is_bounceback or is_late_pickup or is_incomplete_note
        or is_very_early or is_very_late as is_suspicious
    from flags
)

select * from final
