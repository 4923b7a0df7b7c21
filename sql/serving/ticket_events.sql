-- The ticket timeline the dashboard's timeline and review pages show: the events of
-- every published ticket in order, with the columns those pages read (a trimmed
-- int_ticket_events: no partner, seq, labels, previous values or lineage).
-- incremental: by ticket_id
-- test unique: ticket_id, event_index
-- test not_null: ticket_id, event_index, event_at, is_in_scope, minutes_held
-- test relationships: ticket_id -> fct_tickets.ticket_id
-- test expression: minutes_held >= 0
-- test expression: business_minutes_held between 0 and minutes_held + 1e-6
-- test expression: is_tier_change = (is_tier_rise or is_tier_drop)
-- test expression: not (is_tier_rise and is_tier_drop)

with events as (
    select * from int_ticket_events
),

final as (
    select
        ticket_id,
        event_index,
        event_at,
        group_name,
        held_group,
        held_tier,
        held_agent,
        status,
        status_class,
        note_kind,
        note_text,
        is_in_scope,
        is_handoff,
        is_tier_change,
        is_tier_rise,
        is_tier_drop,
        is_reopen,
        minutes_held,
        business_minutes_held,
        is_paused
    from events
)

select * from final
