"""Scale on one machine: a very large dataset, each step once, into results.json.

    python -m benchmarks.scale --tickets 10000000 --seed 1 [--memory-limit 14GB]
        [--db PATH] [--skip-ingest] [--skip-build]

Steps (fresh processes, wall time and peak RSS as in benchmarks/run.py): ingest
the dataset (benchmarks.run.dataset: above 3M tickets the 1M one written k times),
a full build, `tierlens kpis` by partner and week and overall, the 1% export
(benchmarks/delta.py) and the incremental build after it. `--memory-limit` sets
TIERLENS_MEMORY_LIMIT for ingest and builds; the cap used is recorded with each
step. `--skip-ingest` / `--skip-build` reuse a database already at that point
(their time is then taken from `--ingest-seconds` / `--build-json` if given).
Results go to results.json under "scale"; `python -m benchmarks.run --report-only`
renders them in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.delta import write_delta
from benchmarks.run import RESULTS, TIERLENS, dataset, git_commit, log, measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, default=Path("/tmp/tierlens-scale/tierlens.duckdb"))
    parser.add_argument("--memory-limit", default=None)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--note", action="append", default=[])
    parser.add_argument("--prior", type=Path, help="JSON of steps measured before (merged)")
    args = parser.parse_args(argv)
    ds = dataset(args.tickets, args.seed)
    env = dict(os.environ)
    if args.memory_limit:
        env["TIERLENS_MEMORY_LIMIT"] = args.memory_limit
    db = args.db
    db.parent.mkdir(parents=True, exist_ok=True)
    steps: dict[str, dict] = json.loads(args.prior.read_text()) if args.prior else {}

    def step(name: str, cmd: list[str]) -> dict:
        log(f"  {name}: {' '.join(cmd[-4:])}")
        r = measured(cmd, env=env)
        steps[name] = {
            "seconds": round(r["seconds"], 2),
            "rss_mb": round(r["rss_mb"], 1),
            "memory_limit": args.memory_limit,
        }
        log(f"  {name}: {r['seconds']:.1f} s, {r['rss_mb']:.0f} MB")
        return r

    files = [str(ds["tickets_csv"]), str(ds["events_csv"])]
    if not args.skip_ingest:  # into a fresh database: a rerun would load nothing new
        for leftover in (db, db.with_name(db.name + ".wal")):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(db.with_name(db.name + ".serving"), ignore_errors=True)
        step("ingest", [*TIERLENS, "ingest", *files, "--db", str(db), "--source", "bench"])
    if not args.skip_build:
        step("build (full)", [*TIERLENS, "build", "--db", str(db)])
    kp = [*TIERLENS, "kpis", "--db", str(db), "--format", "csv"]
    step("kpis --by partner,week", [*kp, "--by", "partner,week"])
    step("kpis (overall)", kp)
    delta = [str(p) for p in write_delta(ds["folder"], ds["n_tickets"], args.seed)]
    step("next day: ingest of a 1% export", [*TIERLENS, "ingest", *delta, "--db", str(db)])
    r = step("next day: build (incremental)", [*TIERLENS, "build", "--db", str(db)])
    if "(incremental)" not in r["stdout"]:
        args.note.append("The next day's build was not incremental: " + r["stdout"][-300:])
    snapshot = max(db.with_name(db.name + ".serving").glob("build_*.duckdb"), key=os.path.getmtime)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"sizes": {}}
    results["scale"] = {
        "n_tickets": ds["n_tickets"],
        "n_events": ds["n_events"],
        "csv_bytes": ds["bytes"],
        "db_bytes": db.stat().st_size,
        "snapshot_bytes": snapshot.stat().st_size,
        "steps": steps,
        "notes": args.note,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
