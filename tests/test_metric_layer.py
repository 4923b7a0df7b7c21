"""The metric layer (pipelines/metrics): declarations are checked, the generated
files are current, and a name that is not declared fails where it is written."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipelines.metrics import (
    METRICS,
    STOCK_METRICS,
    UnknownMetricError,
    for_clock,
    known,
    metric,
)
from pipelines.metrics.catalogue import generate
from pipelines.metrics.declare import Metric
from pipelines.metrics.sql import facts, kpi_facts_sql


def test_generated_files_match_the_registry():
    """sql/marts/kpi_facts.sql, kpi_weekly.sql and the docs catalogue are what
    `make metrics` writes today."""
    assert generate(check=True) == []


def test_every_metric_is_documented_in_the_catalogue_table():
    from pipelines.metrics.catalogue import DOCS_PAGE

    page = DOCS_PAGE.read_text()
    for m in METRICS:
        assert f"| `{m.name}` | {m.label} |" in page


BASE = {
    "name": "x_rate",
    "label": "X",
    "description": "x",
    "model": "resolved_tickets",
    "unit": "%",
    "direction": "none",
}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stat": "rate"}, "a rate needs a numerator"),
        ({"stat": "median", "numerator": "is_x"}, "a median takes no numerator"),
        ({"stat": "p90"}, "a p90 needs a measure"),
        ({"stat": "rate", "numerator": "is_x", "measure": "m"}, "a rate takes no measure"),
        ({"stat": "median", "measure": "m", "base_cases": "true"}, "base_cases is for a"),
        ({"stat": "count", "denominator": "2"}, "a count takes no denominator"),
        ({"stat": "count", "name": "X Rate"}, "is not a snake_case name"),
    ],
)
def test_a_declaration_that_does_not_fit_its_statistic_is_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        Metric(**(BASE | fields))


def test_an_undeclared_name_is_an_error_with_the_closest_name():
    with pytest.raises(UnknownMetricError, match=r"did you mean bounceback_rate\?"):
        known("l1_resolution_rate", "bouncebak_rate")
    assert metric("reopen_rate").stat == "rate"


def test_metrics_over_the_same_cases_share_one_fact():
    by_metric = {(m.name, base): f.name for m, f, base in facts()}
    assert by_metric[("handoff_delay_p90_min", False)] == "handoff_delay_median_min"
    # the ratio reads the facts of the two medians it divides
    assert by_metric[("mttr_unnecessary_ratio", False)] == "mttr_unnecessary_median_min"
    assert by_metric[("mttr_unnecessary_ratio", True)] == "mttr_l1_only_median_min"
    sql = kpi_facts_sql()
    assert sql.count("'fact': 'handoff_delay_median_min'") == 1
    assert "'fact': 'handoff_delay_p90_min'" not in sql


def test_the_backlog_is_the_only_stock():
    assert STOCK_METRICS == ("backlog_open_tickets",)


def test_for_clock_shows_one_clock_of_each_duration():
    names = [
        "escalation_rate",
        "handoff_delay_median_min",
        "handoff_delay_median_business_min",
        "handoff_delay_p90_min",
    ]
    assert for_clock(names, "wall") == [
        "escalation_rate",
        "handoff_delay_median_min",
        "handoff_delay_p90_min",
    ]
    # the p90's twin is not among the names: it stays on the wall clock
    assert for_clock(names, "business") == [
        "escalation_rate",
        "handoff_delay_median_business_min",
        "handoff_delay_p90_min",
    ]


def test_every_duration_kpi_has_a_business_twin():
    durations = [m for m in METRICS if m.clock == "wall" and m.unit in ("min", "x")]
    assert durations and all(m.business is not None for m in durations)
    twins = {m.name: m for m in METRICS if m.wall_twin}
    assert set(twins) == {m.business.name for m in durations} | {
        f"sla_clock_share_business_l{t}" for t in range(1, 5)
    }
    assert all(twins[m.business.name].target == m.target for m in durations)


def test_kpis_on_a_build_from_before_the_metric_layer_ask_for_a_rebuild(tmp_path):
    """A snapshot published by an earlier Tierlens has no kpi_targets: `tierlens kpis`
    says to rebuild, in one line, instead of failing on a missing table."""
    import duckdb

    from pipelines.serving import read_pointer
    from tests.cli_run import one_line_error, tierlens
    from tests.models.timelines import Ev, Ticket, build

    db = tmp_path / "old.duckdb"
    build(
        db, [Ticket("T1", [Ev(0, "SD-L1", "L1", "New"), Ev(5, "SD-L1", "L1", "Resolved")])]
    ).close()
    pointer = read_pointer(db)
    assert pointer is not None
    con = duckdb.connect(str(pointer.snapshot))
    con.execute("drop table analytics.kpi_targets")
    con.close()
    line = one_line_error(tierlens("kpis", "--db", db, cwd=tmp_path))
    assert "made by an earlier Tierlens (no kpi_targets)" in line
    assert f"run `tierlens build --db {db}`" in line


def test_a_kpi_the_exports_cannot_feed_says_what_they_lack():
    from pipelines.metrics import not_measurable
    from pipelines.metrics.declare import SOURCE_NEEDS

    everything = {column: True for column, _ in SOURCE_NEEDS.values()}
    assert all(not_measurable(m.name, everything) is None for m in METRICS)
    no_sla = {**everything, "has_sla": False}
    assert not_measurable("sla_breach_rate_escalated", no_sla) == "no SLA due date or SLA verdict"
    assert not_measurable("escalation_rate", no_sla) is None
    bare = {column: False for column in everything}
    assert not_measurable("kb_deflection_rate", bare) == (
        "no tier: no group matches the tier map and no tier label; "
        "no knowledge-base article on any ticket"
    )
    # the business twin needs what its wall-clock KPI needs
    assert not_measurable("sla_clock_share_business_l2", no_sla) == not_measurable(
        "sla_clock_share_l2", no_sla
    )
