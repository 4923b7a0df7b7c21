-- The status class (queue, work, wait, resolved, closed, cancelled) of each source
-- status, from the status map: an exact key first, else the longest key with a `*`
-- wildcard ('awaiting *'). Unknown statuses keep a null class and are reported.
-- incremental: lookup status_key -> status_class
-- test unique: status_key
-- test accepted_values: status_class in ('queue', 'work', 'wait', 'resolved', 'closed', 'cancelled')

with events as (
    select * from stg_events
),

status_map as (
    select * from config.status_map
),

statuses as (
    select
        status_key,
        any_value(status) as example_status,
        count(*) as n_events
    from events
    group by status_key
),

matches as (
    select
        statuses.status_key,
        status_map.status_class
    from statuses
    inner join status_map
        on statuses.status_key like replace(status_map.status_key, '*', '%')
    qualify row_number() over (
        partition by statuses.status_key
        order by contains(status_map.status_key, '*'), length(status_map.status_key) desc
    ) = 1
),

final as (
    select
        statuses.status_key,
        statuses.example_status,
        statuses.n_events,
        matches.status_class
    from statuses
    left join matches on matches.status_key = statuses.status_key
)

select * from final
