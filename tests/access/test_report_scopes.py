"""`tierlens report --partner/--client` read the scope's snapshot, as the scope's
dashboard session does, and are in the access log."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.access import audit
from pipelines.config import load_config
from pipelines.presentation.format import fmt_value
from tests.access.conftest import CLIENT, PARTNER, ScopedSample, rows
from tests.cli_run import tierlens


def _names(sample: ScopedSample, sql: str) -> set[str]:
    return {str(r[0]) for r in rows(sample.full, sql) if r[0] is not None}


def test_a_partner_report_names_no_other_partner(scoped_sample: ScopedSample, tmp_path: Path):
    out = tmp_path / "acme.html"
    run = tierlens(
        "report",
        "--db",
        scoped_sample.db,
        "--config",
        scoped_sample.config,
        "--partner",
        PARTNER,
        "--out",
        out,
        cwd=tmp_path,
    )
    assert run.code == 0, run.describe()
    html = out.read_text(encoding="utf-8")
    assert f"partner {PARTNER}" in html
    others = _names(scoped_sample, "select distinct partner from analytics.fct_tickets")
    assert len(others - {PARTNER}) == 3
    for other in others - {PARTNER}:
        assert other not in html, other
    foreign_clients = _names(
        scoped_sample,
        "select client from analytics.fct_tickets group by 1 "
        f"having bool_and(partner <> '{PARTNER}')",
    )
    assert foreign_clients and not [c for c in foreign_clients if c in html]


def test_a_client_report_has_its_tickets_and_no_agent_names(
    scoped_sample: ScopedSample, tmp_path: Path
):
    out = tmp_path / "northwind.html"
    run = tierlens(
        "report",
        "--db",
        scoped_sample.db,
        "--config",
        scoped_sample.config,
        "--client",
        CLIENT,
        "--out",
        out,
        cwd=tmp_path,
    )
    assert run.code == 0, run.describe()
    html = out.read_text(encoding="utf-8")
    assert f"client {CLIENT}" in html
    assert 'id="review"' not in html and 'id="partners"' not in html
    agents = _names(scoped_sample, "select distinct held_agent from analytics.ticket_events")
    groups = _names(scoped_sample, "select distinct group_name from analytics.ticket_events")
    # an agent name that is also a group name is not an agent's alone
    assert agents and not [a for a in agents - groups if a in html]
    clients = _names(scoped_sample, "select distinct client from analytics.fct_tickets")
    assert not [c for c in clients - {CLIENT} if c in html]
    # its figures are the client's: the L1 resolution tile of the report's week
    week, value = rows(
        scoped_sample.full,
        "select week_start, value from analytics.kpi_weekly where dimension = 'client' "
        f"and dimension_value = '{CLIENT}' and metric = 'l1_resolution_rate' "
        "and week_start = (select max(week_start) from analytics.kpi_weekly "
        "where week_start < (select max(week_start) from analytics.kpi_weekly)) ",
    )[0]
    overall = rows(
        scoped_sample.full,
        "select value from analytics.kpi_weekly where dimension = 'overall' "
        f"and metric = 'l1_resolution_rate' and week_start = '{week}'",
    )[0][0]
    tile = re.search(
        r'data-metric="l1_resolution_rate".*?<div class="tl-value">([^<]*)</div>', html, re.S
    )
    assert tile is not None
    assert tile.group(1) == fmt_value(value, "%") != fmt_value(overall, "%")
    log = audit.read_journal(audit.journal_path(scoped_sample.db))
    reports = log.filter(log["event"] == "report")
    assert f"client:{CLIENT}" in reports["scope"].to_list()
    assert str(out) in reports["detail"].to_list()


def test_partner_and_client_together_or_unknown_are_refused(
    scoped_sample: ScopedSample, tmp_path: Path
):
    both = tierlens(
        "report", "--db", scoped_sample.db, "--partner", PARTNER, "--client", CLIENT, cwd=tmp_path
    )
    assert both.code == 2 and "give --partner or --client, not both" in both.err
    unknown = tierlens("report", "--db", scoped_sample.db, "--client", "Nobody", cwd=tmp_path)
    assert unknown.code == 2 and "--client: no client 'Nobody' (known: " in unknown.err
    assert "Traceback" not in both.text + unknown.text


def test_a_client_report_needs_the_pseudonym_key(scoped_sample: ScopedSample, tmp_path: Path):
    config = tmp_path / "tierlens.toml"
    config.write_text(
        scoped_sample.config.read_text().replace(
            str(scoped_sample.key.as_posix()), (tmp_path / "missing.key").as_posix()
        )
    )
    assert load_config(config).access.pseudonym_key_file == tmp_path / "missing.key"
    run = tierlens(
        "report", "--db", scoped_sample.db, "--config", config, "--client", CLIENT, cwd=tmp_path
    )
    assert run.code == 2, run.describe()
    assert "missing.key: cannot read the pseudonym key" in run.err
