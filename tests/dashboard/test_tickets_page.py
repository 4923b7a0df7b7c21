"""The tickets behind a number: each list's length is the figure it stands behind,
worked out by another path (the KPI query's aggregation, the Sankey's own links)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.presentation.filters import Filters
from pipelines.presentation.queries import kpis, tier_paths
from pipelines.presentation.stats import sankey_links

from .conftest import app_test


def _tickets_page(at: AppTest, **query: str) -> AppTest:
    """The first run reads the sidebar's filters from the address (app_test's query);
    the tickets page then reads its own parameters, as a link opening it would."""
    at.run()
    for key, value in query.items():
        at.query_params[key] = value
    return at.switch_page("views/tickets.py").run()


def _count(at: AppTest) -> int:
    text = next(m.value for m in at.markdown if m.value.startswith("**"))
    return int(text.split("**")[1].replace(",", ""))


@pytest.mark.parametrize("metric", ["escalation_rate", "bounceback_rate", "reopen_rate"])
def test_a_kpis_list_is_its_numerator(
    sample_db: Path, snapshot: str, monkeypatch: pytest.MonkeyPatch, metric: str
):
    partner = kpis(snapshot, Filters(), ("partner",))["partner"].min()
    at = _tickets_page(app_test(sample_db, monkeypatch, partner=partner), kpi=metric)
    assert not at.exception, [e.value for e in at.exception]
    expected = kpis(snapshot, Filters(partner=(partner,)), ()).filter(
        pl.col("metric") == metric
    )["numerator"][0]
    assert _count(at) == int(expected) > 0
    assert len(at.dataframe[0].value) == int(expected)  # AppTest gives a pandas frame


def test_a_flow_links_list_is_the_sankeys_link(
    sample_db: Path, snapshot: str, monkeypatch: pytest.MonkeyPatch
):
    paths = tier_paths(snapshot, Filters())
    _, links = sankey_links(paths.filter(pl.col("n_steps") > 1))
    nodes, _ = sankey_links(paths.filter(pl.col("n_steps") > 1))
    link = links.sort("value", descending=True).row(0, named=True)
    src = nodes.filter(pl.col("node") == link["source"]).row(0, named=True)
    dst = nodes.filter(pl.col("node") == link["target"]).row(0, named=True)
    move = f"{src['step']}:{src['tier']}:{dst['tier']}"
    at = _tickets_page(app_test(sample_db, monkeypatch), move=move)
    assert not at.exception, [e.value for e in at.exception]
    assert _count(at) == link["value"]


def test_a_paths_list_is_its_count(sample_db: Path, snapshot: str, monkeypatch):
    top = tier_paths(snapshot, Filters()).row(0, named=True)
    at = _tickets_page(app_test(sample_db, monkeypatch), path=top["path"])
    assert _count(at) == top["n_tickets"]
    assert set(at.dataframe[0].value["path"]) == {top["path"]}
