"""The documents that are a contract stay in step with the code."""

from __future__ import annotations

from pathlib import Path

from pipelines.ingest.schema import CONTRACTS
from pipelines.metrics import METRICS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_data_model_documents_every_input_column():
    text = (DOCS / "data-model.md").read_text()
    for contract in CONTRACTS.values():
        for name in contract.names:
            assert f"`{name}`" in text, f"docs/data-model.md does not describe {name}"


def test_metrics_doc_names_every_metric_family():
    text = (DOCS / "metrics.md").read_text()
    for metric in METRICS:
        stem = metric.metric.removesuffix("_median_min").removesuffix("_p90_min")
        for tier in ("_l1", "_l2", "_l3", "_l4"):
            stem = stem.removesuffix(tier)
        assert stem in text, f"docs/metrics.md does not define {metric.metric}"
