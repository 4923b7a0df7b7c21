"""Sampling: reproducible, every stratum covered, suspicious ones over-sampled, and
weighted estimates unbiased for the whole week."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

from pipelines.review.estimate import stratified_rate
from pipelines.review.sampling import (
    LEVELS,
    allocate,
    create_sample,
    draw,
    population,
    stratify,
)
from pipelines.review.weeks import parse_week


def test_allocation_by_hand():
    sizes = pl.DataFrame(
        {
            "stratum": ["a|s", "a|o", "b|s", "b|o"],
            "is_suspicious": [True, False, True, False],
            "population": [4, 20, 1, 10],
        }
    )
    # 1 each (4), then 6 more by size x 3 for suspicious: measures 12, 20, 0 (b|s is
    # full), 10 -> ideal 1.71, 2.86, 0, 1.43 -> floors 1, 2, 0, 1 (4) and the two
    # largest remainders (a|o .86, a|s .71) get one more.
    got = allocate(sizes, 10).sort("stratum")
    assert dict(zip(got["stratum"], got["n_h"], strict=True)) == {
        "a|o": 4,
        "a|s": 3,
        "b|o": 2,
        "b|s": 1,
    }


def test_allocation_never_exceeds_a_stratum_and_raises_to_one_each():
    sizes = pl.DataFrame(
        {"stratum": ["x", "y", "z"], "is_suspicious": [True, False, False], "population": [2, 1, 3]}
    )
    assert allocate(sizes, 100)["n_h"].to_list() == [2, 1, 3]
    assert allocate(sizes, 1)["n_h"].to_list() == [1, 1, 1]


def test_sample_is_reproducible_and_covers_every_stratum(review_db):
    week = create_sample(review_db, None, n=1, seed=42).week_start
    con = duckdb.connect(str(review_db), read_only=True)
    pop = population(con, week, None)
    con.close()
    n = pop["stratum"].n_unique() + 5  # room for every partner x category x suspicious
    first = create_sample(review_db, None, n=n, seed=42)
    again = create_sample(review_db, None, n=n, seed=42)
    other = create_sample(review_db, None, n=n, seed=43)
    assert first.items["escalation_id"].to_list() == again.items["escalation_id"].to_list()
    assert first.items["escalation_id"].to_list() != other.items["escalation_id"].to_list()
    assert first.n_drawn == n and not first.coarsened
    con = duckdb.connect(str(review_db), read_only=True)
    assert set(first.items["stratum"]) == set(pop["stratum"])
    assert set(first.items["partner"]) == set(pop["partner"])
    assert set(first.items["category"]) == set(pop["category"])
    # weights add up to the population, stratum by stratum
    assert first.items["weight"].sum() == pytest.approx(pop.height)
    stored = con.execute(
        "select count(*), sum(weight) from meta.review_sample_items where sample_id = ?",
        [first.sample_id],
    ).fetchall()[0]
    assert stored[0] == first.n_drawn and stored[1] == pytest.approx(pop.height)


def test_suspicious_escalations_are_over_sampled():
    # one partner, one category: 50 suspicious and 200 other escalations
    pop = pl.DataFrame(
        {
            "escalation_id": [f"E{i}" for i in range(250)],
            "ticket_id": [f"T{i}" for i in range(250)],
            "partner": "p",
            "category": "c",
            "is_suspicious": [i < 50 for i in range(250)],
            "suspicion_reasons": "",
        }
    ).with_columns(
        stratum=pl.when(pl.col("is_suspicious")).then(pl.lit("p|c|s")).otherwise(pl.lit("p|c|o"))
    )
    picked = draw(pop, 25, seed=3)
    # measures 50 x 3 = 150 and 200: 23 to share after one each -> 9.9 and 13.1 -> 10 + 1, 13 + 1
    counts = dict(zip(*picked.group_by("stratum").agg(pl.len()).to_dict().values(), strict=True))
    assert counts == {"p | c | suspicious": 11, "p | c | other": 14}
    assert picked.filter(pl.col("is_suspicious"))["weight"][0] == pytest.approx(50 / 11)


def test_weighted_estimate_is_unbiased_over_many_seeds(review_db):
    """Plant a true 'unnecessary' label on every escalation of the week (far more often
    in small strata, which the design samples more heavily), review each sample
    perfectly, and compare with the truth."""
    con = duckdb.connect(str(review_db), read_only=True)
    pop = population(con, parse_week("2025-03-17"), None).with_columns(
        size=pl.len().over("stratum")
    )
    rng = np.random.default_rng(7)
    p_true = np.where(pop["size"].to_numpy() <= 4, 0.6, 0.1)
    truth = pop.with_columns(
        is_unnecessary=pl.Series(rng.random(pop.height) < p_true).cast(pl.Int8)
    )
    true_rate = truth["is_unnecessary"].mean()
    estimates, naive, covered = [], [], 0
    n = max(40, pop["stratum"].n_unique())  # every stratum: the design stays unequal
    for seed in range(300):
        sampled = draw(truth, n, seed=seed)
        est = stratified_rate(sampled)
        estimates.append(est.value)
        naive.append(sampled["is_unnecessary"].mean())
        covered += est.ci_low <= true_rate <= est.ci_high
    mean, sd = np.mean(estimates), np.std(estimates)
    assert abs(mean - true_rate) < 4 * sd / np.sqrt(len(estimates))
    # without the weights, the share in the sample is biased (the design is unequal)
    assert abs(np.mean(naive) - true_rate) > 4 * np.std(naive) / np.sqrt(len(naive))
    assert covered / 300 >= 0.90


@settings(deadline=None)
@given(n=st.integers(1, 400), seed=st.integers(0, 2**31))
def test_the_sample_has_exactly_the_size_asked_for(review_week_population, n: int, seed: int):
    pop = review_week_population
    picked = draw(pop, n, seed)
    assert picked.height == min(n, pop.height)
    # every stratum of the level used is covered, and the weights add up to the week
    coarse, level = stratify(pop, n)
    assert set(picked["stratum"]) == set(coarse["stratum"])
    assert coarse["stratum"].n_unique() <= n
    assert picked["weight"].sum() == pytest.approx(pop.height)
    # the finest level that fits was used: every finer one has more than n strata
    columns = {"partner": "partner", "category": "category", "suspicious": "is_suspicious"}
    for finer in LEVELS[: LEVELS.index(level)]:
        assert pop.select([columns[c] for c in finer]).n_unique() > n
    assert pop.select([columns[c] for c in level]).n_unique() if level else n >= 1


@pytest.fixture(scope="module")
def review_week_population(review_db):
    con = duckdb.connect(str(review_db), read_only=True)
    try:
        return population(con, parse_week("2025-03-17"), None)
    finally:
        con.close()


def test_the_cli_says_how_a_small_sample_is_stratified(review_db, tmp_path):
    from tests.cli_run import tierlens

    db = tmp_path / "copy.duckdb"  # the other tests keep the shared file open
    shutil.copy(review_db, db)
    run = tierlens(
        "review",
        "sample",
        "--db",
        db,
        "--n",
        "5",
        "--seed",
        "9",
        "--week",
        "2025-03-17",
        cwd=tmp_path,
    )
    assert run.code == 0, run.describe()
    assert ": 5 of " in run.out
    assert "stratified by" in run.out


def test_the_default_week_is_the_same_everywhere(review_db, tmp_path):
    """`review sample`, the report and the scorecard open on one week."""
    from pipelines.presentation.queries import last_complete_week as scorecard_week
    from pipelines.report.build import render_html
    from pipelines.serving import read_pointer

    db = tmp_path / "copy.duckdb"
    shutil.copy(review_db, db)
    shutil.copytree(f"{review_db}.serving", f"{db}.serving")
    sampled = create_sample(db, None, n=3, seed=1).week_start
    pointer = read_pointer(db)
    assert pointer is not None
    _, reported, _ = render_html(db, None, None)
    assert sampled == reported == scorecard_week(str(pointer.snapshot))
