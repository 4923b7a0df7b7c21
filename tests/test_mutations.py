"""Mutation check: the KPI tests bite. Each test here breaks one thing on purpose, in a
copy of sql/ or in a generated tierlens.toml, runs the real build on the hand-made
timelines of tests/models, and shows that the figures the real tests assert change:
the same assertions would fail. A copy that is not broken passes them all (the
controls), so a failure below is the mutation's doing.

Mutations tried, and the assertions of the real suite that catch each one:

1. KPI numerator (the declaration in pipelines/metrics/registry.py, through the
   generated kpi_facts model): escalation_rate counts "not resolved by L1 alone"
   instead of "escalated", so a reopened L1 ticket counts as escalated.
   Caught: escalation_rate 7/8 instead of 6/8 (test_kpis_handmade.py::test_rates).
2. Status-class rule (sql/intermediate/int_ticket_events.sql): a reopen is resolved
   -> queue or wait only, forgetting work. Caught: reopen_rate 0/9 instead of 1/9 and
   l1_resolution_rate 2/8 instead of 1/8 (test_rates).
3. Status map (a generated tierlens.toml restating the default `assigned = queue`):
   `assigned` becomes work, so an escalation is "picked up" the moment it lands in a
   queue. Caught: handoff delays and the never-picked-up rate (test_durations,
   test_rates).
4. Default target (a generated tierlens.toml restating every default target):
   escalation_rate's red line moves from 30% to 80%. Caught: escalation_rate amber
   instead of red (test_kpi_targets_handmade.py).
5. SLA rule (sql/marts/fct_tickets.sql): a ticket resolved exactly at its due time
   counts as breached. Caught: sla_breach_rate_escalated 3/4 instead of 2/4 and the
   clock shares (test_sla_handmade.py).

Known gap: moving the green edge of a target whose KPI is red on these timelines
(escalation_rate's 20%, say) changes no status here, so no test sees it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.config import Config, load_config
from pipelines.metrics import METRICS, metric
from pipelines.metrics.sql import kpi_facts_sql
from pipelines.models.runner import run_build
from pipelines.sql_files import SQL_DIR
from tests.models import (
    test_kpi_targets_handmade as targets_test,
    test_kpis_handmade as handmade_test,
    test_sla_handmade as sla_test,
)
from tests.models.timelines import kpi, load


def parametrized(test) -> list[tuple]:
    """The cases of a test's @pytest.mark.parametrize: the real tests' own expectations."""
    (mark,) = [m for m in test.pytestmark if m.name == "parametrize"]
    return list(mark.args[1])


def sql_copy(tmp_path: Path, file: str = "", before: str = "", after: str = "") -> Path:
    """A copy of sql/, with `before` replaced by `after` in `file` (exactly once)."""
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    if file:
        path = sql_dir / file
        text = path.read_text()
        assert text.count(before) == 1, f"{file}: the mutation must match once: {before!r}"
        path.write_text(text.replace(before, after))
    return sql_dir


def handmade_failures(tmp_path: Path, sql_dir: Path, config: Config) -> set[str]:
    """Build test_kpis_handmade's timelines (min_sample 1, so every target judges) and
    return the metrics whose value, numerator, denominator or status differ from what
    test_rates, test_durations and test_kpi_targets_handmade assert."""
    db = tmp_path / "handmade.duckdb"
    load(db, handmade_test.handmade())
    run_build(db, config.model_copy(update={"min_sample": 1}), sql_dir=sql_dir)
    con = duckdb.connect(str(db), read_only=True)
    try:
        failed = {
            metric
            for metric, num, den in parametrized(handmade_test.test_rates)
            if kpi(con, metric) != pytest.approx((num, den, num / den))
        }
        failed |= {
            metric
            for metric, value in parametrized(handmade_test.test_durations)
            if kpi(con, metric)[2] != pytest.approx(value)
        }
    finally:
        con.close()
    judged = targets_test.judged(db)
    failed |= {
        f"{metric} status"
        for metric, (value, target, status) in targets_test.EXPECTED.items()
        if judged.get(metric) != (pytest.approx(value), target, status)
    }
    return failed


def sla_failures(tmp_path: Path, sql_dir: Path) -> set[str]:
    """Build test_sla_handmade's timelines; the SLA metrics that differ from its EXPECTED."""
    con = sla_test.build_sla(tmp_path / "sla.duckdb", sql_dir=sql_dir)
    try:
        return {
            metric
            for metric, (num, den) in sla_test.EXPECTED.items()
            if kpi(con, metric) != pytest.approx((num, den, num / den))
        }
    finally:
        con.close()


def default_config_toml() -> str:
    """A tierlens.toml that restates the default targets and `assigned` = queue."""
    lines = ['[status_map]\n"assigned" = "queue"\n']
    for name, target in Config().targets.items():
        lines.append(f"[targets.{name}]")
        for key, value in target.model_dump().items():
            if value is not None:
                lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def config_from(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "tierlens.toml"
    path.write_text(text)
    return load_config(path)


def test_controls_pass_every_assertion(tmp_path):
    """Unbroken copies: sql/ copied and the generated configuration restating the
    defaults give exactly the figures the real tests assert."""
    sql_dir = sql_copy(tmp_path)
    config = config_from(tmp_path, default_config_toml())
    assert config == Config()
    assert handmade_failures(tmp_path, sql_dir, config) == set()
    assert sla_failures(tmp_path, sql_dir) == set()


def test_mutated_numerator_is_caught(tmp_path):
    declared = metric("escalation_rate")
    assert declared.numerator == "is_escalated"
    mutated = tuple(
        m.model_copy(update={"numerator": "not is_l1_resolved"}) if m is declared else m
        for m in METRICS
    )
    sql_dir = sql_copy(tmp_path)
    (sql_dir / "marts" / "kpi_facts.sql").write_text(kpi_facts_sql(mutated))
    failed = handmade_failures(tmp_path, sql_dir, Config())
    assert failed == {"escalation_rate", "escalation_rate status"}


def test_mutated_reopen_rule_is_caught(tmp_path):
    sql_dir = sql_copy(
        tmp_path,
        "intermediate/int_ticket_events.sql",
        "and status_class in ('queue', 'work', 'wait'),",
        "and status_class in ('queue', 'wait'),",
    )
    failed = handmade_failures(tmp_path, sql_dir, Config())
    assert {"reopen_rate", "l1_resolution_rate"} <= failed


def test_mutated_status_map_is_caught(tmp_path):
    text = default_config_toml()
    config = config_from(tmp_path, text.replace('"assigned" = "queue"', '"assigned" = "work"'))
    failed = handmade_failures(tmp_path, sql_copy(tmp_path), config)
    assert {"handoff_delay_median_min", "never_picked_up_rate"} <= failed


def test_mutated_default_target_is_caught(tmp_path):
    text = default_config_toml()
    section = "[targets.escalation_rate]\ngreen_max = 0.2\nred_above = 0.3\n"
    assert text.count(section) == 1
    config = config_from(tmp_path, text.replace(section, section.replace("0.3", "0.8")))
    failed = handmade_failures(tmp_path, sql_copy(tmp_path), config)
    assert failed == {"escalation_rate status"}


def test_mutated_sla_rule_is_caught(tmp_path):
    sql_dir = sql_copy(
        tmp_path,
        "marts/fct_tickets.sql",
        "then resolved_at > sla_due_at",
        "then resolved_at >= sla_due_at",
    )
    assert "sla_breach_rate_escalated" in sla_failures(tmp_path, sql_dir)
