-- One row per escalation of a resolved ticket, with its ticket's dimensions and
-- every escalation-level KPI flag.
-- incremental: by ticket_id
-- test unique: escalation_id
-- test not_null: escalation_id, ticket_id, week_start, partner
-- test relationships: ticket_id -> fct_tickets.ticket_id
-- test expression: not (is_bounceback and is_further_rise)

with escalations as (
    select * from int_escalations
),

tickets as (
    select * from fct_tickets
    where state = 'resolved'
),

capabilities as (
    select * from int_source_capabilities
),

pickup_targets as (
    select * from config.pickup_targets
),

clocks as (
    select * from config.clocks
),

final as (
    select
        escalations.*,
        tickets.week_start,
        tickets.client,
        tickets.category,
        tickets.priority,
        tickets.source,
        escalations.is_l1_to_l2 and escalations.is_further_rise as is_reescalation,
        capabilities.has_notes as source_has_notes,
        pickup_targets.target_minutes as pickup_target_minutes,
        coalesce(
            case clocks.pickup_target_clock
                when 'business' then escalations.business_pickup_minutes
                else escalations.pickup_minutes
            end <= pickup_targets.target_minutes,
            false
        ) as is_picked_up_within_target
    from escalations
    cross join clocks
    inner join tickets on tickets.ticket_id = escalations.ticket_id
    left join capabilities on capabilities.source = tickets.source
    left join pickup_targets on pickup_targets.priority = tickets.priority
)

select * from final
