"""What DuckDB's parser says a statement reads (sql_parse.py), by hand."""

from __future__ import annotations

import pytest

from pipelines.models.sql_parse import SqlParseError, column_names, cte_names, parse, tables

SQL = """
with a as (select * from fct_tickets join raw.events as e using (ticket_id)),
b as (
    select * from range(3) as r, a
    where a.x in (select y from kpi_targets)
)
select * from b, config.metric_facts as m
left join lateral (select 1 from meta.batches) on true
union all
select * from (with c as (select 1 from other.raw.t) select * from c)
"""


def test_tables_at_any_depth_and_no_table_functions():
    tree = parse(SQL)
    shown = sorted(t.shown for t in tables(tree))
    assert shown == [
        "a",
        "b",
        "c",
        "config.metric_facts",
        "fct_tickets",
        "kpi_targets",
        "meta.batches",
        "other.raw.t",
        "raw.events",
    ]
    assert cte_names(tree) == {"a", "b", "c"}


@pytest.mark.parametrize("sql", ["selec 1", "select 1; select 2", ""])
def test_not_one_statement_is_an_error(sql: str):
    with pytest.raises(SqlParseError):
        parse(sql)


def test_column_names_in_the_order_written():
    assert column_names("n_late > 0 and t.n_all >= n_late + 1") == ["n_late", "n_all"]
    assert column_names("not valid sql (") == []
