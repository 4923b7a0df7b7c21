-- Data quality: the source statuses the status map does not know. Their events have
-- no status class, and the models skip them when reading the status chain. Read by
-- `tierlens reconcile` and the dashboard's data-quality page.
-- test unique: status_key
-- test not_null: status, n_events

with status_classes as (
    select * from int_status_classes
),

final as (
    select
        status_key,
        example_status as status,
        n_events
    from status_classes
    where status_class is null
)

select * from final
