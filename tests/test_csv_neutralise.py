"""CSV for people never runs a formula (pipelines/csv_safe.py, the OWASP rule): a
text cell starting with = + - @ tab or carriage return is written after a single
quote, numbers stay numbers. Through the real `tierlens export --format csv` and
`tierlens kpis --format csv` on a database whose names are formulas."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import example, given, strategies as st
from rich.console import Console

from pipelines.config import Config
from pipelines.csv_safe import FORMULA_STARTS, QUOTE, neutralise_formulas, neutralise_text
from pipelines.ingest.job import run_ingest
from pipelines.kpis import OUTPUT_COLUMNS, KpiRows, render_kpis
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample
from tests.cli_run import tierlens

# Ingest trims every value, so a leading tab or carriage return never reaches the
# database: those two are checked on a frame below.
PARTNERS = {
    "Acme": '=HYPERLINK("http://evil.example","x")',
    "Globex": "+1+1",
    "Initech": "-2+3",
    "Umbrella": "@SUM(A1)",
}
AGENT = "=cmd|' /C calc'!A0"
CATEGORY = "-network"
NUMERIC = ("value", "numerator", "denominator", "ci_low", "ci_high", "sample")

cells = st.text(alphabet=st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "a", "1", " ", "é"]))


@given(st.lists(st.one_of(st.none(), cells), max_size=10))
@example(["=1", "+1", "-1", "@a", "\tx", "\rx", "'=x", "x=1", "", None])
def test_a_cell_that_starts_like_a_formula_gets_a_quote_and_no_other_changes(
    values: list[str | None],
):
    frame = pl.DataFrame(
        {"text": values, "number": [-1.5] * len(values)},
        schema={"text": pl.String, "number": pl.Float64},
    )
    out = neutralise_formulas(frame)
    assert out.schema == frame.schema
    assert out["number"].to_list() == frame["number"].to_list()
    for before, after in zip(values, out["text"].to_list(), strict=True):
        if before is not None and before.startswith(FORMULA_STARTS):
            assert after == QUOTE + before
        else:
            assert after == before
        assert after is None or not after.startswith(FORMULA_STARTS)
        # the one-cell form `tierlens kpis` uses agrees with the frame's
        assert after == (None if before is None else neutralise_text(before))


def test_categorical_text_is_neutralised_and_dates_and_numbers_are_not():
    frame = pl.DataFrame(
        {
            "partner": pl.Series(["=1", "ok"], dtype=pl.Categorical),
            "value": [-0.5, 2.0],
            "n": [-3, 4],
            "week_start": [date(2025, 3, 3), date(2025, 3, 10)],
        }
    )
    out = neutralise_formulas(frame)
    assert out["partner"].to_list() == ["'=1", "ok"]
    assert out.select("value", "n", "week_start").equals(frame.select("value", "n", "week_start"))


def test_printed_csv_keeps_a_tab_and_a_carriage_return_inside_the_cell():
    buffer = io.StringIO()
    table = KpiRows(["partner", "value"], [("\tx", -1.0), ("\rx", 0.5), ("-2", -2.0)])
    render_kpis(table, "csv", Console(file=buffer, width=40))
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue(), newline="")))
    assert [r["partner"] for r in rows] == ["'\tx", "'\rx", "'-2"]
    assert [float(r["value"]) for r in rows] == [-1.0, 0.5, -2.0]


@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=1, max_size=8))
@example(["a,b", 'say "hi"', "x\ry", "x\ny", "\r\n", "=1", "", None])
def test_printed_csv_reads_back_as_the_cells_neutralised(values: list[str | None]):
    buffer = io.StringIO()
    rows = [(v, 0.1 * i) for i, v in enumerate(values)]
    render_kpis(KpiRows(["client", "value"], rows), "csv", Console(file=buffer, width=40))
    read = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert read[0] == ["client", "value"]
    assert [r[0] for r in read[1:]] == ["" if v is None else neutralise_text(v) for v in values]
    assert [float(r[1]) for r in read[1:]] == [v for _, v in rows]  # exactly


@pytest.fixture(scope="module")
def formula_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formulas")
    data = folder / "data"
    write_sample(data, n_tickets=300, seed=5)
    tickets = pl.read_csv(data / "tickets.csv", infer_schema=False)
    tickets.with_columns(
        pl.col("partner").replace(PARTNERS),
        pl.when(pl.col("category") == "network")
        .then(pl.lit(CATEGORY))
        .otherwise(pl.col("category"))
        .alias("category"),
    ).write_csv(data / "tickets.csv")
    events = pl.read_csv(data / "events.csv", infer_schema=False)
    agent = events["agent"].drop_nulls().mode().sort()[0]  # the busiest agent
    events.with_columns(pl.col("agent").replace({agent: AGENT})).write_csv(data / "events.csv")
    db = folder / "formulas.duckdb"
    run_ingest([data], db_path=db, config=Config(), source="sample")
    run_build(db, Config())
    return db


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _check(rows: list[dict[str, str]], column: str, payloads: set[str]) -> None:
    names = {r[column] for r in rows if r[column]}
    assert {QUOTE + p for p in payloads} <= names  # every payload, quoted
    for name in names:
        assert not name.startswith(FORMULA_STARTS), name
        if not name.startswith(QUOTE):
            assert name not in payloads
    for row in rows:
        for column_name in NUMERIC:
            if row[column_name] != "":
                float(row[column_name])  # still a number


def test_export_csv_neutralises_formulas(formula_db: Path, tmp_path: Path):
    out = tmp_path / "kpis.csv"
    run = tierlens(
        "export", out, "--db", formula_db, "--format", "csv", "--by", "partner", cwd=tmp_path
    )
    assert run.code == 0, run.describe()
    rows = _rows(out.read_text(encoding="utf-8"))
    _check(rows, "partner", set(PARTNERS.values()))
    assert rows and all(r["metric"][0].isalpha() for r in rows)


@pytest.mark.parametrize(
    ("by", "payloads"),
    [("partner", set(PARTNERS.values())), ("agent", {AGENT}), ("category", {CATEGORY})],
)
def test_kpis_csv_neutralises_formulas(
    formula_db: Path, tmp_path: Path, by: str, payloads: set[str]
):
    run = tierlens("kpis", "--db", formula_db, "--format", "csv", "--by", by, cwd=tmp_path)
    assert run.code == 0, run.describe()
    rows = _rows(run.out)
    assert list(rows[0]) == [by, *OUTPUT_COLUMNS, "sample"]
    _check(rows, by, payloads)


def test_other_cells_are_unchanged(formula_db: Path, tmp_path: Path):
    """Names that do not start like a formula come out exactly as loaded."""
    run = tierlens("kpis", "--db", formula_db, "--format", "csv", "--by", "client", cwd=tmp_path)
    assert run.code == 0, run.describe()
    clients = {r["client"] for r in _rows(run.out)} - {""}
    loaded = pl.read_csv(formula_db.parent / "data" / "tickets.csv", infer_schema=False)
    assert clients == set(loaded["client"].drop_nulls().to_list())


@pytest.mark.browser
def test_the_dashboards_ticket_download_neutralises_formulas(formula_db: Path, tmp_path: Path):
    """The tickets page's download, through Chromium's own download (the grids'
    built-in CSV export is switched off: it writes cells verbatim)."""
    from playwright.sync_api import sync_playwright

    from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
    from pipelines.serve import running_dashboard, streamlit_command
    from tests.dashboard.test_browser import SETTLED, _require_browser

    _require_browser()
    command = streamlit_command(formula_db, 8501)
    assert command[command.index("--client.disableDataExport") + 1] == "true"
    with (
        running_dashboard(formula_db, tmp_path / "streamlit.log") as served,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(f"{served.url}/tickets?kpi=escalation_rate")
            page.wait_for_function(SETTLED, timeout=60_000, polling=100)
            with page.expect_download(timeout=60_000) as download:
                page.get_by_role("button", name="Download these tickets (CSV)").click()
            saved = tmp_path / "tickets.csv"
            download.value.save_as(saved)
        finally:
            browser.close()
    rows = _rows(saved.read_text(encoding="utf-8"))
    partners = {r["partner"] for r in rows}
    assert {QUOTE + p for p in PARTNERS.values()} & partners  # the formulas, quoted
    assert not [p for p in partners if p.startswith(FORMULA_STARTS)]
