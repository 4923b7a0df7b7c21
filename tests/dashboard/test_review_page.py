"""The Weekly review page through AppTest: a sample drawn after the build shows up,
a verdict saved from the form reaches the database (or, while another process
holds it, the journal, and the page still shows it), findings and actions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.config import Config
from pipelines.models.runner import run_build

from .conftest import KB_ARTICLE, app_test, open_page


def _fill(at: AppTest, decision: str, timing: str, need: str, article: str) -> str:
    """Answer the three questions for the escalation shown; returns its id."""
    esc = at.selectbox(key="review_item").value
    at.radio(key=f"v_should_{esc}").set_value(decision)
    at.radio(key=f"v_timing_{esc}").set_value(timing)
    at.radio(key=f"v_need_{esc}").set_value(need)
    at.text_input(key=f"v_article_{esc}").input(article)
    return esc


def _progress(at: AppTest) -> int:
    """How many of the sample's escalations the progress bar counts as reviewed."""
    return int(at.get("progress")[0].proto.text.split(" of ")[0])


def _save(at: AppTest) -> AppTest:
    return next(b for b in at.button if b.label == "Save verdict").click().run()


def _stored(db: Path, escalation_id: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select should_escalate, timing, l1_need, kb_article_to_write, reviewer "
            "from meta.review_verdicts where escalation_id = ? order by reviewed_at",
            [escalation_id],
        ).fetchall()
    finally:
        con.close()


def test_no_sample_yet_says_how_to_draw_one(sample_db: Path, monkeypatch: pytest.MonkeyPatch):
    at = open_page(app_test(sample_db, monkeypatch), "review")
    assert not at.exception
    assert "No review sample yet" in at.info[0].value
    assert "tierlens review sample" in at.code[0].value


def test_saving_a_verdict_stores_it_and_moves_on(
    reviewed_db: Path, monkeypatch: pytest.MonkeyPatch
):
    at = open_page(app_test(reviewed_db, monkeypatch), "review")
    assert not at.exception, [e.value for e in at.exception]
    n = len(at.selectbox(key="review_item").options)
    done = _progress(at)
    assert done >= 2  # the fixture's two verdicts (other tests may add theirs)
    at.text_input(key="reviewer").input("Dana")
    esc = _fill(at, "no", "too early", "kb article", "Map a network drive")
    _save(at)
    assert not at.exception, [e.value for e in at.exception]
    assert at.success[0].value == "Verdict saved."
    assert _stored(reviewed_db, esc) == [
        ("no", "too early", "kb article", "Map a network drive", "Dana")
    ]
    assert at.selectbox(key="review_item").value != esc  # on to the next unreviewed one
    assert _progress(at) == done + 1
    assert at.get("progress")[0].proto.text == f"{done + 1} of {n} escalations reviewed"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Unnecessary escalations, reviewed"] != "n/a"
    assert metrics["Unnecessary escalations, rules"].endswith("%")
    tables = [t.value for t in at.dataframe]
    kb = next(t for t in tables if "articles" in t.columns)
    names = {n for row in kb["articles"] for n in row}
    assert {"Map a network drive", KB_ARTICLE} <= names


def test_a_busy_database_queues_the_verdict_and_the_page_shows_it(
    reviewed_db: Path, monkeypatch: pytest.MonkeyPatch
):
    at = open_page(app_test(reviewed_db, monkeypatch), "review")
    at.text_input(key="reviewer").input("Eve")
    esc = _fill(at, "unsure", "right", "tooling", "")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(reviewed_db)!r}); "
            "print('locked', flush=True); time.sleep(4)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        _save(at)
        assert not at.exception, [e.value for e in at.exception]
        assert "next build" in at.success[0].value
        labels = at.selectbox(key="review_item")
        assert any(esc in o and "✓ unsure" in o for o in labels.options)
    finally:
        holder.wait(timeout=15)
    assert _stored(reviewed_db, esc) == []
    run_build(reviewed_db, Config())  # the build applies the journal
    assert _stored(reviewed_db, esc) == [("unsure", "right", "tooling", None, "Eve")]


def test_the_snapshot_carries_the_review_tables(reviewed_db: Path):
    from pipelines.serving import read_pointer, sample_file

    run_build(reviewed_db, Config())
    pointer = read_pointer(reviewed_db)
    assert pointer is not None
    con = duckdb.connect(str(pointer.snapshot), read_only=True)
    try:
        samples = [
            r[0] for r in con.execute("select sample_id from meta.review_samples").fetchall()
        ]
        counts = con.execute(
            "select (select count(*) from meta.review_sample_items), "
            "(select count(*) from meta.review_verdicts), "
            "(select count(*) from analytics.review_candidates)"
        ).fetchone()
    finally:
        con.close()
    assert samples and all(c > 0 for c in counts)
    assert all(sample_file(reviewed_db, s).exists() for s in samples)  # published for the app
