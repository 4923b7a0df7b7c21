"""The KPIs do not depend on file order or on how the rows are split across files.

The sample month (2,000 tickets) is ingested once as given, and once with its
events shuffled and cut into three files (loaded in reverse order, tickets last)
plus the whole events file again on top; both databases are built and every KPI
of every partner is compared: same values, numerators and denominators.
"""

from __future__ import annotations

import random
from pathlib import Path

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.kpis import kpi_table
from pipelines.models.runner import run_build

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _kpis(db: Path) -> list[tuple]:
    run_build(db, Config())
    frame = kpi_table(db, Config(), by="partner")
    cols = ["partner", "metric", "value", "numerator", "denominator"]
    return sorted(frame.select(cols).rows(), key=lambda r: (r[0], r[1]))


def test_kpis_same_whatever_the_split_and_order(tmp_path: Path) -> None:
    one = tmp_path / "one.duckdb"
    run_ingest([SAMPLE / "tickets.csv", SAMPLE / "events.csv"], db_path=one)

    header, *rows = (SAMPLE / "events.csv").read_text(encoding="utf-8").splitlines()
    random.Random(11).shuffle(rows)
    cuts = [0, 3000, 9500, len(rows)]
    parts = []
    for i in range(3):
        part = tmp_path / f"events_part{i}.csv"
        part.write_text("\n".join([header, *rows[cuts[i]:cuts[i + 1]]]) + "\n", encoding="utf-8")
        parts.append(part)
    many = tmp_path / "many.duckdb"
    run_ingest(parts[::-1], db_path=many)
    run_ingest([SAMPLE / "tickets.csv"], db_path=many)
    again = run_ingest([SAMPLE / "events.csv"], db_path=many)  # overlaps all three parts
    assert again.files[0].rows_new == 0

    expected = _kpis(one)
    assert len(expected) > 40
    assert _kpis(many) == expected
