"""The cost of reading damaged exports: `python -m benchmarks.hostile`.

    python -m benchmarks.hostile --tickets 1000000 --runs 3

Takes the generator's CSV exports (benchmarks/data, as `make bench` makes them),
writes a copy of events.csv with a share of its lines damaged the ways real exports
are (`--damage`, default 1%, in turn: a quote that never closes, a quote inside a
value, a Latin-1 byte in a UTF-8 file, a NUL byte), then times `tierlens ingest`
of the clean and of the damaged files, each in a fresh database, and checks that
nothing is lost: rows read = the records of the file, rejected = the lines damaged
beyond reading. Medians are quoted; results go to benchmarks/results/hostile.json
and, with --write-report, to the section "Damaged exports" of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.report import HOSTILE_END, HOSTILE_START, hostile_section
from benchmarks.run import ROOT, TIERLENS, dataset, git_commit, log, measured, write_section

RESULTS = ROOT / "benchmarks" / "results" / "hostile.json"
KINDS = ("unclosed_quote", "quote_in_value", "latin1_byte", "nul_byte")
REJECTED = {"unclosed_quote", "nul_byte"}


def damage(src: Path, dst: Path, share: float) -> dict[str, int]:
    """Copy `src` to `dst` with every round(1/share)-th data line damaged; the counts."""
    step = max(1, round(1 / share))
    counts = dict.fromkeys(KINDS, 0)
    with src.open("rb") as fin, dst.open("wb") as out:
        out.write(fin.readline())
        due = False
        for i, line in enumerate(fin, start=1):
            due = due or i % step == 0
            # lines with quotes of their own (a quoted note) are left alone, so that
            # each damage has one known outcome; the next line is damaged instead
            if due and b'"' not in line:
                due = False
                kind = KINDS[(i // step) % len(KINDS)]
                body = line.rstrip(b"\n")
                head, _, last = body.rpartition(b",")
                if kind == "unclosed_quote":
                    line = head + b',"' + last + b" 24 inch\n"
                elif kind == "quote_in_value":
                    line = head + b"," + last + b' 24" monitor\n'
                elif kind == "latin1_byte":
                    line = head + b"," + last + " Müller".encode("latin-1") + b"\n"
                else:
                    line = head + b"," + last + b"\x00\n"
                counts[kind] += 1
            out.write(line)
    return counts


def _ingest(tickets: Path, events: Path, db: Path, code: Path = ROOT) -> dict:
    run = measured([*TIERLENS, "ingest", str(tickets), str(events), "--db", str(db)], cwd=code)
    con = duckdb.connect(str(db), read_only=True)
    try:
        read, loaded, rejected = con.execute(
            "select rows_read, rows_loaded, rows_rejected from meta.batches where kind = 'events'"
        ).fetchall()[0]
    finally:
        con.close()
    return {"seconds": run["seconds"], "rss_mb": run["rss_mb"], "read": read,
            "loaded": loaded, "rejected": rejected}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--damage", type=float, default=0.01)
    ap.add_argument("--compare-with", type=Path, default=None,
                    help="a checkout of an earlier Tierlens (git worktree): its ingest of "
                         "the clean files is timed too, as 'before'")
    ap.add_argument("--write-report", action="store_true",
                    help="write the section 'Damaged exports' of docs/performance.md")
    args = ap.parse_args(argv)

    data = dataset(args.tickets, args.seed)
    n_events = data["n_events"]
    with tempfile.TemporaryDirectory(prefix="tierlens-hostile-") as tmp:
        work = Path(tmp)
        damaged = work / "events_damaged.csv"
        counts = damage(data["events_csv"], damaged, args.damage)
        log(f"damaged {sum(counts.values()):,} of {n_events:,} event lines: {counts}")
        runs: dict[str, list[dict]] = {"clean": [], "damaged": [], "before": []}
        steps = [("clean", data["events_csv"], ROOT), ("damaged", damaged, ROOT)]
        if args.compare_with is not None:
            steps.append(("before", data["events_csv"], args.compare_with.resolve()))
        for r in range(args.runs):
            for name, events, code in steps:
                db = work / f"{name}_{r}.duckdb"
                runs[name].append(_ingest(data["tickets_csv"], events, db, code))
                db.unlink()
                log(f"run {r + 1} {name}: {runs[name][-1]['seconds']:.1f} s")
    expected_rejected = sum(counts[k] for k in REJECTED)
    result = {
        "tickets": args.tickets, "events": n_events, "damage_share": args.damage,
        "damaged": counts,
        "clean_seconds": statistics.median(r["seconds"] for r in runs["clean"]),
        "damaged_seconds": statistics.median(r["seconds"] for r in runs["damaged"]),
        "clean_rss_mb": max(r["rss_mb"] for r in runs["clean"]),
        "damaged_rss_mb": max(r["rss_mb"] for r in runs["damaged"]),
        "read": runs["damaged"][0]["read"], "rejected": runs["damaged"][0]["rejected"],
        "nothing_lost": all(r["read"] == n_events and r["rejected"] == expected_rejected
                            for r in runs["damaged"])
        and all(r["read"] == n_events and r["rejected"] == 0 for r in runs["clean"]),
    }
    result["ratio"] = result["damaged_seconds"] / result["clean_seconds"]
    if runs["before"]:
        result["before_seconds"] = statistics.median(r["seconds"] for r in runs["before"])
        result["before_rss_mb"] = max(r["rss_mb"] for r in runs["before"])
        result["clean_vs_before"] = result["clean_seconds"] / result["before_seconds"]
    result.update(runs=args.runs, date=datetime.now(UTC).strftime("%Y-%m-%d"),
                  commit=git_commit(),
                  before=git_commit(args.compare_with) if args.compare_with else None)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    log(json.dumps(result))
    if args.write_report:
        write_section("hostile", result, hostile_section(result), HOSTILE_START, HOSTILE_END)
    return 0 if result["nothing_lost"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
