"""Through the real CLI: a quarantined ticket does not block the build, readers see
builds atomically whatever moment a build is killed, and database paths may hold
apostrophes, spaces and non-ASCII letters."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.db import connect
from pipelines.serving import read_pointer, serving_dir

# Week of Monday 4 March 2024: (ticket, partner, client, priority, category), and
# events (ticket, minute after 09:00 on 4 March, group, tier, agent, status).
# A: resolved at L1; B: escalated L1 -> L2.
FIRST = (
    [("A", "acme", "north", "P3", "software"), ("B", "acme", "north", "P3", "software")],
    [
        ("A", 0, "SD-L1", "L1", "ann", "New"),
        ("A", 5, "SD-L1", "L1", "ann", "Resolved"),
        ("B", 0, "SD-L1", "L1", "ann", "New"),
        ("B", 10, "Apps-L2", "L2", "bob", "Assigned"),
        ("B", 40, "Apps-L2", "L2", "bob", "Resolved"),
    ],
)
# A second export: C and D, both resolved at L1 (the escalation rate falls to 1/4).
SECOND = (
    [("C", "acme", "north", "P3", "software"), ("D", "acme", "south", "P2", "network")],
    [
        ("C", 60, "SD-L1", "L1", "ann", "New"),
        ("C", 80, "SD-L1", "L1", "ann", "Resolved"),
        ("D", 60, "SD-L1", "L1", "cat", "New"),
        ("D", 67, "SD-L1", "L1", "cat", "Resolved"),
    ],
)
WEEK = "2024-03-04"


def tierlens(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def load(db: Path, rows: tuple[list[tuple], list[tuple]], batch_id: int) -> None:
    """Rows into raw.* as one ingest batch would leave them (named columns only)."""
    con = connect(db)
    try:
        con.execute(
            "insert into meta.batches values "
            "(?, 'handmade', 'tickets', 'handmade.csv', ?, now(), now(), 0, 0, 0, 0)",
            [batch_id, f"hash{batch_id}"],
        )
        con.executemany(
            "insert into raw.tickets (ticket_id, partner, client, opened_at, priority, category, "
            "_batch_id, _source_file, _line) values (?, ?, ?, timestamptz '2024-03-04 09:00Z', "
            "?, ?, ?, 'tickets.csv', 1)",
            [(*t, batch_id) for t in rows[0]],
        )
        con.executemany(
            "insert into raw.events (ticket_id, event_at, seq, group_name, tier, agent, status, "
            "_batch_id, _source_file, _line) values (?, timestamptz '2024-03-04 09:00Z' "
            "+ to_minutes(?), 1, ?, ?, ?, ?, ?, 'events.csv', 1)",
            [(*e, batch_id) for e in rows[1]],
        )
    finally:
        con.close()


def escalation_rate(kpis_csv: str) -> str:
    line = next(r for r in kpis_csv.splitlines() if r.startswith("escalation_rate,"))
    return ",".join(line.split(",")[1:4])  # value, numerator, denominator


def report_build(db: Path, cwd: Path) -> int:
    out = ok(tierlens("report", "--week", WEEK, "--db", db, "--out", cwd / "r.html", cwd=cwd))
    found = re.search(r"\(build (\d+)\)", out)
    assert found, out
    return int(found.group(1))


def dashboard_build(db: Path) -> tuple[int, int]:
    """The build the dashboard serves and its number of tickets (its data access)."""
    from dashboards import data

    located = data.locate(db)
    assert located.state == "ok" and located.pointer is not None
    info = data.build_info(str(located.pointer.snapshot))
    return located.pointer.build_id, int(info["n_tickets"])


def readers(db: Path, cwd: Path) -> tuple[int, int, int, str]:
    """(dashboard build, its tickets, report build, kpis escalation rate)."""
    build, n_tickets = dashboard_build(db)
    kpis = ok(tierlens("kpis", "--db", db, "--format", "csv", cwd=cwd))
    return build, n_tickets, report_build(db, cwd), escalation_rate(kpis)


# Build 1 (A, B): 1 of 2 escalated. Build 2 (A-D): 1 of 4.
ON_BUILD_1 = (1, 2, 1, "0.5,1.0,2.0")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with build 1 published and a second export ingested since."""
    folder = tmp_path_factory.mktemp("base")
    db = folder / "t.duckdb"
    load(db, FIRST, 1)
    ok(tierlens("build", "--db", db, cwd=folder))
    assert readers(db, folder) == ON_BUILD_1
    load(db, SECOND, 2)
    return db


def copy_db(db: Path, folder: Path) -> Path:
    target = folder / db.name
    shutil.copy(db, target)
    shutil.copytree(serving_dir(db), serving_dir(target))
    return target


def with_bad_ticket(base: Path, folder: Path, ticket_id: str, priority: str) -> Path:
    """A copy of `base` with one more ticket, as an adapter could let it through: a
    priority the data tests refuse, so the next build quarantines it."""
    db = copy_db(base, folder)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into raw.tickets (ticket_id, partner, priority, _batch_id, _source_file, "
            "_line) values (?, 'acme', ?, 2, 'tickets.csv', 9)",
            [ticket_id, priority],
        )
    return db


def kill_build_at(db: Path, point: str, cwd: Path) -> None:
    """Start `tierlens build`, wait until it pauses at `point`, kill it (SIGKILL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "build", "--db", str(db)],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TIERLENS_TEST_PAUSE": f"{point}:60"},
    )
    assert proc.stderr is not None
    try:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if line.strip() == f"paused at {point}":
                break
        else:
            pytest.fail(f"the build never paused at {point}: {''.join(lines)}")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ("before_commit", ON_BUILD_1),
        ("after_commit", ON_BUILD_1),
        ("during_publish", ON_BUILD_1),
        ("after_publish", (2, 4, 2, "0.25,1.0,4.0")),
    ],
)
def test_readers_agree_whenever_a_build_is_killed(
    base: Path, tmp_path: Path, point: str, expected: tuple
) -> None:
    db = copy_db(base, tmp_path)
    kill_build_at(db, point, tmp_path)
    assert readers(db, tmp_path) == expected
    with duckdb.connect(str(db), read_only=True) as con:
        committed = con.execute("select max(build_id) from meta.builds").fetchall()[0][0]
    assert committed == (1 if point == "before_commit" else 2)
    # The next build publishes; everyone moves to it together.
    ok(tierlens("build", "--db", db, cwd=tmp_path))
    after = committed + 1
    assert readers(db, tmp_path) == (after, 4, after, "0.25,1.0,4.0")


@pytest.mark.parametrize("point", ["after_commit", "during_publish"])
def test_a_build_committed_but_not_published_is_published_by_the_next(
    base: Path, tmp_path: Path, point: str
) -> None:
    """Build 2 is committed, its publish killed; build 3 is killed before its own
    commit, after publishing build 2 first: readers are on build 2."""
    db = copy_db(base, tmp_path)
    kill_build_at(db, point, tmp_path)
    kill_build_at(db, "before_commit", tmp_path)
    assert readers(db, tmp_path) == (2, 4, 2, "0.25,1.0,4.0")
    pointer = read_pointer(db)
    assert pointer is not None and pointer.snapshot.name == "build_2.duckdb"


# A third export: E, resolved at L1 (1 of 5 tickets changed: a refresh).
THIRD = (
    [("E", "acme", "north", "P3", "software")],
    [("E", 90, "SD-L1", "L1", "ann", "New"), ("E", 95, "SD-L1", "L1", "ann", "Resolved")],
)


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_a_build_whose_snapshot_cannot_be_written_says_so(
    base: Path, tmp_path: Path, mode: str
) -> None:
    """A folder is in the way of the next snapshot's file (a refresh copies the last
    snapshot there while it computes; a full build writes it after its commit):
    the build says so in one line, nothing half-written is served, readers stay on
    the last snapshot, and the next build publishes the committed one, then its own."""
    db = copy_db(base, tmp_path)
    if mode == "incremental":  # build 2 (full: half the tickets are new), then E
        ok(tierlens("build", "--db", db, cwd=tmp_path))
        load(db, THIRD, 3)
    last = 1 if mode == "full" else 2
    last_readers = ON_BUILD_1 if mode == "full" else (2, 4, 2, "0.25,1.0,4.0")
    blocker = serving_dir(db) / f"build_{last + 1}.duckdb"
    blocker.mkdir()
    (blocker / "notes.txt").write_text("in the way", encoding="utf-8")
    files = sorted(p.name for p in serving_dir(db).iterdir())

    run = tierlens("build", "--db", db, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    said = "full build: 2 of 4" if mode == "full" else "incremental: 1 of 5 tickets changed"
    assert f"  {said}" in run.stdout, run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(
        f"error: build {last + 1} is published, but its dashboard snapshot failed: "
    ), run.stderr
    assert "Is a directory" in lines[0] and blocker.name in lines[0], run.stderr
    assert readers(db, tmp_path) == last_readers
    assert sorted(p.name for p in serving_dir(db).iterdir()) == files
    assert (blocker / "notes.txt").read_text(encoding="utf-8") == "in the way"

    shutil.rmtree(blocker)
    ok(tierlens("build", "--db", db, cwd=tmp_path))
    n = 4 if mode == "full" else 5
    rate = "0.25,1.0,4.0" if mode == "full" else "0.2,1.0,5.0"
    assert readers(db, tmp_path) == (last + 2, n, last + 2, rate)


def test_a_quarantined_ticket_is_shown_as_text_everywhere(base: Path, tmp_path: Path) -> None:
    """A ticket an adapter let through with priority P9 and an id that looks like
    markup: the build publishes the other 4 with a warning naming it, reconcile and
    the dashboard list it."""
    db = with_bad_ticket(base, tmp_path, "[bold]Q1[/bold] :smile:", "P9")
    out = ok(tierlens("build", "--db", db, cwd=tmp_path))
    assert "warning: 1 ticket quarantined: it failed a data test" in out
    assert "[bold]Q1[/bold] :smile:: stg_tickets: accepted_values priority in" in out
    assert "(priority=P9)" in out
    assert "build 2:" in out and "4 resolved tickets in the KPIs" in out

    recon = ok(tierlens("reconcile", "--db", db, cwd=tmp_path))
    assert "tickets: 5 loaded = 4 in the build + 1 quarantined" in recon
    assert "[bold]Q1[/bold] :smile:" in recon

    from dashboards import data

    pointer = read_pointer(db)
    assert pointer is not None
    listed = data.quarantine(str(pointer.snapshot))
    assert listed.rows() == [
        (
            "[bold]Q1[/bold] :smile:",
            "stg_tickets",
            "accepted_values priority in ('P1', 'P2', 'P3', 'P4')",
            "priority=P9",
        )
    ]


def build_schemas(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select schema_name from information_schema.schemata "
            "where schema_name like 'build%' order by all"
        ).fetchall()
    return [name for (name,) in rows]


def test_a_build_killed_among_its_models_changes_nothing_readers_see(
    base: Path, tmp_path: Path
) -> None:
    """Build 2 publishes 4 tickets and quarantines Q3. Build 3 (a full one: a
    quarantine is always tested again) commits its models one by one and is killed
    after the first: every reader, reconcile's accounting and the quarantine list
    stay on build 2; the next build removes what build 3 left."""
    db = with_bad_ticket(base, tmp_path, "Q3", "P9")
    ok(tierlens("build", "--db", db, cwd=tmp_path))
    on_build_2 = (2, 4, 2, "0.25,1.0,4.0")
    assert readers(db, tmp_path) == on_build_2
    published = build_schemas(db)

    kill_build_at(db, "between_models", tmp_path)
    assert build_schemas(db) == sorted([*published, "build_3"])  # its first model, committed
    assert readers(db, tmp_path) == on_build_2
    recon = ok(tierlens("reconcile", "--db", db, cwd=tmp_path))
    assert "tickets: 5 loaded = 4 in the build + 1 quarantined" in recon
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select build_id, ticket_id from meta.quarantine").fetchall() == [
            (2, "Q3")
        ]
        assert con.execute("select max(build_id) from meta.builds").fetchall() == [(2,)]

    out = ok(tierlens("build", "--db", db, cwd=tmp_path))
    assert "build 3:" in out and "1 ticket quarantined" in out
    assert build_schemas(db) == ["build_3"]
    assert readers(db, tmp_path) == (3, 4, 3, "0.25,1.0,4.0")


def test_the_quality_page_lists_quarantined_tickets(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.dashboard.conftest import app_test, open_page

    db = with_bad_ticket(base, tmp_path, "**Q2**", "urgent")
    ok(tierlens("build", "--db", db, cwd=tmp_path))
    at = open_page(app_test(db, monkeypatch), "quality")
    assert not at.exception, [e.value for e in at.exception]
    assert any("1 ticket failed a data test" in w.value for w in at.warning)
    frame = next(df.value for df in at.dataframe if "test" in df.value.columns)
    assert list(frame["ticket_id"]) == ["**Q2**"]
    assert list(frame["detail"]) == ["priority=urgent"]


def test_paths_with_apostrophes_spaces_and_accents(tmp_path: Path) -> None:
    folder = tmp_path / "it's a tést"
    folder.mkdir()
    db = folder / "l'équipe ü.duckdb"
    load(db, FIRST, 1)
    out = ok(tierlens("build", "--db", db, cwd=folder))
    assert "build 1:" in out
    assert readers(db, folder) == ON_BUILD_1
    ok(tierlens("build", "--db", db, cwd=folder))  # a second publish prunes nothing wrong
    assert readers(db, folder)[:3] == (2, 2, 2)
    ok(tierlens("export", folder / "k.csv", "--db", db, "--format", "csv", cwd=folder))
    assert "escalation_rate" in (folder / "k.csv").read_text()
    ok(tierlens("reconcile", "--db", db, cwd=folder))


def test_a_bad_test_pause_setting_stops_the_build_before_it_starts(base: Path, tmp_path: Path):
    db = copy_db(base, tmp_path)
    result = tierlens("build", "--db", db, cwd=tmp_path, env={"TIERLENS_TEST_PAUSE": "nowhere"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: environment variable TIERLENS_TEST_PAUSE='nowhere'")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select max(build_id) from meta.builds").fetchall() == [(1,)]
