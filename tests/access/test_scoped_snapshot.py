"""Scoped serving snapshots hold only their scope's rows, and their figures are the
full build's figures for that partner or client (worked out by the full build's own
grouping, not by the scoped code)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import duckdb
import pytest

from pipelines.access.pseudonyms import read_key
from pipelines.access.scopes import Scope
from pipelines.access.settings import Access
from pipelines.access.snapshot import _where, ensure_scoped, scoped_path
from pipelines.config import load_config
from tests.access.conftest import CLIENT, PARTNER, ScopedSample, rows

KPI = "metric, week_start, value, numerator, denominator, ci_low, ci_high, target, status"


def _access(sample: ScopedSample) -> Access:
    return load_config(sample.config).access


def _scoped(sample: ScopedSample, scope: Scope) -> Path:
    path = scoped_path(sample.full, scope, _access(sample))
    assert path.exists(), "the build publishes a snapshot for every scope in use"
    return path


def _tables(path: Path) -> dict[str, list[str]]:
    return {
        f"{s}.{t}": list(cols)
        for s, t, cols in rows(
            path,
            "select table_schema, table_name, list(column_name order by ordinal_position) "
            "from information_schema.columns where table_catalog = current_database() "
            "group by all",
        )
    }


@pytest.mark.parametrize(
    ("scope", "column"),
    [(Scope("partner", PARTNER), "partner"), (Scope("client", CLIENT), "client")],
)
def test_every_row_belongs_to_the_scope(scoped_sample: ScopedSample, scope: Scope, column: str):
    path = _scoped(scoped_sample, scope)
    tickets = {r[0] for r in rows(path, "select ticket_id from analytics.fct_tickets")}
    expected = {
        r[0]
        for r in rows(
            scoped_sample.full,
            f"select ticket_id from analytics.fct_tickets where {column} = '{scope.name}'",
        )
    }
    assert tickets == expected and tickets
    for table, cols in _tables(path).items():
        if column in cols:
            values = {r[0] for r in rows(path, f"select distinct {column} from {table}")}
            assert values <= {scope.name, None}, (table, values)
        if "ticket_id" in cols:
            found = {r[0] for r in rows(path, f"select distinct ticket_id from {table}")}
            assert found <= tickets, table
    for table in (
        "meta.batches",
        "meta.rejects",
        "meta.notices",
        "meta.quarantine",
        "meta.access_log",
        "analytics.dq_unknown_statuses",
    ):
        assert rows(path, f"select count(*) from {table}") == [(0,)], table


def test_no_other_partner_is_named_anywhere(scoped_sample: ScopedSample):
    """Every text cell of the partner's file, config tables included (the config names
    Initech in partner_targets, Globex in tier_map, Umbrella in calendar_map)."""
    path = _scoped(scoped_sample, Scope("partner", PARTNER))
    others = [
        r[0] for r in rows(scoped_sample.full, "select distinct partner from analytics.fct_tickets")
    ]
    others = [p for p in others if p != PARTNER]
    assert len(others) == 3
    con = duckdb.connect(str(path), read_only=True)
    try:
        text_columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() and data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column in text_columns:
            for other in others:
                hits = con.execute(
                    f'select count(*) from {schema}."{table}" where "{column}" ilike ?',
                    [f"%{other}%"],
                ).fetchall()[0][0]
                assert hits == 0, f"{schema}.{table}.{column} names {other}"
    finally:
        con.close()
    # and the full snapshot does name them in those config tables: the check can fail
    assert (
        rows(scoped_sample.full, "select count(*) from config.targets where partner = 'Initech'")[
            0
        ][0]
        > 0
    )
    assert (
        rows(scoped_sample.full, "select count(*) from config.tier_rules where partner = 'Globex'")[
            0
        ][0]
        > 0
    )


@pytest.mark.parametrize(
    ("scope", "dimension"),
    [(Scope("partner", PARTNER), "partner"), (Scope("client", CLIENT), "client")],
)
def test_the_scopes_overall_kpis_are_the_full_builds_kpis_for_it(
    scoped_sample: ScopedSample, scope: Scope, dimension: str
):
    path = _scoped(scoped_sample, scope)
    scoped = rows(
        path,
        f"select {KPI} from analytics.kpi_weekly where dimension = 'overall' "
        "order by metric, week_start",
    )
    full = rows(
        scoped_sample.full,
        f"select {KPI} from analytics.kpi_weekly where dimension = '{dimension}' "
        f"and dimension_value = '{scope.name}' order by metric, week_start",
    )
    assert len(scoped) > 100
    # targets too: the partner's own (or the defaults, for a client) in both builds
    assert scoped == full


def test_client_agents_are_keyed_pseudonyms(scoped_sample: ScopedSample):
    path = _scoped(scoped_sample, Scope("client", CLIENT))
    key = read_key(_access(scoped_sample).pseudonym_key_file)
    full_agents = rows(
        scoped_sample.full,
        "select dimension_value, metric, week_start, numerator, denominator "
        "from analytics.kpi_weekly where dimension = 'agent' and metric = 'escalation_rate'",
    )
    # the full build's agent rows cover every client: compare on the client's own facts
    facts_full = rows(
        scoped_sample.full,
        f"select agent, count(*) from analytics.kpi_facts where client = '{CLIENT}' "
        "and agent is not null group by 1",
    )
    facts_scoped = dict(
        rows(
            path,
            "select agent, count(*) from analytics.kpi_facts where agent is not null group by 1",
        )
    )
    assert full_agents and facts_full
    for name, n in facts_full:
        alias = "Agent " + hmac.new(key, name.encode(), hashlib.sha256).hexdigest()[:10].upper()
        assert facts_scoped.get(alias) == n, name
    # no real agent name left in any text cell
    names = {
        r[0]
        for r in rows(
            scoped_sample.full,
            "select distinct held_agent from analytics.ticket_events where held_agent is not null",
        )
    }
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute(
            "create temp table names as select unnest($n::varchar[]) as name", {"n": sorted(names)}
        )
        for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() and data_type = 'VARCHAR' "
            "and table_schema <> 'temp'"
        ).fetchall():
            hits = con.execute(
                f'select count(*) from {schema}."{table}" where "{column}" in '
                "(select name from names)"
            ).fetchall()[0][0]
            assert hits == 0, f"{schema}.{table}.{column} holds an agent's name"
    finally:
        con.close()


def test_peers_are_the_other_partners_without_names(scoped_sample: ScopedSample):
    path = _scoped(scoped_sample, Scope("partner", PARTNER))
    peers = rows(
        path,
        "select metric, week_start, value, numerator, denominator "
        "from analytics.peer_kpis order by all",
    )
    full = rows(
        scoped_sample.full,
        "select metric, week_start, value, numerator, denominator from analytics.kpi_weekly "
        f"where dimension = 'partner' and dimension_value <> '{PARTNER}' order by all",
    )
    assert peers == full and peers
    cols = _tables(path)["analytics.peer_kpis"]
    assert not {"partner", "dimension_value"} & set(cols)


def test_a_table_nobody_classified_stays_empty():
    assert (
        _where("analytics", "a_new_mart", ["week_start", "value"], Scope("partner", "A")) == "false"
    )


def test_a_scope_added_after_the_build_is_made_on_first_use(
    scoped_sample: ScopedSample, tmp_path: Path
):
    access = _access(scoped_sample)
    scope = Scope("partner", "Globex")
    made = ensure_scoped(scoped_sample.full, scope, access)
    try:
        assert made != scoped_sample.full and made.exists()
        assert rows(made, "select distinct partner from analytics.fct_tickets") == [("Globex",)]
        again = ensure_scoped(scoped_sample.full, scope, access)
        assert again == made
    finally:
        made.unlink()


def test_a_new_key_makes_new_pseudonyms(scoped_sample: ScopedSample, tmp_path: Path):
    other = tmp_path / "other.key"
    other.write_text("another-key-of-enough-length-0123456789\n")
    access = _access(scoped_sample)
    changed = access.model_copy(update={"pseudonym_key_file": other})
    scope = Scope("client", CLIENT)
    assert scoped_path(scoped_sample.full, scope, changed) != scoped_path(
        scoped_sample.full, scope, access
    )
    assert scoped_path(scoped_sample.full, Scope("partner", PARTNER), changed) == scoped_path(
        scoped_sample.full, Scope("partner", PARTNER), access
    )
