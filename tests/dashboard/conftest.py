"""A built sample database shared by the dashboard tests, and AppTest helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import chdir
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample
from pipelines.serving import read_pointer

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
SAMPLE_TICKETS = 1500
SAMPLE_SEED = 7


def build_sample(folder: Path, n_tickets: int, seed: int, config: Config | None = None) -> Path:
    """Generate, ingest and build a sample; returns the database path."""
    config = config or Config()
    data = folder / "sample"
    write_sample(data, n_tickets=n_tickets, seed=seed)
    db = folder / "tierlens.duckdb"
    with chdir(folder):  # files are recorded as given: sample/events.csv, as a user would
        run_ingest([Path("sample")], db_path=db, config=config, source="sample")
    run_build(db, config)
    return db


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample(tmp_path_factory.mktemp("dashboard"), SAMPLE_TICKETS, SAMPLE_SEED)


@pytest.fixture(scope="session")
def snapshot(sample_db: Path) -> str:
    pointer = read_pointer(sample_db)
    assert pointer is not None
    return str(pointer.snapshot)


@pytest.fixture
def snap_con(snapshot: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """An independent read-only connection to the snapshot, for expected values."""
    from dashboards.data import cursor

    # Same process: share the dashboard's connection (DuckDB refuses a second
    # connection to one file with a different configuration).
    yield cursor(snapshot).cursor()


def app_test(db: Path | str, monkeypatch: pytest.MonkeyPatch, **query: str | list[str]) -> AppTest:
    monkeypatch.setenv("TIERLENS_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    """Run the app (first time) and show `page` (a file in dashboards/views)."""
    at.run()
    if page != "scorecard":
        at.switch_page(f"views/{page}.py").run()
    return at


# ---------------------------------------------------------------- weekly review

REVIEW_TICKETS = 1000
REVIEW_SEED = 11
KB_ARTICLE = "Unlock a locked AD account"
ACCESS_TEXT = "read access to the finance share"


@pytest.fixture(scope="session")
def reviewed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built sample with a review sample drawn after the build (so only the
    published Parquet file has it) and two verdicts recorded as the app does."""
    from pipelines.review.sampling import create_sample
    from pipelines.review.verdicts import Verdict, record

    db = build_sample(tmp_path_factory.mktemp("review"), REVIEW_TICKETS, REVIEW_SEED)
    sample = create_sample(db, None, n=20, seed=3)
    first, second = sample.items.head(2).select("escalation_id", "ticket_id").rows()
    common = {"sample_id": sample.sample_id, "reviewer": "fixture"}
    record(
        db,
        Verdict(
            escalation_id=first[0],
            ticket_id=first[1],
            should_escalate="no",
            timing="too early",
            l1_need="kb article",
            kb_article_to_write=KB_ARTICLE,
            **common,
        ),
    )
    record(
        db,
        Verdict(
            escalation_id=second[0],
            ticket_id=second[1],
            should_escalate="yes",
            timing="too late",
            l1_need="access",
            l1_need_text=ACCESS_TEXT,
            **common,
        ),
    )
    return db
