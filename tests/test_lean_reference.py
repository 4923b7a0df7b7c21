"""The lean DuckDB reference (benchmarks/lean.py) gives the figures of the pandas
baseline (benchmarks/pandas_baseline.py) and of `tierlens kpis`, numerator and
denominator, for the three KPIs the benchmarks compare.

The sample generator writes clean labels only, so the sample is roughened first, the
way real exports are: ambiguous tier labels (`L2/L3`, `l1 / 2`) on groups the tier
map does not know, labels in lower case or padded, `?` and empty labels and groups,
group names the tier map matches by pattern only (`Service Desk`, `2nd line`,
`Vendor`), clear labels on groups of another tier, statuses in other cases and
padded, and synonyms from the status map. Every change is one the baseline and
Tierlens read alike. A second copy adds tabs and no-break spaces around the values,
which Python's strip() removes (the baseline, hence the lean reference) and
Tierlens' trim() does not, so only the two scripts are compared on it.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest

from benchmarks import lean, pandas_baseline
from pipelines.sample.generator import write_sample
from tests.cli_run import tierlens

METRICS = ("l1_resolution_rate", "escalation_rate", "bounceback_rate")

UNMAPPED_GROUPS = ("Mixed team", "", "?", " Field Ops ")
PATTERN_GROUPS = {
    "L1": ("Service Desk", "helpdesk EMEA", "Tier 1"),
    "L2": ("2nd line", "Tier 2 Apps"),
    "L3": ("3rd line", "tier3 infra"),
}
STATUS_VARIANTS = {
    "Resolved": (" RESOLVED", "resolved ", "Solved", "Completed/Resolved"),
    "Closed": ("CLOSED", " closed", "Completed/Closed"),
    "In Progress": ("in progress", "Work in Progress", " Active "),
    "Pending": ("On Hold", "PENDING"),
    "Assigned": ("assigned ", "Queued"),
}


def _roughen(rows: list[dict[str, str]], rng: random.Random, exotic: bool) -> None:
    """Rewrite labels, groups and statuses of some events in place."""
    pad = ("\t", "\u00a0", " ") if exotic else (" ",)
    for row in rows:
        tier = row["tier"] or ""
        digit = tier[1:] if tier in ("L1", "L2", "L3") else None
        roll = rng.random()
        if digit and roll < 0.04:
            # an ambiguous label on a group the tier map does not know: lowest tier
            nxt = str(min(int(digit) + 1, 4))
            row["tier"] = rng.choice((f"L{digit}/L{nxt}", f"l{digit} / {nxt}", f"L{digit}/{nxt}"))
            row["group"] = rng.choice(UNMAPPED_GROUPS)
        elif digit and roll < 0.07:
            # an ambiguous label on a known group: the group's tier wins
            row["tier"] = f"L{digit}/L{min(int(digit) + 1, 4)}"
        elif digit and roll < 0.10:
            row["tier"] = rng.choice(pad) + tier.lower() + rng.choice(pad)
        elif digit and roll < 0.12:
            # no label: the group's tier, found by a pattern
            row["tier"] = rng.choice(("?", "", " "))
            row["group"] = rng.choice(PATTERN_GROUPS[tier])
        elif digit and roll < 0.125:
            # a clear label wins over the group's tier
            other = {"L1": "L2", "L2": "L3", "L3": "L1"}[tier]
            row["group"] = rng.choice(PATTERN_GROUPS[other])
        elif roll < 0.13:
            row["tier"] = "?"
            row["group"] = rng.choice(("?", ""))
        elif roll < 0.15 and row["group"]:
            row["group"] = rng.choice(pad) + row["group"].lower() + rng.choice(pad)
        elif roll < 0.155:
            row["group"] = "Vendor escalations"  # L4 by the tier map
            row["tier"] = ""
        if rng.random() < 0.08 and row["status"] in STATUS_VARIANTS:
            status = rng.choice(STATUS_VARIANTS[row["status"]])
            if exotic and rng.random() < 0.5:
                status = rng.choice(pad) + status + rng.choice(pad)
            row["status"] = status


def _roughened_sample(folder: Path, seed: int, exotic: bool) -> tuple[Path, Path]:
    write_sample(folder, n_tickets=3000, seed=seed, fmt="csv")
    events = folder / "events.csv"
    with events.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    _roughen(rows, random.Random(seed), exotic)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    events.write_text(out.getvalue(), encoding="utf-8")
    return folder / "tickets.csv", events


@pytest.fixture(scope="module")
def rough(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _roughened_sample(tmp_path_factory.mktemp("rough"), seed=11, exotic=False)


def _counts(figures: dict[str, dict[str, float]]) -> dict[str, tuple[int, int]]:
    return {m: (int(figures[m]["numerator"]), int(figures[m]["denominator"])) for m in METRICS}


def test_roughened_sample_has_what_it_claims(rough: tuple[Path, Path]) -> None:
    text = rough[1].read_text(encoding="utf-8")
    for needle in ("L2/L3", "Mixed team", "Service Desk", " RESOLVED", ",?,", "Vendor"):
        assert needle in text


def test_lean_equals_pandas_baseline(rough: tuple[Path, Path]) -> None:
    expected = _counts(pandas_baseline.compute(*rough))
    assert _counts(lean.compute(*rough)) == expected
    # the roughening matters: a few escalations and bouncebacks at least
    assert all(n > 50 for _, n in expected.values()), expected
    assert all(k > 0 for k, _ in expected.values()), expected


def test_lean_equals_pandas_baseline_with_unicode_whitespace(tmp_path: Path) -> None:
    files = _roughened_sample(tmp_path / "exotic", seed=12, exotic=True)
    assert "\u00a0" in files[1].read_text(encoding="utf-8")
    assert _counts(lean.compute(*files)) == _counts(pandas_baseline.compute(*files))


def test_lean_equals_tierlens_kpis(rough: tuple[Path, Path], tmp_path: Path) -> None:
    tickets, events = rough
    db = tmp_path / "t.duckdb"
    for args in (
        ("ingest", tickets, events, "--db", db, "--source", "rough"),
        ("build", "--db", db),
    ):
        run = tierlens(*args, cwd=tmp_path, timeout=300)
        assert run.code == 0, run.describe()
    run = tierlens("kpis", "--db", db, "--format", "csv", cwd=tmp_path)
    assert run.code == 0, run.describe()
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(run.out))}
    product = {
        m: (int(float(rows[m]["numerator"])), int(float(rows[m]["denominator"]))) for m in METRICS
    }
    assert _counts(lean.compute(tickets, events)) == product
