"""The documents that are a contract stay in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.ingest.schema import CONTRACTS
from pipelines.metrics import METRIC_NAMES, METRICS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_data_model_documents_every_input_column():
    text = (DOCS / "data-model.md").read_text()
    for contract in CONTRACTS.values():
        for name in contract.names:
            assert f"`{name}`" in text, f"docs/data-model.md does not describe {name}"


# A name in `code` in docs/metrics.md that has the shape of a metric name: the
# endings of the catalogue's names, or a family written `stem_l1..l4` (the four
# tiers) or `stem_*` (its median and 90th percentile).
METRIC_SHAPE = re.compile(
    r"[a-z][a-z0-9_]*(_rate|_rate_rules|_median_min|_p90_min|_ratio|_tickets"
    r"|_l[1-4]|_l1\.\.l4|_\*)"
)


def expand(name: str) -> set[str]:
    """The metric names a name in the docs stands for."""
    if name.endswith("_l1..l4"):
        stem = name.removesuffix("l1..l4")
        return {f"{stem}{tier}" for tier in ("l1", "l2", "l3", "l4")}
    if name.endswith("_*"):
        stem = name.removesuffix("*")
        return {f"{stem}median_min", f"{stem}p90_min"}
    return {name}


def kpi_sections(text: str) -> dict[str, str]:
    """The `###` sections of the chapter "The KPIs" of docs/metrics.md: heading -> body."""
    start = text.index("\n## The KPIs\n")
    end = text.find("\n## ", start + 1)
    chapter = text[start : end if end >= 0 else len(text)]
    parts = re.split(r"^### (.+)$", chapter, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def documented_metrics(text: str) -> dict[str, str]:
    """Metric name -> the heading of the KPI section that defines it: every name in
    `code` in the section's heading, and every catalogue or metric-shaped name in its
    body (the worked example and the rest of the page do not count: a name in a table
    of figures is not a definition)."""
    found: dict[str, str] = {}
    for heading, body in kpi_sections(text).items():
        in_heading = re.findall(r"`([^`]+)`", heading)
        names = in_heading + [
            n
            for n in re.findall(r"`([^`]+)`", body)
            if n in METRIC_NAMES or METRIC_SHAPE.fullmatch(n)
        ]
        for name in names:
            for metric in expand(name):
                found.setdefault(metric, heading)
    return found


def test_every_catalogue_metric_has_a_definition_in_the_kpis_chapter():
    defined = documented_metrics((DOCS / "metrics.md").read_text())
    undefined = sorted(m.name for m in METRICS if m.name not in defined)
    assert not undefined, f"docs/metrics.md, The KPIs: no section defines {undefined}"


def test_the_docs_define_no_metric_the_catalogue_lacks():
    defined = documented_metrics((DOCS / "metrics.md").read_text())
    unknown = {m: h for m, h in defined.items() if m not in METRIC_NAMES}
    assert not unknown, f"docs/metrics.md defines metrics the registry lacks: {unknown}"


def test_deleting_a_definition_is_noticed():
    """The check reads the real page: without the escalation-rate and reopen-rate
    sections, both metrics are undefined (their names stay in the worked example)."""
    text = (DOCS / "metrics.md").read_text()
    cut = re.sub(r"^### (Escalation rate|Reopen rate): .*?(?=^### )", "", text, flags=re.M | re.S)
    assert len(cut) < len(text) and "`escalation_rate`" in cut and "`reopen_rate`" in cut
    defined = documented_metrics(cut)
    assert {"escalation_rate", "reopen_rate"} - set(defined) == {"escalation_rate", "reopen_rate"}
    assert {"unnecessary_escalation_rate", "l1_resolution_rate"} <= set(defined)
