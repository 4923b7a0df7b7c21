"""The net: hostile inputs through every command of the real CLI, as subprocesses.

Whatever a user can hand Tierlens (a missing file, a folder, a FIFO, a dangling
symlink, binary garbage, a gzip of garbage, UTF-16 text, a database that is not
one, a tierlens.toml of garbage, bad option and environment values), every command
ends with exit code 0, 1 or 2 and never prints a traceback. Cases marked xfail are
known tracebacks left to their owners (the reason says which); they flip to
failures when fixed, so the mark is removed then.

Random files and option strings come from hypothesis: TIERLENS_FUZZ_EXAMPLES sets
how many (12 by default; each is a subprocess of about a second).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample
from tests.cli_run import Run, tierlens

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "adapters"
EXAMPLES = int(os.environ.get("TIERLENS_FUZZ_EXAMPLES", "12"))
FORMATS = ["canonical", "servicenow-audit", "servicenow-incident", "zendesk", "eventlog", "mapped"]
ODD_DB = "O'Brien – Zürich 東京.duckdb"  # an apostrophe and non-ASCII in a database path


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.text, run.describe()
    assert run.code in (0, 1, 2), run.describe()
    if run.code == 2:  # said why: our one-line error, or click's usage error
        assert "error:" in run.err or "Error" in run.err, run.describe()


def _garbage(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of hostile inputs, a small built database (built.duckdb) and the
    working folder of every command (no tierlens.toml of the repository in it)."""
    d = tmp_path_factory.mktemp("corpus")
    write_sample(d / "sample", n_tickets=120, seed=3)
    tickets = (d / "sample" / "tickets.csv").read_text()
    run_ingest([d / "sample"], db_path=d / "built.duckdb", config=Config(), source="sample")
    run_build(d / "built.duckdb", Config())

    (d / "empty.csv").write_bytes(b"")
    (d / "adir").mkdir()
    os.mkfifo(d / "fifo.csv")
    (d / "dangling.csv").symlink_to(d / "nowhere.csv")
    (d / "loop.csv").symlink_to(d / "loop.csv")
    (d / "garbage.csv").write_bytes(_garbage(4096, 1))
    (d / "garbage.csv.gz").write_bytes(gzip.compress(_garbage(4096, 2)))
    (d / "truncated.csv.gz").write_bytes(gzip.compress(tickets.encode())[:300])
    (d / "nul.csv").write_bytes(tickets.splitlines()[0].encode() + b"\n" + b"\0" * 200 + b"\n")
    (d / "utf16.csv").write_bytes(tickets.encode("utf-16"))
    (d / "header_only.csv").write_text(tickets.splitlines()[0] + "\n")
    (d / "in[").mkdir()
    (d / "in[" / "]x.csv").write_text(tickets)  # in[/]x.csv: a closing tag to rich
    events = json.loads((FIXTURES / "zendesk_ticket_events.json").read_text())
    (d / "zd_pretty.json.gz").write_bytes(gzip.compress(json.dumps(events, indent=2).encode()))
    (d / "zd_utf16.json").write_bytes(json.dumps(events, indent=2).encode("utf-16"))
    (d / "zd_empty_page.json").write_text('{"ticket_events": [], "end_of_stream": true}')
    (d / "zd_not_object.json").write_text("[1, 2, 3]")
    (d / "not_a_db.duckdb").write_bytes(_garbage(8192, 3))
    (d / "empty.duckdb").write_bytes(b"")
    (d / "toml_garbage.toml").write_bytes(_garbage(512, 4))
    (d / "toml_utf16.toml").write_bytes('week_start = "monday"\n'.encode("utf-16"))
    (d / "toml_wrong.toml").write_text('week_start = "caturday"\nmin_sample = "many"\n[x]\ny=1\n')
    (d / "sunday.toml").write_text('week_start = "sunday"\n')
    (d / "verdicts_garbage.jsonl").write_bytes(_garbage(1024, 5))
    (d / "verdicts_wrong.jsonl").write_text('{"a": 1}\n[1]\n"x"\n{"verdict_id": null}\n')
    (d / "verdicts_utf16.jsonl").write_bytes('{"verdict_id": "x"}\n'.encode("utf-16"))
    (d / "a_file.txt").write_text("not a folder\n")
    return d


# ---------------------------------------------------------------- ingest

_PATHS = ["missing.csv", "empty.csv", "adir", "dangling.csv", "loop.csv"]
_CONTENT = ["garbage.csv", "garbage.csv.gz", "truncated.csv.gz", "nul.csv", "utf16.csv",
            "header_only.csv"]
_ZENDESK = ["zd_pretty.json.gz", "zd_utf16.json", "zd_empty_page.json", "zd_not_object.json"]

# Known tracebacks in pipelines/ingest/ (not this test's to fix): (format, file) -> what.
INGEST_XFAIL: dict[tuple[str, str], str] = {}


def _format_args(fmt: str) -> list[str]:
    if fmt == "mapped":
        return ["--format", "mapped", "--mapping", str(ROOT / "mappings" / "halopsa_tickets.toml")]
    return ["--format", fmt]


def _ingest_cases() -> list:
    cases = [(fmt, f) for fmt in ("canonical", "zendesk") for f in _PATHS]
    cases += [(fmt, f) for fmt in FORMATS for f in _CONTENT]
    cases += [("zendesk", f) for f in _ZENDESK]
    cases += [("canonical", "in[/]x.csv"), ("canonical", "fifo.csv")]
    return [
        pytest.param(
            fmt, name, id=f"{fmt}-{name}",
            marks=[pytest.mark.xfail(strict=True, reason=INGEST_XFAIL[fmt, name])]
            if (fmt, name) in INGEST_XFAIL else [],
        )
        for fmt, name in cases
    ]


@pytest.mark.parametrize(("fmt", "name"), _ingest_cases())
def test_ingest_hostile_file(corpus: Path, tmp_path: Path, fmt: str, name: str) -> None:
    db = tmp_path / "t.duckdb"
    run = tierlens("ingest", name, "--db", db, *_format_args(fmt), cwd=corpus, timeout=20)
    assert_no_traceback(run)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048), fmt=st.sampled_from(FORMATS),
       suffix=st.sampled_from([".csv", ".json", ".jsonl", ".parquet", ".csv.gz", ".txt"]))
def test_ingest_random_bytes(corpus: Path, tmp_path: Path, data: bytes, fmt: str,
                             suffix: str) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    db = tmp_path / "random.duckdb"
    run = tierlens("ingest", path, "--db", db, *_format_args(fmt), cwd=corpus, timeout=20)
    assert_no_traceback(run)
    db.unlink(missing_ok=True)


# ---------------------------------------------------------------- every other command

BUILT = "built.duckdb"
CASES: list[tuple[str, list[str], dict[str, str]]] = [
    # the command line itself
    ("unknown-command", ["[/]"], {}),
    ("unknown-option", ["kpis", "--[/]"], {}),
    ("option-markup", ["sample", "--tickets", "[bold]x"], {}),
    # sample
    ("sample-negative", ["sample", "--tickets", "-5", "--out", "{tmp}/s"], {}),
    ("sample-zero", ["sample", "--tickets", "0", "--out", "{tmp}/s"], {}),
    ("sample-format", ["sample", "--tickets", "10", "--format", "xml", "--out", "{tmp}/s"], {}),
    ("sample-out-is-file", ["sample", "--tickets", "10", "--out", "a_file.txt"], {}),
    ("sample-out-under-file", ["sample", "--tickets", "10", "--out", "a_file.txt/s"], {}),
    # ingest: options
    ("ingest-format", ["ingest", "sample", "--db", "{tmp}/t.duckdb", "--format", "xml"], {}),
    ("ingest-kind", ["ingest", "sample", "--db", "{tmp}/t.duckdb", "--kind", "cats"], {}),
    ("ingest-mapping-missing", ["ingest", "sample", "--db", "{tmp}/t.duckdb", "--format",
                                "mapped", "--mapping", "missing.toml"], {}),
    ("ingest-mapping-garbage", ["ingest", "sample", "--db", "{tmp}/t.duckdb", "--format",
                                "mapped", "--mapping", "toml_garbage.toml"], {}),
    ("ingest-mapping-dir", ["ingest", "sample", "--db", "{tmp}/t.duckdb", "--format",
                            "mapped", "--mapping", "adir"], {}),
    ("ingest-mapped-no-mapping", ["ingest", "sample", "--db", "{tmp}/t.duckdb", "--format",
                                  "mapped"], {}),
    ("ingest-db-not-duckdb", ["ingest", "sample", "--db", "not_a_db.duckdb"], {}),
    ("ingest-db-dir", ["ingest", "sample", "--db", "adir"], {}),
    ("ingest-db-under-file", ["ingest", "sample", "--db", "a_file.txt/t.duckdb"], {}),
    ("ingest-env-lock", ["ingest", "sample", "--db", "{tmp}/t.duckdb"],
     {"TIERLENS_LOCK_WAIT": "soon"}),
    ("ingest-env-memory", ["ingest", "sample", "--db", "{tmp}/t.duckdb"],
     {"TIERLENS_MEMORY_LIMIT": "lots"}),
    # build
    ("build-missing", ["build", "--db", "{tmp}/missing.duckdb"], {}),
    ("build-not-duckdb", ["build", "--db", "not_a_db.duckdb"], {}),
    ("build-empty-file", ["build", "--db", "empty.duckdb"], {}),
    ("build-dir", ["build", "--db", "adir"], {}),
    ("build-config-garbage", ["build", "--db", BUILT, "--config", "toml_garbage.toml"], {}),
    ("build-config-utf16", ["build", "--db", BUILT, "--config", "toml_utf16.toml"], {}),
    ("build-config-wrong", ["build", "--db", BUILT, "--config", "toml_wrong.toml"], {}),
    ("build-config-missing", ["build", "--db", BUILT, "--config", "missing.toml"], {}),
    ("build-config-dir", ["build", "--db", BUILT, "--config", "adir"], {}),
    # kpis
    ("kpis-by-unknown", ["kpis", "--db", BUILT, "--by", "planet"], {}),
    ("kpis-by-empty", ["kpis", "--db", BUILT, "--by", ",,"], {}),
    ("kpis-since", ["kpis", "--db", BUILT, "--since", "yesterday"], {}),
    ("kpis-until", ["kpis", "--db", BUILT, "--until", "2024-13-45"], {}),
    ("kpis-format", ["kpis", "--db", BUILT, "--format", "xml"], {}),
    ("kpis-not-duckdb", ["kpis", "--db", "not_a_db.duckdb"], {}),
    ("kpis-empty-file", ["kpis", "--db", "empty.duckdb"], {}),
    ("kpis-dir", ["kpis", "--db", "adir"], {}),
    ("kpis-env-lock", ["kpis", "--db", BUILT], {"TIERLENS_LOCK_WAIT": "-3"}),
    # export
    ("export-format", ["export", "{tmp}/k.xml", "--db", BUILT, "--format", "xml"], {}),
    ("export-out-dir", ["export", "adir", "--db", BUILT], {}),
    ("export-out-under-file", ["export", "a_file.txt/k.parquet", "--db", BUILT], {}),
    ("export-by", ["export", "{tmp}/k.parquet", "--db", BUILT, "--by", "planet"], {}),
    # dashboard: argument checks only (never a served session)
    ("dashboard-port-high", ["dashboard", "--db", BUILT, "--port", "99999"], {}),
    ("dashboard-port-zero", ["dashboard", "--db", BUILT, "--port", "0"], {}),
    ("dashboard-port-text", ["dashboard", "--db", BUILT, "--port", "http"], {}),
    ("dashboard-missing", ["dashboard", "--db", "{tmp}/missing.duckdb", "--port", "8501"], {}),
    ("dashboard-env", ["dashboard", "--db", BUILT, "--port", "8501"],
     {"TIERLENS_MEMORY_LIMIT": "0GB"}),
    # reconcile
    ("reconcile-not-duckdb", ["reconcile", "--db", "not_a_db.duckdb"], {}),
    ("reconcile-missing", ["reconcile", "--db", "{tmp}/missing.duckdb"], {}),
    ("reconcile-examples", ["reconcile", "--db", BUILT, "--examples", "-1"], {}),
    # review
    ("review-week", ["review", "sample", "--db", BUILT, "--week", "next"], {}),
    ("review-week-60", ["review", "sample", "--db", BUILT, "--week", "2025-W60"], {}),
    ("review-week-year-1", ["review", "sample", "--db", BUILT, "--week", "0001-01-01",
                            ], {}),
    ("review-n-zero", ["review", "sample", "--db", BUILT, "--n", "0"], {}),
    ("review-n-negative", ["review", "sample", "--db", BUILT, "--n", "-4"], {}),
    ("review-partner", ["review", "sample", "--db", BUILT, "--partner", "[/]Nobody"], {}),
    ("review-seed-huge", ["review", "sample", "--db", BUILT, "--seed", str(2**70)], {}),
    ("review-not-duckdb", ["review", "sample", "--db", "not_a_db.duckdb"], {}),
    ("review-estimate-unknown", ["review", "estimate", "[/]x", "--db", BUILT], {}),
    ("review-estimate-empty", ["review", "estimate", "", "--db", BUILT], {}),
    ("review-export-dir", ["review", "export", "adir", "--db", BUILT], {}),
    ("review-export-under-file", ["review", "export", "a_file.txt/v.jsonl", "--db", BUILT], {}),
    ("review-export-missing-db", ["review", "export", "{tmp}/v.jsonl", "--db", "{tmp}/m.duckdb"],
     {}),
    ("review-import-garbage", ["review", "import", "verdicts_garbage.jsonl", "--db", BUILT], {}),
    ("review-import-wrong", ["review", "import", "verdicts_wrong.jsonl", "--db", BUILT], {}),
    ("review-import-utf16", ["review", "import", "verdicts_utf16.jsonl", "--db", BUILT], {}),
    ("review-import-dir", ["review", "import", "adir", "--db", BUILT], {}),
    ("review-import-fifo-free", ["review", "import", "dangling.csv", "--db", BUILT], {}),
    # report
    ("report-week", ["report", "--db", BUILT, "--week", "2025-W99"], {}),
    ("report-partner", ["report", "--db", BUILT, "--partner", "[/]Nobody",
                        "--out", "{tmp}/r.html"], {}),
    ("report-format", ["report", "--db", BUILT, "--format", "docx", "--out", "{tmp}/r.x"], {}),
    ("report-out-dir", ["report", "--db", BUILT, "--out", "adir"], {}),
    ("report-out-under-file", ["report", "--db", BUILT, "--out", "a_file.txt/r.html"], {}),
    ("report-pdf-chromium-dir", ["report", "--db", BUILT, "--format", "pdf", "--out",
                                 "{tmp}/r.pdf"], {"TIERLENS_CHROMIUM": "/"}),
    ("report-not-duckdb", ["report", "--db", "not_a_db.duckdb", "--out", "{tmp}/r.html"], {}),
]

# Known tracebacks outside this test's files: case id -> what.
CASE_XFAIL: dict[str, str] = {}


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(
            args, env, id=case_id,
            marks=[pytest.mark.xfail(strict=True, reason=CASE_XFAIL[case_id])]
            if case_id in CASE_XFAIL else [],
        )
        for case_id, args, env in CASES
    ],
)
def test_command_on_hostile_input(corpus: Path, tmp_path: Path, args: list[str],
                                  env: dict[str, str]) -> None:
    run = tierlens(*(a.replace("{tmp}", str(tmp_path)) for a in args), cwd=corpus, env=env)
    assert_no_traceback(run)


def test_a_garbage_tierlens_toml_in_the_working_folder(corpus: Path, tmp_path: Path) -> None:
    """The default ./tierlens.toml (read by every command that reads the configuration)."""
    for name in ("toml_garbage.toml", "toml_utf16.toml", "toml_wrong.toml"):
        shutil.copy(corpus / name, tmp_path / "tierlens.toml")
        for args in (["kpis", "--db", corpus / BUILT], ["review", "sample", "--db",
                                                         corpus / BUILT, "--week", "2025-03-03"]):
            run = tierlens(*args, cwd=tmp_path)
            assert_no_traceback(run)
            assert run.code == 2, run.describe()
            assert "tierlens.toml" in run.err, run.describe()
    (tmp_path / "tierlens.toml").unlink()
    (tmp_path / "tierlens.toml").mkdir()
    run = tierlens("kpis", "--db", corpus / BUILT, cwd=tmp_path)
    assert_no_traceback(run)


def test_a_week_before_year_one_under_a_sunday_week(corpus: Path, tmp_path: Path) -> None:
    shutil.copy(corpus / "sunday.toml", tmp_path / "tierlens.toml")
    run = tierlens("review", "sample", "--db", corpus / BUILT, "--week", "0001-01-01",
                   cwd=tmp_path)
    assert_no_traceback(run)
    assert run.err.strip() == "error: --week: '0001-01-01' is before the first week there is"


def test_a_database_path_with_an_apostrophe_and_non_ascii(corpus: Path, tmp_path: Path) -> None:
    """Not hostile, only unusual: everything works, and the KPIs are the same."""
    db = tmp_path / ODD_DB
    for args in (["ingest", "sample", "--db", db], ["build", "--db", db]):
        run = tierlens(*args, cwd=corpus)
        assert run.code == 0, run.describe()
    odd = tierlens("kpis", "--db", db, "--format", "csv", cwd=corpus)
    same = tierlens("kpis", "--db", BUILT, "--format", "csv", cwd=corpus)
    assert odd.code == 0 and same.code == 0, odd.describe() + same.describe()
    assert odd.out == same.out and odd.out.count("\n") > 10


_OPTIONS = [
    ["kpis", "--db", BUILT, "--by={}"],
    ["kpis", "--db", BUILT, "--since={}"],
    ["kpis", "--db", BUILT, "--until={}"],
    ["kpis", "--db", BUILT, "--format={}"],
    ["export", "{tmp}/k.parquet", "--db", BUILT, "--format={}"],
    ["report", "--db", BUILT, "--out", "{tmp}/r.html", "--week={}"],
    ["report", "--db", BUILT, "--out", "{tmp}/r.html", "--partner={}"],
    ["review", "sample", "--db", BUILT, "--week={}"],
    ["review", "estimate", "--db", BUILT, "--", "{}"],
    ["sample", "--out", "{tmp}/s", "--tickets", "5", "--format={}"],
    ["ingest", "sample/tickets.csv", "--db", "{tmp}/t.duckdb", "--kind={}"],
    ["dashboard", "--db", BUILT, "--port={}"],
]
_OPTION_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40
) | st.sampled_from(["[/]", "[bold]x", ":smile:", "2024-W53", "0", "-1", "99999",
                     "partner,planet", "1e400", "٣", "2024-02-30"])


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=st.sampled_from(_OPTIONS), value=_OPTION_TEXT)
def test_random_option_values(corpus: Path, tmp_path: Path, template: list[str],
                              value: str) -> None:
    if template[0] == "dashboard":
        try:
            port: int | None = int(value)  # as click reads it ("٣", "+80" and "8_0" too)
        except ValueError:
            port = None
        if port is not None and 1 <= port <= 65535:
            value = "0"  # a valid port would serve a session
    args = [a.replace("{tmp}", str(tmp_path)).replace("{}", value) for a in template]
    run = tierlens(*args, cwd=corpus)
    assert_no_traceback(run)
