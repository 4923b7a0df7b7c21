-- One row per escalation (a rise in tier), with what happened next: the next tier
-- change, the pickup in the receiving tier and the escalation note written for it.
-- incremental: by ticket_id
-- test unique: escalation_id
-- test not_null: escalation_id, ticket_id, from_tier, to_tier, escalated_at
-- test expression: tier_rank(to_tier) > tier_rank(from_tier)
-- test expression: pickup_minutes is null or pickup_minutes >= 0
-- test expression: business_pickup_minutes is null or business_pickup_minutes between 0 and pickup_minutes + 1e-6
-- test expression: not (is_picked_up and is_never_picked_up)

with changes as (
    select * from int_tier_changes
),

events as (
    select * from int_ticket_events
    where is_in_scope
),

note_sections as (
    select * from config.note_sections
),

escalations as (
    select
        ticket_id || '#' || event_index as escalation_id,
        ticket_id,
        partner,
        event_index,
        event_at as escalated_at,
        business_clock as escalated_business_clock,
        from_tier,
        to_tier,
        from_group,
        to_group,
        from_agent as escalating_agent,
        prev_change_index,
        next_change_index,
        next_change_at,
        next_to_tier,
        coalesce(next_change_index, n_ticket_events + 1) as receiving_end_index,
        row_number() over (partition by ticket_id order by event_index) as escalation_number
    from changes
    where is_tier_rise
),

pickups as (
    select
        escalations.escalation_id,
        min(events.event_at) as picked_up_at,
        -- the clock never runs backwards: the first event's reading is the smallest
        min(events.business_clock) as picked_up_business_clock
    from escalations
    inner join events
        on events.ticket_id = escalations.ticket_id
        and events.event_index >= escalations.event_index
        and events.event_index < escalations.receiving_end_index
        and coalesce(events.status_class, 'unknown') <> 'queue'
    group by escalations.escalation_id
),

notes_before as (
    select
        escalations.escalation_id,
        string_agg(
            case when events.note_kind = 'escalation' then events.note_text end, chr(10)
        ) as escalation_note,
        bool_or(events.note_kind = 'internal' and events.note_text is not null)
            as has_internal_note
    from escalations
    inner join events
        on events.ticket_id = escalations.ticket_id
        and events.event_index <= escalations.event_index
        and events.event_index > coalesce(escalations.prev_change_index, 0)
    group by escalations.escalation_id
),

note_checks as (
    select
        notes_before.escalation_id,
        bool_and(contains(lower(notes_before.escalation_note), note_sections.section_key))
            as has_every_section
    from notes_before
    cross join note_sections
    where notes_before.escalation_note is not null
    group by notes_before.escalation_id
),

final as (
    select
        escalations.* exclude (receiving_end_index),
        escalations.from_tier = 'L1' as is_from_l1,
        escalations.from_tier = 'L1' and escalations.to_tier = 'L2' as is_l1_to_l2,
        coalesce(tier_rank(escalations.next_to_tier) < tier_rank(escalations.to_tier), false)
            as is_bounceback,
        coalesce(tier_rank(escalations.next_to_tier) > tier_rank(escalations.to_tier), false)
            as is_further_rise,
        escalations.from_tier = 'L1' and tier_rank(escalations.to_tier) >= 3 as is_tier_skip,
        pickups.picked_up_at,
        minutes_between(escalations.escalated_at, pickups.picked_up_at) as pickup_minutes,
        pickups.picked_up_business_clock,
        pickups.picked_up_business_clock - escalations.escalated_business_clock
            as business_pickup_minutes,
        pickups.picked_up_at is not null as is_picked_up,
        pickups.picked_up_at is null and escalations.next_change_index is not null
            as is_never_picked_up,
        notes_before.escalation_note,
        notes_before.escalation_note is not null as has_escalation_note,
        coalesce(note_checks.has_every_section, false) as has_complete_note,
        coalesce(notes_before.has_internal_note, false) as has_internal_note
    from escalations
    left join pickups on pickups.escalation_id = escalations.escalation_id
    left join notes_before on notes_before.escalation_id = escalations.escalation_id
    left join note_checks on note_checks.escalation_id = escalations.escalation_id
)

select * from final
