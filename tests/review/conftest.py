from __future__ import annotations

import pytest

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample


@pytest.fixture(scope="session")
def review_db(tmp_path_factory):
    """A built database of a generated month (3,000 tickets)."""
    root = tmp_path_factory.mktemp("review")
    write_sample(root / "data", n_tickets=3000, seed=5, fmt="csv")
    db = root / "t.duckdb"
    run_ingest([root / "data"], db_path=db, config=Config(), source="sample")
    run_build(db, Config())
    return db
