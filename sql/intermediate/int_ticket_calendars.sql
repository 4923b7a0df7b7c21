-- One row per ticket: the calendar its business time is counted in, the first
-- [[calendar_map]] rule matching its partner, client and priority (a rule matches on
-- the keys it names). clock_calendar is the calendar whose working intervals the
-- clock reads; it is null (wall-clock time) for a ticket no rule matches and for a
-- 24x7 calendar.
-- incremental: by ticket_id
-- test unique: ticket_id
-- test not_null: ticket_id

with tickets as (
    select * from int_tickets
),

rules as (
    select * from config.calendar_rules
),

calendars as (
    select * from config.calendars
),

matches as (
    select
        tickets.ticket_id,
        arg_min(rules.calendar, rules.rule_order) as calendar
    from tickets
    inner join rules
        on (rules.partner is null or rules.partner = tickets.partner)
        and (rules.client is null or rules.client = tickets.client)
        and (rules.priority is null or rules.priority = tickets.priority)
    group by tickets.ticket_id
),

final as (
    select
        tickets.ticket_id,
        matches.calendar,
        case when not calendars.is_always then matches.calendar end as clock_calendar
    from tickets
    left join matches on matches.ticket_id = tickets.ticket_id
    left join calendars on calendars.calendar = matches.calendar
)

select * from final
