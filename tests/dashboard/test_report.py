"""`tierlens report`: a self-contained page with every section, opened in headless
Chromium with no console error, printed to PDF, and the friendly errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from pipelines.cli import app
from pipelines.report.build import write_report
from tests.cli_run import tierlens

from .conftest import ACCESS_TEXT, KB_ARTICLE
from .test_browser import _require_browser

SECTIONS = ("scorecard", "trends", "partners", "flow", "review", "actions")
ALL_DRAWN = (
    "() => document.querySelectorAll('.plotly-graph-div').length > 0 && "
    "document.querySelectorAll('.plotly-graph-div:not(.js-plotly-plot)').length === 0"
)


@pytest.fixture(scope="module")
def report_file(reviewed_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "week.html"
    result = write_report(reviewed_db, None, out=out)
    assert result.path == out
    return out


@contextmanager
def open_report(path: Path) -> Iterator[tuple[Any, list[str]]]:
    """(page, errors): the report in headless Chromium, every chart drawn, with the
    console errors and page errors collected."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 900, "height": 1200})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function(ALL_DRAWN, timeout=60_000)
        try:
            yield page, errors
        finally:
            browser.close()


def test_report_is_one_self_contained_file(report_file: Path):
    text = report_file.read_text(encoding="utf-8")
    assert text.count("* plotly.js v") == 1  # the bundle's banner: embedded once
    assert not re.search(r"<script[^>]*\ssrc=", text)
    assert not re.search(r"<link[^>]*href=\"?https?:", text)
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in text
    assert "@page { size: A4" in text
    assert not list(report_file.parent.glob(".*.tmp"))  # written atomically


def test_report_shows_the_review_and_its_actions(report_file: Path):
    text = report_file.read_text(encoding="utf-8")
    actions = text[text.index('<section id="actions">') :]
    assert KB_ARTICLE in actions and ACCESS_TEXT in actions
    review = text[text.index('<section id="review">') : text.index('<section id="actions">')]
    assert "Reviewed (weighted sample)" in review and "2 of " in review


@pytest.mark.browser
def test_report_opens_in_chromium_without_errors(report_file: Path):
    _require_browser()
    with open_report(report_file) as (page, errors):
        for anchor in SECTIONS:
            assert page.locator(f"section#{anchor}").is_visible(), anchor
        assert page.locator(".js-plotly-plot").count() >= 5
        assert page.locator("#scorecard .tl-tile").count() >= 8
        assert KB_ARTICLE in page.locator("#actions").inner_text()
        assert errors == []


@pytest.mark.browser
def test_report_prints_to_pdf(reviewed_db: Path, tmp_path: Path):
    _require_browser()
    out = tmp_path / "week.pdf"
    write_report(reviewed_db, None, out=out, fmt="pdf")
    assert out.read_bytes()[:5] == b"%PDF-"


@pytest.mark.browser
def test_report_prints_to_a_relative_pdf_path(reviewed_db: Path, tmp_path: Path):
    """`tierlens report --format pdf --out r.pdf` as the README shows it, from the
    folder the user is in (a relative path once failed with a traceback)."""
    _require_browser()
    run = tierlens(
        "report",
        "--db",
        reviewed_db,
        "--format",
        "pdf",
        "--out",
        "r.pdf",
        cwd=tmp_path,
        timeout=180,
    )
    assert run.code == 0, run.describe()
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    assert list(tmp_path.iterdir()) == [tmp_path / "r.pdf"]  # no work folder left behind


def test_partner_report_names_no_other_partner(reviewed_db: Path, tmp_path: Path, snap_con):
    partners = [
        r[0]
        for r in snap_con.execute(
            "select distinct partner from analytics.fct_tickets order by 1"
        ).fetchall()
    ]
    out = tmp_path / "partner.html"
    write_report(reviewed_db, None, partner=partners[0], out=out)
    text = out.read_text(encoding="utf-8")
    body = text[text.index('<section id="scorecard">') :]
    assert partners[0] in text
    for other in partners[1:]:
        assert other not in body, other


def test_cli_report_and_friendly_errors(reviewed_db: Path, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "cli.html"
    ok = runner.invoke(app, ["report", "--db", str(reviewed_db), "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "wrote the report" in ok.output and out.exists()
    missing = runner.invoke(app, ["report", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "tierlens build" in missing.output
    early = runner.invoke(app, ["report", "--db", str(reviewed_db), "--week", "1999-W01"])
    assert early.exit_code == 2 and "no resolved tickets in the week" in early.output
    nobody = runner.invoke(app, ["report", "--db", str(reviewed_db), "--partner", "Nobody"])
    assert nobody.exit_code == 2 and "no partner 'Nobody'" in nobody.output
    fmt = runner.invoke(app, ["report", "--db", str(reviewed_db), "--format", "docx"])
    assert fmt.exit_code == 2 and "html or pdf" in fmt.output


def test_the_report_shows_durations_on_the_clock_asked_for(reviewed_db: Path, tmp_path: Path):
    wall_label = "Handoff delay to pickup (median)"
    wall = write_report(reviewed_db, None, out=tmp_path / "wall.html").path.read_text()
    business = write_report(
        reviewed_db, None, out=tmp_path / "business.html", clock="business"
    ).path.read_text()
    assert "Durations in wall-clock time." in wall and f"{wall_label}<" in wall
    assert f"{wall_label} (business hours)" not in wall
    assert "Durations in business hours of each ticket" in business
    assert f"{wall_label} (business hours)" in business and f"{wall_label}<" not in business


def test_an_unknown_clock_is_one_line_error(reviewed_db: Path, tmp_path: Path):
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--db",
            str(reviewed_db),
            "--clock",
            "sundial",
            "--out",
            str(tmp_path / "r.html"),
        ],
    )
    assert result.exit_code == 2
    assert "--clock: 'sundial' is not one of wall, business" in result.output
    assert "Traceback" not in result.output


def _coached(html: str) -> list[str]:
    """The first cells of the report's coaching table."""
    part = html.split("<h3>Coaching by agent</h3>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", part, re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[0] for row in rows if "<td" in row]


def test_the_report_names_agents_only_when_asked(reviewed_db: Path, tmp_path: Path):
    named = write_report(reviewed_db, None, out=tmp_path / "named.html", agents=True)
    plain = write_report(reviewed_db, None, out=tmp_path / "plain.html")
    agents = _coached(named.path.read_text(encoding="utf-8"))
    numbered = _coached(plain.path.read_text(encoding="utf-8"))
    assert agents and not any(a.startswith("Agent ") for a in agents)
    assert numbered == [f"Agent {i}" for i in range(1, len(agents) + 1)]
    text = plain.path.read_text(encoding="utf-8")
    assert not [a for a in agents if f">{a}<" in text]
    assert "tierlens report --agents" in text


def test_the_report_opens_with_the_week_in_brief(reviewed_db: Path, tmp_path: Path):
    import duckdb

    from pipelines.serving import read_pointer

    result = write_report(reviewed_db, None, out=tmp_path / "brief.html")
    html = result.path.read_text(encoding="utf-8")
    brief = html.split('<p class="summary">', 1)[1].split("</p>", 1)[0]
    pointer = read_pointer(reviewed_db)
    assert pointer is not None
    with duckdb.connect(str(pointer.snapshot), read_only=True) as con:
        n = con.execute(
            "select count(*) from analytics.fct_tickets where state = 'resolved' "
            "and week_start = ?",
            [result.week],
        ).fetchone()[0]
    assert brief.startswith(
        f"In the week of {result.week:%d %b %Y}, {n:,} tickets were resolved (all partners)."
    )
    assert "since the previous week" in brief
    assert html.index('id="summary"') < html.index('id="scorecard"')


def test_the_brief_names_the_partners_outside_the_funnel(reviewed_db: Path, tmp_path: Path):
    from pipelines.presentation import queries
    from pipelines.presentation.comparison import compare_partners, outside_limits
    from pipelines.presentation.filters import Filters
    from pipelines.serving import read_pointer

    result = write_report(reviewed_db, None, out=tmp_path / "brief.html")
    brief = result.path.read_text(encoding="utf-8").split('<p class="summary">', 1)[1]
    brief = brief.split("</p>", 1)[0]
    pointer = read_pointer(reviewed_db)
    assert pointer is not None
    snap = str(pointer.snapshot)
    strata = queries.kpis(
        snap, Filters(result.week, result.week), ("partner", "category", "priority")
    )
    outside = outside_limits(
        compare_partners(strata, "l1_resolution_rate", queries.min_sample(snap), 0.05)
    ).filter(limit="99.8%")
    for row in outside.iter_rows(named=True):
        assert f"{row['partner']} on L1 resolution ({row['side']} the 99.8% limit)" in brief
    assert ("Outside the funnel limits" in brief) == (outside.height > 0)
