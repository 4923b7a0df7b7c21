-- Data quality: the source's own counters against the ones Tierlens derives from the
-- timeline, one row per ticket and counter. reported is the source's count
-- (ServiceNow's reassignment_count, reopen_count; null when the export has none),
-- derived_all the count over the ticket's whole timeline (what such a counter
-- counts), derived_in_scope up to the final resolution (what the KPIs use).
-- is_measurable: the ticket's events are a history that can show the changes (a
-- plain incident list, one row per incident, cannot); a ticket that is not is
-- never counted as agreeing or disagreeing. `tierlens reconcile` and the
-- dashboard's data-quality page both read this table (pipelines/data_quality.py).
-- incremental: by ticket_id
-- test unique: ticket_id, counter
-- test not_null: ticket_id, source, counter, derived_all, derived_in_scope, is_measurable
-- test accepted_values: counter in ('reassignments', 'reopens')
-- test expression: derived_all >= derived_in_scope
-- test relationships: ticket_id -> fct_tickets.ticket_id

with tickets as (
    select * from fct_tickets
),

counters as (
    select
        ticket_id,
        source,
        partner,
        client,
        category,
        priority,
        entry_group,
        unnest([
            {
                'counter': 'reassignments',
                'reported': reported_reassignment_count,
                'derived_all': n_handoffs_all,
                'derived_in_scope': n_handoffs,
                'is_measurable': can_count_reassignments
            },
            {
                'counter': 'reopens',
                'reported': reported_reopen_count,
                'derived_all': n_reopens_all,
                'derived_in_scope': n_reopens,
                'is_measurable': can_count_reopens
            }
        ]) as c
    from tickets
),

final as (
    select
        ticket_id,
        source,
        partner,
        client,
        category,
        priority,
        entry_group,
        c.counter,
        c.reported,
        c.derived_all,
        c.derived_in_scope,
        c.is_measurable,
        c.is_measurable and c.reported is not null and c.reported = c.derived_all
            as agrees_all,
        c.is_measurable and c.reported is not null and c.reported = c.derived_in_scope
            as agrees_in_scope
    from counters
)

select * from final
