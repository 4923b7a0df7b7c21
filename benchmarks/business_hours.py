"""The cost of business-hours clocks: `python -m benchmarks.business_hours`.

    python -m benchmarks.business_hours --tickets 1000000 --runs 3 \\
        --compare-with ../tierlens-before --write-report

Takes the generator's CSV exports (benchmarks/data, as `make bench` makes them),
ingests them once per variant, then times `tierlens build` `--runs` times each, in
turn, as a fresh process: the checkout given by --compare-with (Tierlens before
calendars, a git worktree), this checkout with no calendar (business time = wall
time), and this checkout with CALENDARS: every partner on London office hours with
England's holidays, P1 tickets on a 24x7 calendar. The target (issue "Business-hours
clocks"): the build no more than 20% slower than before. Medians are quoted;
results go to benchmarks/results/business_hours.json and, with --write-report, to
the section "Business-hours clocks" of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.report import BUSINESS_END, BUSINESS_START, business_hours_section
from benchmarks.run import ROOT, TIERLENS, dataset, git_commit, log, measured, write_section

RESULTS = ROOT / "benchmarks" / "results" / "business_hours.json"
CALENDARS = """
[calendars.office]
timezone = "Europe/London"
holidays = "GB-ENG"
extra_holidays = ["2024-12-24"]
[calendars.office.hours]
mon = "08:00-18:00"
tue = "08:00-18:00"
wed = "08:00-18:00"
thu = "08:00-18:00"
fri = "08:00-17:00"
[calendars.always]
hours = "24x7"
[[calendar_map]]
priority = "P1"
calendar = "always"
[[calendar_map]]
calendar = "office"
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--compare-with",
        type=Path,
        default=None,
        help="a checkout of Tierlens before calendars (git worktree)",
    )
    ap.add_argument("--write-report", action="store_true")
    args = ap.parse_args(argv)

    data = dataset(args.tickets, args.seed)
    with tempfile.TemporaryDirectory(prefix="tierlens-calendars-") as tmp:
        work = Path(tmp)
        config = work / "tierlens.toml"
        config.write_text(CALENDARS)
        variants = [("wall", ROOT, []), ("calendar", ROOT, ["--config", str(config)])]
        if args.compare_with is not None:
            variants.insert(0, ("before", args.compare_with.resolve(), []))
        runs: dict[str, list[dict]] = {name: [] for name, _, _ in variants}
        for name, code, _ in variants:
            db = work / f"{name}.duckdb"
            measured(
                [
                    *TIERLENS,
                    "ingest",
                    str(data["tickets_csv"]),
                    str(data["events_csv"]),
                    "--db",
                    str(db),
                ],
                cwd=code,
            )
            log(f"ingested {name}")
        for r in range(args.runs):
            for name, code, extra in variants:
                run = measured(
                    [*TIERLENS, "build", "--db", str(work / f"{name}.duckdb"), *extra], cwd=code
                )
                runs[name].append(run)
                log(f"run {r + 1} {name}: {run['seconds']:.1f} s")
    result: dict = {"tickets": args.tickets, "events": data["n_events"], "runs": args.runs}
    for name, found in runs.items():
        result[f"{name}_seconds"] = statistics.median(x["seconds"] for x in found)
        result[f"{name}_rss_mb"] = max(x["rss_mb"] for x in found)
    result.update(
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        commit=git_commit(),
        before=git_commit(args.compare_with) if args.compare_with else None,
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    log(json.dumps(result))
    if args.write_report:
        write_section(
            "business_hours", result, business_hours_section(result), BUSINESS_START, BUSINESS_END
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
