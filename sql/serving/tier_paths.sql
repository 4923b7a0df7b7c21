-- The tier paths of resolved tickets, counted by week and by the dimensions the
-- dashboard filters on (the paths themselves: ticket_paths). Each resolved ticket
-- with a tier counts once. The escalation-flow page and the report sum n_tickets
-- over the filtered rows.
-- test unique: week_start, partner, client, category, priority, group_name, path
-- test not_null: week_start, partner, client, category, priority, group_name, path, n_steps, n_tickets
-- test expression: n_steps between 1 and 8 and n_tickets > 0

with paths as (
    select * from ticket_paths
),

final as (
    select
        week_start,
        partner,
        client,
        category,
        priority,
        group_name,
        path,
        n_steps,
        count(*) as n_tickets
    from paths
    group by all
)

select * from final
