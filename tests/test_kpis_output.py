"""`tierlens kpis --format csv|json` prints the KPI table's values exactly.

The command prints DuckDB's rows as they are (it loads no polars); the figures must
be those of `kpi_table` (what the export, the report and the tests read), to the
last digit: every float parsed back equals the frame's, a missing value is an
empty cell (CSV) or null (JSON), a week is an ISO date.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from pipelines.config import Config
from pipelines.kpis import kpi_table
from tests.cli_run import tierlens
from tests.dashboard.conftest import build_sample

NUMBERS = ("value", "numerator", "denominator", "ci_low", "ci_high")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample(tmp_path_factory.mktemp("kpis_output"), 600, seed=3)


def _typed(record: dict[str, object]) -> dict[str, object]:
    """A printed row's values as the frame holds them."""
    out: dict[str, object] = {}
    for name, value in record.items():
        if value in ("", None):
            out[name] = None
        elif name in NUMBERS:
            out[name] = float(value)  # type: ignore[arg-type]
        elif name == "sample":
            out[name] = int(value)  # type: ignore[call-overload]
        elif name == "week":
            out[name] = date.fromisoformat(str(value))
        else:
            out[name] = value
    return out


@pytest.mark.parametrize("by", ["client,week", "agent", ""])
def test_printed_rows_are_the_tables(built: Path, tmp_path: Path, by: str):
    expected = kpi_table(built, Config(), by=by or None).to_dicts()
    assert expected
    args = ["--by", by] if by else []
    as_csv = tierlens("kpis", "--db", built, "--format", "csv", *args, cwd=tmp_path)
    as_json = tierlens("kpis", "--db", built, "--format", "json", *args, cwd=tmp_path)
    assert as_csv.code == 0 and as_json.code == 0, as_csv.describe() + as_json.describe()
    from_csv = [_typed(r) for r in csv.DictReader(io.StringIO(as_csv.out, newline=""))]
    from_json = [_typed(r) for r in json.loads(as_json.out)]
    assert from_csv == expected
    assert from_json == expected
