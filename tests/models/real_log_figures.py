"""The figures of the two real logs in ../shared/datasets, pinned.

`python -m tests.models.real_log_figures --write` rebuilds both logs and rewrites
tests/fixtures/real_log_figures/*.json; tests/models/test_real_log_figures.py
rebuilds them and compares. Each fixture holds the overall KPI table in full (a
person can read what changed) and a SHA-256 of every other table: kpi_weekly as
stored, and `tierlens kpis` grouped by each dimension, values rounded to 9
significant digits (the last bits of a parallel sum are not a figure).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import Config, load_config
from pipelines.ingest.job import run_ingest
from pipelines.kpis import kpi_table
from pipelines.models.runner import run_build

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "datasets"
FIXTURES = ROOT / "tests" / "fixtures" / "real_log_figures"

LOGS: dict[str, tuple[str, str, Path | None]] = {
    # name -> (file in ../shared/datasets, format, config)
    "bpic2013": ("bpic2013_incidents.csv.gz", "eventlog", None),
    "servicenow": (
        "servicenow_incident_log_excerpt.csv.gz",
        "servicenow-audit",
        ROOT / "mappings" / "servicenow_excerpt_tiers.toml",
    ),
}
GROUPINGS: tuple[tuple[str, ...], ...] = (
    ("partner",),
    ("week",),
    ("client",),
    ("category",),
    ("priority",),
    ("group",),
    ("agent",),
    ("week", "partner"),
    ("partner", "priority"),
)
FIGURE_COLUMNS = ("value", "numerator", "denominator", "ci_low", "ci_high", "sample")


def build(name: str, folder: Path) -> tuple[Path, Config]:
    file, fmt, config_path = LOGS[name]
    log = SHARED / file
    if not log.exists():
        raise FileNotFoundError(f"{log} is missing: the shared datasets sit beside the project")
    config = load_config(config_path) if config_path else Config()
    db = folder / f"{name}.duckdb"
    result = run_ingest([log], db, config, source=name, fmt=fmt)
    assert result.rows_rejected == 0
    run_build(db, config)
    return db, config


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(c).cast(pl.Float64).round_sig_figs(9)
        for c in FIGURE_COLUMNS
        if c in frame.columns
    )


def _digest(frame: pl.DataFrame) -> str:
    text = _rounded(frame).sort(frame.columns, nulls_last=True).write_csv()
    return hashlib.sha256(text.encode()).hexdigest()


def tables(
    db: Path, config: Config, metrics: list[str] | None = None
) -> dict[str, pl.DataFrame]:
    """kpi_weekly as stored, and `tierlens kpis` overall and by each grouping (the
    rows of `metrics` only, when given: KPIs added later leave the pins alone)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        weekly = pl.DataFrame(
            con.sql(
                "select week_start, dimension, dimension_value, metric, value, numerator, "
                "denominator, ci_low, ci_high, sample, target, status from analytics.kpi_weekly"
            ).arrow()
        )
    finally:
        con.close()
    found = {"kpi_weekly": weekly, "kpis": kpi_table(db, config)} | {
        "kpis by " + ",".join(by): kpi_table(db, config, by=list(by)) for by in GROUPINGS
    }
    if metrics is None:
        return found
    return {name: frame.filter(pl.col("metric").is_in(metrics)) for name, frame in found.items()}


def figures(db: Path, config: Config, metrics: list[str] | None = None) -> dict[str, object]:
    found = tables(db, config, metrics)
    overall = _rounded(found.pop("kpis")).select("metric", *FIGURE_COLUMNS, "target", "status")
    digests = {name: _digest(frame) for name, frame in found.items()}
    return {
        "overall": overall.to_dicts(),
        "rows": {"kpi_weekly": found["kpi_weekly"].height},
        "digests": digests,
    }


def fixture_path(name: str) -> Path:
    return FIXTURES / f"{name}.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the fixtures")
    parser.add_argument("--out", type=Path, default=FIXTURES)
    parser.add_argument("--dump", type=Path, help="also write every table as Parquet here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in LOGS:
            db, config = build(name, Path(tmp))
            found = figures(db, config)
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                for table, frame in tables(db, config).items():
                    frame.write_parquet(args.dump / f"{name} {table}.parquet")
            text = json.dumps(found, indent=1, sort_keys=True, default=str) + "\n"
            if args.write:
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / f"{name}.json").write_text(text)
            print(name, found["rows"], found["digests"]["kpi_weekly"][:12])


if __name__ == "__main__":
    main()
