"""`tierlens kpis --config`: the KPIs are those of the published build (targets and
rules apply at `tierlens build`); a tierlens.toml that says otherwise is named in one
line on stderr, through the real command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.cli_run import Run, tierlens
from tests.models.test_kpis_handmade import handmade
from tests.models.timelines import load

ESCALATION_TARGET = """
[targets.escalation_rate]
green_max = 0.80
red_above = 0.90
label = "up to 80%"
"""


def escalation_row(run: Run) -> dict[str, str]:
    """The overall escalation_rate row of `tierlens kpis --format csv`."""
    assert run.code == 0, run.describe()
    rows = list(csv.DictReader(io.StringIO(run.out)))
    return next(r for r in rows if r["metric"] == "escalation_rate")


def drift_lines(run: Run) -> list[str]:
    assert run.code == 0, run.describe()
    return [line for line in run.err.splitlines() if "differ from" in line]


def test_kpis_names_a_config_the_build_did_not_apply(tmp_path: Path):
    db = tmp_path / "t.duckdb"
    load(db, handmade())
    (tmp_path / "tierlens.toml").write_text("min_sample = 1\n")
    built = tierlens("build", "--db", db, cwd=tmp_path)
    assert built.code == 0, built.describe()

    # the file the build read: nothing to say (table format: nothing at all on stderr)
    same = tierlens("kpis", "--db", db, cwd=tmp_path)
    assert same.code == 0 and same.err == "", same.describe()
    # 6 of 8 L1 tickets escalated: red against the default 15-20% (min_sample 1)
    row = escalation_row(tierlens("kpis", "--db", db, "--format", "csv", cwd=tmp_path))
    assert (row["value"], row["target"], row["status"]) == ("0.75", "15-20%", "red")

    # another target: the table still shows the build's, and one line says why
    other = tmp_path / "other.toml"
    other.write_text("min_sample = 1\n" + ESCALATION_TARGET)
    run = tierlens("kpis", "--db", db, "--format", "csv", "--config", other, cwd=tmp_path)
    assert (escalation_row(run)["target"], escalation_row(run)["status"]) == ("15-20%", "red")
    assert drift_lines(run) == [
        f"{other}: its targets differ from those of the published build 1, whose figures "
        "and statuses are shown; run `tierlens build` to apply them"
    ]

    # ./tierlens.toml edited after the build (a status-map rule and min_sample): named too
    (tmp_path / "tierlens.toml").write_text('min_sample = 2\n[status_map]\n"new" = "work"\n')
    edited = tierlens("kpis", "--db", db, cwd=tmp_path)
    assert drift_lines(edited) == [
        "tierlens.toml: its min_sample, status_map differ from those of the published "
        "build 1, whose figures and statuses are shown; run `tierlens build` to apply them"
    ]
    assert edited.err.count("\n") == 1, edited.describe()

    # after `tierlens build --config other.toml`, the table shows its target, no warning
    rebuilt = tierlens("build", "--db", db, "--config", other, cwd=tmp_path)
    assert rebuilt.code == 0, rebuilt.describe()
    run = tierlens("kpis", "--db", db, "--format", "csv", "--config", other, cwd=tmp_path)
    assert (escalation_row(run)["target"], escalation_row(run)["status"]) == ("up to 80%", "green")
    assert drift_lines(run) == []

    # no file given and none in the folder: nothing to compare, nothing said
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    quiet = tierlens("kpis", "--db", db, cwd=elsewhere)
    assert quiet.code == 0 and quiet.err == "", quiet.describe()
