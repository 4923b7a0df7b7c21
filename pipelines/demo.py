"""`make demo`: generate the sample month, ingest it, build the models, show the KPIs,
then serve the dashboard (unless --no-serve)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from pipelines.config import load_config
from pipelines.ingest.job import run_ingest
from pipelines.ingest.report import print_ingest_report
from pipelines.kpis import kpi_rows, render_kpis
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample

SAMPLE_DIR = Path("sample_data")
SAMPLE_TICKETS = 2000
SAMPLE_SEED = 7


def run_demo(db: Path, *, serve: bool, port: int, console: Console) -> None:
    config = load_config()
    console.rule("1. sample data")
    planted = write_sample(SAMPLE_DIR, n_tickets=SAMPLE_TICKETS, seed=SAMPLE_SEED, fmt="csv")
    console.print(f"{planted['n_tickets']} tickets, {planted['n_events']} events in {SAMPLE_DIR}/")
    console.rule("2. ingest")
    result = run_ingest([SAMPLE_DIR], db_path=db, config=config, source="sample")
    print_ingest_report(result, console)
    console.rule("3. build")
    summary = run_build(db, config, console=console)
    console.print(
        f"build {summary.build_id}: {summary.models} models and {summary.tests} data tests "
        f"passed in {summary.seconds:.1f}s"
    )
    console.rule("4. KPIs, all weeks")
    render_kpis(kpi_rows(db), "table", console)
    console.print(
        f"database: {db}  ({result.rows_loaded} rows loaded, {result.rows_rejected} rejected)",
        markup=False,
    )
    if serve:
        from pipelines.serve import serve_dashboard

        console.rule(f"5. dashboard on http://localhost:{port}")
        serve_dashboard(db, port)
