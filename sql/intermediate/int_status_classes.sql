-- The status class (queue, work, wait, resolved, closed, cancelled) of each source
-- status, from the status map. Unknown statuses keep a null class and are reported.
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

final as (
    select
        statuses.status_key,
        statuses.example_status,
        statuses.n_events,
        status_map.status_class
    from statuses
    left join status_map on status_map.status_key = statuses.status_key
)

select * from final
