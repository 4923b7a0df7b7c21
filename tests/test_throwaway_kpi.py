"""Adding a KPI is one declaration: a throwaway KPI goes through the public path.

In a copy of the project (pipelines/, sql/, dashboards/, docs/), the test adds one
`Metric(...)` to pipelines/metrics/registry.py and does what docs/metrics.md,
"Adding a KPI", says: the build refuses the stale models, `tierlens metrics
generate` writes them, and the KPI appears in `tierlens kpis` (its value checked
against a count over fct_tickets written here), `tierlens metrics list`, the
report and the dashboard's Scorecard in Chromium. No other file is touched. The
copied code runs in subprocesses (PYTHONPATH points at the copy).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from pipelines.serve import free_port, stop, wait_healthy
from tests.cli_run import BASE_ENV

ROOT = Path(__file__).resolve().parents[1]
NAME = "throwaway_p2_rate"
LABEL = "Throwaway: P2 share"
DECLARATION = f'''
    Metric(
        name="{NAME}",
        label="{LABEL}",
        description="Of the resolved tickets, the share at priority P2.",
        model="resolved_tickets",
        stat="rate",
        numerator="priority = 'P2'",
        unit="%",
        direction="none",
        target=Target(green_max=0.05, red_above=0.10, label="< 5% (throwaway)"),
        needs_tiers=False,
    ),
'''

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("project") / "tierlens"
    for folder in ("pipelines", "sql", "dashboards", "docs"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    registry = copy / "pipelines" / "metrics" / "registry.py"
    text = registry.read_text()
    end = text.rindex("\n)\n")  # the end of METRICS, the last tuple of the file
    registry.write_text(text[:end] + DECLARATION.rstrip("\n") + text[end:])
    return copy


def run(project: Path, *args: object, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *map(str, args)],
        cwd=project,
        env={**os.environ, **BASE_ENV, "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def built(project: Path) -> Path:
    db = project / "t.duckdb"
    ok(run(project, "sample", "--tickets", 600, "--seed", 5, "--out", "data"))
    ok(run(project, "ingest", "data", "--db", db))
    stale = run(project, "build", "--db", db)
    assert stale.returncode == 2 and "out of step with pipelines/metrics/registry.py" in (
        stale.stderr
    ), stale.stderr
    assert "Traceback" not in stale.stderr
    generated = ok(run(project, "metrics", "generate"))
    # kpi_weekly names no metric: only the facts and the docs' catalogue change
    assert generated.splitlines() == ["wrote: sql/marts/kpi_facts.sql", "wrote: docs/metrics.md"]
    assert f"'fact': '{NAME}'" in (project / "sql" / "marts" / "kpi_facts.sql").read_text()
    assert f"`{NAME}`" in (project / "docs" / "metrics.md").read_text()
    ok(run(project, "build", "--db", db))
    return db


def test_the_kpi_is_in_tierlens_kpis_with_its_value_and_status(project: Path, built: Path):
    rows = list(
        csv.DictReader(io.StringIO(ok(run(project, "kpis", "--db", built, "--format", "csv"))))
    )
    (row,) = [r for r in rows if r["metric"] == NAME]
    con = duckdb.connect(str(built), read_only=True)
    try:
        p2, resolved = con.execute(
            "select count(*) filter (where priority = 'P2'), count(*) "
            "from analytics.fct_tickets where state = 'resolved'"
        ).fetchone()
    finally:
        con.close()
    assert resolved > 100 and 0 < p2 < resolved
    assert (float(row["numerator"]), float(row["denominator"])) == (p2, resolved)
    assert float(row["value"]) == pytest.approx(p2 / resolved)
    assert row["target"] == "< 5% (throwaway)"
    share = p2 / resolved
    expected = "green" if share <= 0.05 else "red" if share > 0.10 else "amber"
    assert row["status"] == expected
    assert NAME in ok(run(project, "metrics", "list"))


def test_the_kpi_is_in_the_report(project: Path, built: Path):
    out = project / "report.html"
    ok(run(project, "report", "--db", built, "--out", out))
    assert LABEL in out.read_text()


def test_the_kpi_is_on_the_dashboard_scorecard(project: Path, built: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    port = free_port()
    log = (tmp_path / "dashboard.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "dashboard",
            "--db",
            str(built),
            "--port",
            str(port),
        ],
        cwd=project,
        env={**os.environ, **BASE_ENV, "PYTHONPATH": str(project)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    try:
        wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1800})
            page.goto(url)
            page.get_by_text(LABEL).first.wait_for(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            browser.close()
    finally:
        stop(proc)
        log.close()
