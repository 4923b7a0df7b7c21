"""What the command line loads: `tierlens kpis` is a query and a table, so it loads
neither the build, ingest, report or dashboard code nor the libraries only they use
(polars, pyarrow and numpy, the holidays data, Streamlit, plotly); `tierlens --help`
loads no configuration models either. Each of them costs a start-up of every command,
and a top-level import in pipelines/cli.py or pipelines/kpis.py brings it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli_run import BASE_ENV
from tests.models.test_kpis_handmade import handmade
from tests.models.timelines import build

# Runs the `tierlens` commands given as JSON lists in one interpreter, then prints
# the packages loaded (top-level names) and the project's modules, as JSON.
PROBE = """
import json, sys
from pipelines.cli import app
for args in json.loads(sys.argv[1]):
    try:
        app(args, prog_name="tierlens")
    except SystemExit as exc:
        if exc.code:
            raise
names = {m.split(".")[0] for m in sys.modules}
names |= {m for m in sys.modules if m.startswith("pipelines.")}
print(json.dumps(sorted(names)), file=sys.stderr)
"""

NOT_FOR_KPIS = {
    "polars",  # a tenth of a second: the rows are printed as DuckDB gives them
    "pyarrow",
    "numpy",
    "pandas",
    "holidays",
    "streamlit",
    "plotly",
    "sqlglot",
    "dashboards",
    "pipelines.models",
    "pipelines.config",  # with no tierlens.toml here: nothing to compare with the build's
    "pipelines.ingest",
    "pipelines.report",
    "pipelines.presentation",
    "pipelines.review",
    "pipelines.sample",
}
NOT_FOR_HELP = NOT_FOR_KPIS | {"polars", "pydantic", "pipelines.config", "pipelines.kpis"}


def loaded_by(*commands: list[str], cwd: Path) -> tuple[str, set[str]]:
    """(stdout, the modules loaded) of the commands run in one fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(commands)],
        cwd=cwd,
        env={**os.environ, **BASE_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, set(json.loads(done.stderr.splitlines()[-1]))


def among(loaded: set[str], names: set[str]) -> list[str]:
    """The modules of `loaded` that are in `names` or inside a package of it."""
    return sorted(m for m in loaded if any(m == n or m.startswith(n + ".") for n in names))


def test_kpis_loads_only_the_query_and_the_table(tmp_path: Path):
    db = tmp_path / "t.duckdb"
    build(db, handmade()).close()
    out, loaded = loaded_by(
        # aggregated over kpi_fact_cells, then read from kpi_weekly
        ["kpis", "--db", str(db), "--format", "csv"],
        ["kpis", "--db", str(db), "--by", "partner,week", "--format", "csv"],
        ["kpis", "--db", str(db), "--by", "client", "--format", "json"],
        ["kpis", "--db", str(db)],
        cwd=tmp_path,
    )
    headers = [line for line in out.splitlines() if ",metric,value," in f",{line}"]
    assert headers[0].startswith("metric,") and headers[1].startswith("partner,week,"), out
    assert {"duckdb", "pipelines.kpis"} <= loaded  # the probe saw the run
    assert not among(loaded, NOT_FOR_KPIS), f"`tierlens kpis` loads {among(loaded, NOT_FOR_KPIS)}"


def test_help_loads_no_data_library(tmp_path: Path):
    out, loaded = loaded_by(["--help"], cwd=tmp_path)
    assert "kpis" in out
    assert not among(loaded, NOT_FOR_HELP), f"`tierlens --help` loads {among(loaded, NOT_FOR_HELP)}"


def test_build_loads_no_arrow_or_dataframe_library(tmp_path: Path):
    """Seeds (and journal entries) reach DuckDB through the Arrow C stream: registering a
    polars frame as it is imports pyarrow, half a second of every build."""
    db = tmp_path / "t.duckdb"
    build(db, handmade()).close()
    _, loaded = loaded_by(
        ["build", "--db", str(db)], ["build", "--db", str(db), "--full"], cwd=tmp_path
    )
    assert "pipelines.models.runner" in loaded  # the probe saw the builds
    unwanted = {"pyarrow", "pandas", "streamlit", "plotly"}
    assert not among(loaded, unwanted), f"`tierlens build` loads {among(loaded, unwanted)}"
