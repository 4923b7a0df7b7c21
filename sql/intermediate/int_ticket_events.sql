-- The ticket timeline: events in order (event_at, then seq), each carrying the
-- group, tier and agent holding the ticket after it. A missing group or tier keeps
-- the last known one. A tier comes from the source's label when it is unambiguous,
-- else from the tier map of the group, else from the lowest tier of an ambiguous label.
-- Events after the final resolution are flagged out of scope (is_in_scope = false).
-- A status the status map does not know has no class and is skipped when reading
-- the status chain: prev_status_class is the class of the last known status before
-- the event (Resolved -> unknown -> In Progress is a reopen), last_status_class the
-- last known one, and an unknown status neither ends nor interrupts a resolution.
-- business_clock is the ticket's business clock at the event (see the macro
-- business_clock); business_minutes_held the business minutes until the next event,
-- and is_paused whether the status held then pauses the paused clocks
-- ([clocks] pause_statuses).
-- incremental: by ticket_id
-- test unique: ticket_id, event_index
-- test not_null: ticket_id, event_index, event_at
-- test accepted_values: held_tier in ('L1', 'L2', 'L3', 'L4')
-- test expression: final_resolution_index is null or final_resolution_index <= n_ticket_events

with events as (
    select * from stg_events
),

tickets as (
    select * from int_tickets
),

group_tiers as (
    select * from int_group_tiers
),

status_classes as (
    select * from int_status_classes
),

ticket_calendars as (
    select * from int_ticket_calendars
),

calendar_days as (
    select * from config.calendar_days
),

pause_statuses as (
    select * from config.pause_statuses
),

joined as (
    select
        events.*,
        tickets.partner,
        business_clock(
            events.event_at,
            ticket_calendars.clock_calendar,
            calendar_days.minutes_before,
            calendar_days.starts,
            calendar_days.ends
        ) as business_clock,
        group_tiers.mapped_tier,
        status_classes.status_class,
        case
            when events.tier_from_label is not null and not events.is_tier_label_ambiguous
                then events.tier_from_label
            when group_tiers.mapped_tier is not null then group_tiers.mapped_tier
            else events.tier_from_label
        end as event_tier
    from events
    inner join tickets on tickets.ticket_id = events.ticket_id
    inner join ticket_calendars on ticket_calendars.ticket_id = events.ticket_id
    left join calendar_days
        on calendar_days.calendar = ticket_calendars.clock_calendar
        and calendar_days.day = utc_day(events.event_at)
    left join group_tiers
        on group_tiers.partner = tickets.partner
        and group_tiers.group_name = events.group_name
    left join status_classes on status_classes.status_key = events.status_key
),

-- One pass in timeline order: what is held after each event (the last known value
-- up to it) and before it (up to the event before), the next event, and over the
-- whole timeline the last known status class and which events leave a status
-- other than resolved or closed.
held as (
    select
        *,
        row_number() over ticket_order as event_index,
        count(*) over (partition by ticket_id) as n_ticket_events,
        last_value(group_name ignore nulls) over ticket_so_far as held_group,
        last_value(event_tier ignore nulls) over ticket_so_far as held_tier,
        last_value(agent ignore nulls) over ticket_so_far as held_agent,
        last_value(status_class ignore nulls) over ticket_so_far as held_status_class,
        last_value(group_name ignore nulls) over ticket_before as prev_held_group,
        last_value(event_tier ignore nulls) over ticket_before as prev_held_tier,
        last_value(agent ignore nulls) over ticket_before as prev_held_agent,
        last_value(status_class ignore nulls) over ticket_before as prev_status_class,
        last_value(status_class ignore nulls) over whole_ticket as last_status_class,
        list(coalesce(status_class not in ('resolved', 'closed'), false)) over whole_ticket
            as open_flags,
        lead(event_at) over ticket_order as next_event_at,
        lead(business_clock) over ticket_order as next_business_clock
    from joined
    window
        ticket_order as (partition by ticket_id order by event_at, seq),
        ticket_so_far as (
            partition by ticket_id order by event_at, seq
            rows between unbounded preceding and current row
        ),
        ticket_before as (
            partition by ticket_id order by event_at, seq
            rows between unbounded preceding and 1 preceding
        ),
        whole_ticket as (
            partition by ticket_id order by event_at, seq
            rows between unbounded preceding and unbounded following
        )
),

transitions as (
    select
        *,
        n_ticket_events + 1 - nullif(list_position(list_reverse(open_flags), true), 0)
            as last_open_index
    from held
),

final as (
    select
        ticket_id,
        partner,
        event_index,
        n_ticket_events,
        event_at,
        seq,
        group_name,
        held_group,
        prev_held_group,
        tier_label,
        event_tier,
        held_tier,
        prev_held_tier,
        agent,
        held_agent,
        prev_held_agent,
        status,
        status_key,
        status_class,
        prev_status_class,
        last_status_class,
        note_kind,
        note_text,
        case
            when last_status_class in ('resolved', 'closed') then coalesce(last_open_index, 0) + 1
        end as final_resolution_index,
        event_index <= coalesce(final_resolution_index, n_ticket_events) as is_in_scope,
        coalesce(held_tier <> prev_held_tier, false) as is_tier_change,
        coalesce(tier_rank(held_tier) > tier_rank(prev_held_tier), false) as is_tier_rise,
        coalesce(tier_rank(held_tier) < tier_rank(prev_held_tier), false) as is_tier_drop,
        coalesce(held_group <> prev_held_group, false) as is_handoff,
        coalesce(
            prev_status_class in ('resolved', 'closed') and status_class in ('queue', 'work', 'wait'),
            false
        ) as is_reopen,
        case
            when event_index < coalesce(final_resolution_index, n_ticket_events)
                then minutes_between(event_at, next_event_at)
            else 0
        end as minutes_held,
        business_clock,
        case
            when event_index < coalesce(final_resolution_index, n_ticket_events)
                then next_business_clock - business_clock
            else 0
        end as business_minutes_held,
        coalesce(
            held_status_class in (select status_class from pause_statuses), false
        ) as is_paused,
        batch_id,
        source_line
    from transitions
)

select * from final
