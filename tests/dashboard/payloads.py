"""A built database whose every text field carries Markdown, HTML and Streamlit
payloads, for the tests that check the dashboard and the report show data as text
(tests/dashboard/test_payloads_browser.py)."""

from __future__ import annotations

from contextlib import chdir
from pathlib import Path

import polars as pl

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample

# Each would be formatting, a link, an image, a script, a colour, an icon, maths, a
# heading, code or a table if it were read as Markdown, HTML or Plotly markup.
PAYLOADS: tuple[str, ...] = (
    "**bold**",
    "[link](https://evil.example/login)",
    "[js](javascript:alert(1))",
    "![img](https://evil.example/x.png)",
    "<b>html</b>",
    '<a href="https://evil.example">a</a>',
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    ":red[red]",
    ":material/home:",
    "$x^2$",
    "# heading",
    "`code`",
    "| a | b |",
    "&lt;b&gt;",
    "https://evil.example/auto",
    "www.evil.example",
    "x@evil.example",
    ":smile:",
    "_em_ ~~del~~ <i>it</i><br>",
)
# Statuses keep their class through the status map; a payload-tagged one is mapped.
TAGGED_STATUSES = ("Assigned", "In Progress", "Pending")
# the file names the batches table lists ('/' cannot be in a file name)
FILE_TAG = "**bold** <b>html :red[red] $x^2$ `code` &lt;b&gt;"


def tag(value: str, i: int, *, first: bool = False) -> str:
    """`value` with the i-th payload after it (or before it)."""
    payload = PAYLOADS[i % len(PAYLOADS)]
    return f"{payload} {value}" if first else f"{value} {payload}"


def _tagging(values: pl.Series, *, first: bool = False, offset: int = 0) -> dict[str, str]:
    """Each distinct value -> the value with a payload, the payloads in turn."""
    distinct = values.drop_nulls().unique().sort().to_list()
    return {v: tag(v, offset + i, first=first) for i, v in enumerate(distinct)}


def payload_config(tagged_statuses: dict[str, str]) -> Config:
    base = Config()
    return Config(
        status_map={
            new: base.status_map[old.strip().lower()] for old, new in tagged_statuses.items()
        }
    )


def write_payload_sample(folder: Path, n_tickets: int, seed: int) -> Config:
    """The sample with payloads in every text a person reads: partner, client,
    category (first: it starts a caption), ticket id, group (the tier stays in
    the name and the export), agent, status, note, plus a ticket quarantined for
    its priority and a row rejected for its date. Returns the configuration that
    maps the tagged statuses."""
    write_sample(folder, n_tickets=n_tickets, seed=seed)
    tickets = pl.read_csv(folder / "tickets.csv", infer_schema=False)
    events = pl.read_csv(folder / "events.csv", infer_schema=False)
    ids = _tagging(tickets["ticket_id"])
    tickets = tickets.with_columns(
        pl.col("ticket_id").replace(ids),
        pl.col("partner").replace(_tagging(tickets["partner"], offset=3)),  # Markdown and HTML
        pl.col("client").replace(_tagging(tickets["client"], offset=4)),
        pl.col("category").replace(_tagging(tickets["category"], first=True, offset=8)),
    )
    # one ticket fails the priority data test (quarantined), one row has no date (rejected)
    tickets = tickets.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit("P9 <b>html</b> **bold**"))
        .otherwise(pl.col("priority"))
        .alias("priority")
    )
    rejected = tickets.head(1).with_columns(
        ticket_id=pl.lit(tag("REJECTED", 1)), opened_at=pl.lit("not a date " + PAYLOADS[4])
    )
    statuses = {s: tag(s, i + 3) for i, s in enumerate(TAGGED_STATUSES)}
    events = events.with_columns(
        pl.col("ticket_id").replace(ids),
        pl.col("group").replace(_tagging(events["group"], offset=2)),
        pl.col("agent").replace(_tagging(events["agent"], offset=5)),
        pl.col("status").replace(statuses),
        pl.when(pl.col("note_text").is_not_null())
        .then(pl.col("note_text") + " " + pl.lit(PAYLOADS[1]) + " " + pl.lit(PAYLOADS[7]))
        .otherwise(pl.col("note_text"))
        .alias("note_text"),
    )
    (folder / "tickets.csv").unlink()
    (folder / "events.csv").unlink()
    # through a file object: polars reads '*' and '[' in a path as a glob
    with (folder / f"tickets {FILE_TAG}.csv").open("wb") as out:
        pl.concat([tickets, rejected]).write_csv(out)
    with (folder / f"events {FILE_TAG}.csv").open("wb") as out:
        events.write_csv(out)
    return payload_config(statuses)


def build_payload_sample(folder: Path, n_tickets: int, seed: int) -> Path:
    """Generate the payload sample, ingest and build it; returns the database path."""
    data = folder / "sample"
    config = write_payload_sample(data, n_tickets, seed)
    db = folder / "payloads.duckdb"
    with chdir(folder):
        run_ingest([Path("sample")], db_path=db, config=config, source="sample")
    run_build(db, config)
    return db


def add_review(db: Path) -> str:
    """A review sample of the last complete week with two verdicts whose reviewer,
    needs and KB article are payloads; returns the sample id."""
    from pipelines.review.sampling import create_sample
    from pipelines.review.verdicts import Verdict, record

    sample = create_sample(db, None, n=12, seed=3)
    first, second = sample.items.head(2).select("escalation_id", "ticket_id").rows()
    record(
        db,
        Verdict(
            escalation_id=first[0],
            ticket_id=first[1],
            sample_id=sample.sample_id,
            reviewer=tag("Reviewer", 0),
            should_escalate="no",
            timing="too early",
            l1_need="kb article",
            kb_article_to_write=tag("Article", 6),
        ),
    )
    record(
        db,
        Verdict(
            escalation_id=second[0],
            ticket_id=second[1],
            sample_id=sample.sample_id,
            reviewer=tag("Reviewer", 8),
            should_escalate="yes",
            timing="too late",
            l1_need="access",
            l1_need_text=tag("Access to", 7),
        ),
    )
    return sample.sample_id
