"""Tierlens at MSP scale: `make bench` (or `python -m benchmarks.run`).

    make bench
    make bench ARGS="--sizes 10000,100000 --runs 3"
    python -m benchmarks.run --report-only        # re-render docs/performance.md

For each size: generate the CSV exports with the sample generator (cached in
benchmarks/data/), then, `--runs` times, each step as a fresh subprocess timed
wall-clock with its peak RSS (os.wait4 rusage of that child alone):

- floor     DuckDB alone: create table as select * from read_csv(...), no validation
- lean      benchmarks/lean.py: the three KPIs in one DuckDB query over the files
- ingest    `tierlens ingest tickets.csv events.csv` into a fresh database
- build     `tierlens build`
- kpis      `tierlens kpis --by partner,week --format csv`, then overall and by agent
- baseline  benchmarks/pandas_baseline.py on the same two files

then checks that the baseline's and the lean reference's three figures equal
`tierlens kpis` exactly, and times the dashboard in headless Chromium
(benchmarks/browser.py). Medians are quoted. Results go to
benchmarks/results/results.json (merged by size, so sizes can be run separately)
and docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.delta import write_delta

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "results.json"
REPORT = ROOT / "docs" / "performance.md"
PY = sys.executable
TIERLENS = [PY, "-m", "pipelines.cli"]
KPI_CHECK = ("l1_resolution_rate", "escalation_rate", "bounceback_rate")
DEFAULT_SIZES = "10000,100000,1000000,3000000"


def log(text: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {text}", flush=True)


def measured(cmd: list[str], *, cwd: Path = ROOT, env: dict | None = None) -> dict:
    """Run `cmd` as a fresh process: wall seconds, its own peak RSS, its stdout. The
    writes of the steps before are flushed to disk first: a step that starts while
    the kernel is still writing out the last build's gigabytes pays for them (at 1M
    tickets, a refresh timed right after the full build took 7.6-10.1 s, the same
    refresh after a sync 7.2-7.6 s)."""
    os.sync()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    # ru_maxrss is in KiB on Linux
    return {"seconds": wall, "rss_mb": usage.ru_maxrss / 1024, "stdout": stdout}


def git_commit(where: Path = ROOT) -> str:
    """The short commit of the checkout at `where`, or "?"."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "?"
    return out.stdout.strip() or "?"


def write_section(key: str, result: dict, lines: list[str], start: str, end: str) -> None:
    """Put a side benchmark's section into docs/performance.md between its markers
    (replacing an earlier one), and its result into the main results under `key`,
    so that `make bench` renders it again."""
    section = "\n".join(lines)
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Performance\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section.rstrip("\n") + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    REPORT.write_text(text, encoding="utf-8")
    if RESULTS.exists():
        main = json.loads(RESULTS.read_text())
        main[key] = result
        RESULTS.write_text(json.dumps(main, indent=2) + "\n")


# Above this size the generator would hold the whole sample in memory: the dataset
# is the 1M one written k times, each copy's ticket ids prefixed (R1-, R2-, ...).
REPLICATE_ABOVE = 3_000_000
BASE_SIZE = 1_000_000


def _replicate(base: dict, k: int, folder: Path) -> None:
    import duckdb

    log(f"writing {k} copies of the {BASE_SIZE:,}-ticket dataset into {folder}")
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    started = time.perf_counter()
    con = duckdb.connect()
    for name in ("tickets", "events"):
        src = f"read_csv('{base[name + '_csv']}', all_varchar = true)"
        copies = " union all ".join(
            f"select * replace ('R{i}-' || ticket_id as ticket_id) from {src}"
            for i in range(1, k + 1)
        )
        con.execute(f"copy ({copies}) to '{tmp / (name + '.csv')}' (header)")
    con.close()
    planted = {"n_tickets": base["n_tickets"] * k, "n_events": base["n_events"] * k}
    (tmp / "planted.json").write_text(json.dumps(planted))
    (tmp / "generate.json").write_text(json.dumps({"seconds": time.perf_counter() - started}))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def dataset(n: int, seed: int) -> dict:
    """The CSV exports for n tickets (generated once, then reused)."""
    folder = DATA / f"csv_{n}_seed{seed}"
    planted = folder / "planted.json"
    if not planted.exists() and n > REPLICATE_ABOVE and n % BASE_SIZE == 0:
        _replicate(dataset(BASE_SIZE, seed), n // BASE_SIZE, folder)
    if not planted.exists():
        log(f"generating {n:,} tickets (seed {seed}) in {folder}")
        tmp = folder.with_name(folder.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        code = (
            "import sys; from pipelines.sample.generator import write_sample; "
            f"write_sample(sys.argv[1], n_tickets={n}, seed={seed}, fmt='csv')"
        )
        gen = measured([PY, "-c", code, str(tmp)])
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        (folder / "generate.json").write_text(json.dumps({"seconds": gen["seconds"]}))
    meta = json.loads(planted.read_text())
    gen_file = folder / "generate.json"
    return {
        "folder": folder,
        "tickets_csv": folder / "tickets.csv",
        "events_csv": folder / "events.csv",
        "n_tickets": int(meta["n_tickets"]),
        "n_events": int(meta["n_events"]),
        "bytes": (folder / "tickets.csv").stat().st_size + (folder / "events.csv").stat().st_size,
        "generate_seconds": json.loads(gen_file.read_text())["seconds"]
        if gen_file.exists()
        else None,
    }


_TIMED = re.compile(r"^\s+(?:(staging|intermediate|marts|serving)\s+)?(\S.*?)\s+([\d.]+)s$")


def _profile(stdout: str) -> list[list]:
    """The build's own timings (it prints each model's seconds, then its data tests,
    merge, commit and snapshot): [layer or "", name, seconds] in order."""
    found = (_TIMED.match(line) for line in stdout.splitlines())
    return [[m.group(1) or "", m.group(2), float(m.group(3))] for m in found if m]


def _kpi_rows(stdout: str) -> dict[str, dict]:
    return {r["metric"]: r for r in csv.DictReader(io.StringIO(stdout))}


def _check_figures(baseline: dict, kpis: dict[str, dict], name: str = "baseline") -> dict:
    """A script's figures (the pandas baseline, the lean reference) vs `tierlens kpis`,
    exactly (numerator and denominator are integers); the script's under `name`."""
    out = {}
    for metric in KPI_CHECK:
        b, t = baseline[metric], kpis[metric]
        tn, td = float(t["numerator"]), float(t["denominator"])
        out[metric] = {
            "tierlens": [tn, td, float(t["value"])],
            name: [b["numerator"], b["denominator"], b["value"]],
            "equal": tn == b["numerator"]
            and td == b["denominator"]
            and float(t["value"]) == b["value"],
        }
    return out


def _script(name: str, cmd: list[str]) -> dict | None:
    """A reference script's run, or None when it fails (e.g. killed for memory):
    the harness says so and goes on without it."""
    try:
        return measured(cmd)
    except RuntimeError as exc:
        log(f"  {name} failed: {str(exc)[-500:]}")
        return None


def bench_size(n: int, args: argparse.Namespace) -> dict:
    ds = dataset(n, args.seed)
    runs = args.runs if n <= args.large else args.runs_large
    rows = ds["n_tickets"] + ds["n_events"]
    log(f"{n:,} tickets, {ds['n_events']:,} events, {ds['bytes'] / 1e6:.0f} MB CSV; {runs} run(s)")
    work = Path(args.workdir) / f"db_{n}"
    steps: dict[str, list[dict]] = {
        k: []
        for k in (
            "floor",
            "lean",
            "ingest",
            "build",
            "kpis",
            "baseline",
            "kpis_overall",
            "kpis_agent",
            "delta_ingest",
            "incremental",
        )
    }
    delta = [str(p) for p in write_delta(ds["folder"], ds["n_tickets"], args.seed)]
    baseline_figures = None
    lean_figures = None
    do_lean = True
    kpis_overall = None
    db = work / "tierlens.duckdb"
    files = [str(ds["tickets_csv"]), str(ds["events_csv"])]
    do_baseline = n <= args.baseline_max
    for run in range(runs):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        floor_db = work / "floor.duckdb"
        r = measured([PY, "-m", "benchmarks.floor", str(floor_db), *files])
        floor_db.unlink()
        steps["floor"].append(r)
        if do_lean:
            r = _script("lean reference", [PY, "-m", "benchmarks.lean", *files])
            do_lean = r is not None
            if r is not None:
                steps["lean"].append(r)
                lean_figures = json.loads(r["stdout"])
        r = measured([*TIERLENS, "ingest", *files, "--db", str(db), "--source", "bench"])
        steps["ingest"].append(r)
        r = measured([*TIERLENS, "build", "--db", str(db)])
        steps["build"].append(r)
        profile = {"build": _profile(r["stdout"])}
        kp = [*TIERLENS, "kpis", "--db", str(db), "--format", "csv"]
        steps["kpis"].append(measured([*kp, "--by", "partner,week"]))
        r = measured(kp)
        steps["kpis_overall"].append(r)
        kpis_overall = _kpi_rows(r["stdout"])
        steps["kpis_agent"].append(measured([*kp, "--by", "agent"]))
        # the next day's export: 1% of the tickets new or changed, then a refresh
        r = measured([*TIERLENS, "ingest", *delta, "--db", str(db), "--source", "bench"])
        steps["delta_ingest"].append(r)
        r = measured([*TIERLENS, "build", "--db", str(db)])
        if "(incremental)" not in r["stdout"]:
            log(f"  the refresh was not incremental: {r['stdout'][-800:]}")
        steps["incremental"].append(r)
        profile["incremental"] = _profile(r["stdout"])
        if do_baseline:
            r = _script("baseline", [PY, "-m", "benchmarks.pandas_baseline", *files])
            do_baseline = r is not None
            if r is not None:
                steps["baseline"].append(r)
                baseline_figures = json.loads(r["stdout"])
        log(
            f"  run {run + 1}: "
            + ", ".join(
                f"{k} {v[-1]['seconds']:.2f}s/{v[-1]['rss_mb']:.0f}MB"
                for k, v in steps.items()
                if v and len(v) == run + 1
            )
        )
    # more kpis timings: cheap, and the noisiest on a shared machine
    for _ in range(max(0, args.kpis_runs - runs)):
        steps["kpis"].append(measured([*kp, "--by", "partner,week"]))

    result: dict = {
        "n_tickets": ds["n_tickets"],
        "n_events": ds["n_events"],
        "csv_bytes": ds["bytes"],
        "generate_seconds": ds["generate_seconds"],
        "runs": runs,
        "db_bytes": db.stat().st_size,
        "steps": {
            k: {
                "seconds": [round(x["seconds"], 3) for x in v],
                "rss_mb": [round(x["rss_mb"], 1) for x in v],
                "median_seconds": statistics.median(x["seconds"] for x in v),
                "median_rss_mb": statistics.median(x["rss_mb"] for x in v),
                "max_rss_mb": max(x["rss_mb"] for x in v),
            }
            for k, v in steps.items()
            if v
        },
        "rows": rows,
        "profile": profile,
    }
    if baseline_figures is not None and kpis_overall is not None:
        result["figures"] = _check_figures(baseline_figures, kpis_overall)
        ok = all(f["equal"] for f in result["figures"].values())
        log(f"  baseline figures {'EQUAL' if ok else 'DIFFER'}: {result['figures']}")
    if lean_figures is not None and kpis_overall is not None:
        result["lean_figures"] = _check_figures(lean_figures, kpis_overall, "lean")
        ok = all(f["equal"] for f in result["lean_figures"].values())
        log(f"  lean figures {'EQUAL' if ok else 'DIFFER'}: {result['lean_figures']}")
    if args.browser and n <= args.browser_max:
        from benchmarks.browser import measure_dashboard

        log("  dashboard in headless Chromium")
        try:
            result["dashboard"] = measure_dashboard(db, runs=max(runs, args.browser_runs))
        except Exception as exc:  # the report says what went wrong
            result["dashboard"] = {"error": f"{type(exc).__name__}: {exc}"}
        log(f"  dashboard: {result['dashboard']}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    import duckdb
    import pandas
    import polars

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "polars": polars.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Tierlens benchmarks at MSP scale")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="tickets per dataset, comma-sep")
    parser.add_argument("--runs", type=int, default=3, help="runs per size (median quoted)")
    parser.add_argument("--runs-large", type=int, default=1, help="runs for sizes above --large")
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--kpis-runs", type=int, default=5, help="timings of `kpis` per size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--baseline-max",
        type=int,
        default=3_000_000,
        help="largest size the pandas baseline runs at",
    )
    parser.add_argument("--browser", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--browser-max", type=int, default=3_000_000)
    parser.add_argument("--browser-runs", type=int, default=3)
    parser.add_argument("--workdir", default=str(DATA / "work"))
    parser.add_argument("--keep", action="store_true", help="keep the last databases")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=REPORT)
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)

    from benchmarks.report import render

    previous = (
        {} if args.fresh or not args.results.exists() else json.loads(args.results.read_text())
    )
    results = {
        "sizes": previous.get("sizes", {}),
        **{k: v for k, v in previous.items() if k != "sizes"},
    }
    if not args.report_only:
        results["machine"] = machine()
        results["commit"] = git_commit()
        results["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        results["seed"] = args.seed
        for n in (int(s) for s in args.sizes.split(",") if s.strip()):
            results["sizes"][str(n)] = bench_size(n, args)
            results["sizes"][str(n)]["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            args.results.parent.mkdir(parents=True, exist_ok=True)
            args.results.write_text(json.dumps(results, indent=1) + "\n")
            args.out.write_text(render(results), encoding="utf-8")
            log(f"wrote {args.out}")
    args.out.write_text(render(results), encoding="utf-8")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
