"""`tierlens review sample`: a reproducible, stratified sample of a week's escalations.

Strata are partner x category x suspicious (analytics.review_candidates). Every
non-empty stratum gets at least one escalation, so every partner and category is
represented and every escalation has a known, non-zero chance of selection; the
rest of the sample goes to strata in proportion to their size, suspicious ones
counted `oversample` times. The sample is exactly the size asked for (or the whole
week, when it has fewer escalations): when there are more strata than that, the
strata are coarsened (partner x suspicious, then partner, then suspicious, then
one stratum) until there are no more of them than escalations to draw, and the
command says so. The weights stay unbiased at every level.

Within a stratum the escalations are ranked by md5(seed, escalation_id) and the
first n_h are taken: a simple random sample that any machine reproduces from the
seed. Each sampled escalation carries its weight N_h / n_h, so estimates from the
reviewed sample are unbiased for the whole week (see estimate.py).

The dashboard reads serving snapshots, never this file, and a sample is drawn
after the build that published the current snapshot: so `create_sample` also
writes the sample, with what the review page shows of each escalation, to
`<db>.serving/samples/<sample>.parquet` (atomically: temp file, then rename).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipelines.db import connect, polars_frame, require_database, scalar
from pipelines.errors import TierlensError
from pipelines.review.weeks import LAST_COMPLETE_WEEK_SQL
from pipelines.serving import sample_file

DEFAULT_N = 25
OVERSAMPLE = 3.0


@dataclass(frozen=True)
class SampleResult:
    sample_id: str
    week_start: date
    partner: str | None
    population: int
    n_requested: int
    items: pl.DataFrame
    level: tuple[str, ...] = ("partner", "category", "suspicious")

    @property
    def n_drawn(self) -> int:
        return self.items.height

    @property
    def coarsened(self) -> bool:
        """Fewer escalations asked for than partner x category x suspicious strata."""
        return self.level != ("partner", "category", "suspicious")


def population(
    con: duckdb.DuckDBPyConnection, week_start: date, partner: str | None
) -> pl.DataFrame:
    """The week's escalations with their stratum."""
    return polars_frame(con.sql(
        """
        select
            escalation_id, ticket_id, partner, category, is_suspicious, suspicion_reasons,
            coalesce(partner, '(none)') || ' | ' || coalesce(category, '(none)') || ' | ' ||
                case when is_suspicious then 'suspicious' else 'other' end as stratum
        from analytics.review_candidates
        where week_start = $week and ($partner::varchar is null or partner = $partner)
        order by escalation_id
        """,
        params={"week": week_start, "partner": partner},
    ))


# Stratifications from the finest to none: the finest with at most n strata is used.
LEVELS: tuple[tuple[str, ...], ...] = (
    ("partner", "category", "suspicious"),
    ("partner", "suspicious"),
    ("partner",),
    ("suspicious",),
    (),
)


def level_name(level: tuple[str, ...]) -> str:
    return " x ".join(level) if level else "one stratum (the whole week)"


def stratify(pop: pl.DataFrame, n: int) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """`pop` with the stratum of the finest level that has at most `n` strata."""
    parts = {
        "partner": pl.col("partner").fill_null("(none)"),
        "category": pl.col("category").fill_null("(none)"),
        "suspicious": pl.when(pl.col("is_suspicious"))
        .then(pl.lit("suspicious"))
        .otherwise(pl.lit("other")),
    }
    for level in LEVELS:
        label = (
            pl.concat_str([parts[name] for name in level], separator=" | ")
            if level
            else pl.lit("all")
        )
        found = pop.with_columns(stratum=label)
        if found["stratum"].n_unique() <= n:
            return found, level
    raise AssertionError("one stratum always fits: n >= 1")  # pragma: no cover


def allocate(sizes: pl.DataFrame, n: int, oversample: float = OVERSAMPLE) -> pl.DataFrame:
    """n_h per stratum: 1 each, the rest by size x (oversample if suspicious), capped at N_h.

    `sizes` has columns stratum, is_suspicious, population. Largest remainders
    settle the rounding; ties go to the stratum name, so the result is deterministic.
    """
    base = sizes.with_columns(n_h=pl.lit(1, pl.Int64))
    budget = max(n - base.height, 0)
    room = base.with_columns(room=pl.col("population") - pl.col("n_h"))
    while budget > 0 and room["room"].sum() > 0:
        measure = room.with_columns(
            m=pl.when(pl.col("room") > 0)
            .then(
                pl.col("population")
                * pl.when(pl.col("is_suspicious")).then(oversample).otherwise(1.0)
            )
            .otherwise(0.0)
        )
        share = measure.with_columns(ideal=pl.col("m") / pl.col("m").sum() * budget).with_columns(
            whole=pl.min_horizontal(pl.col("ideal").floor().cast(pl.Int64), pl.col("room")),
            frac=pl.col("ideal") - pl.col("ideal").floor(),
        )
        given = int(share["whole"].sum())
        left = budget - given
        extra = (
            share.with_columns(eligible=pl.col("room") > pl.col("whole"))
            .sort(["eligible", "frac", "stratum"], descending=[True, True, False])
            .with_row_index("rank")
            .with_columns(plus=((pl.col("rank") < left) & pl.col("eligible")).cast(pl.Int64))
            .select("stratum", "plus")
        )
        room = (
            share.join(extra, on="stratum")
            .with_columns(n_h=pl.col("n_h") + pl.col("whole") + pl.col("plus"))
            .with_columns(room=pl.col("population") - pl.col("n_h"))
            .select("stratum", "is_suspicious", "population", "n_h", "room")
        )
        budget = n - int(room["n_h"].sum())
    return room.select("stratum", "is_suspicious", "population", "n_h").sort("stratum")


def draw(pop: pl.DataFrame, n: int, seed: int, oversample: float = OVERSAMPLE) -> pl.DataFrame:
    """The sampled escalations with stratum sizes and weights (pure: frame in, frame out)."""
    if pop.is_empty():
        return pop.with_columns(
            stratum_population=pl.lit(0), stratum_sample=pl.lit(0), weight=pl.lit(0.0)
        )
    pop, _ = stratify(pop, n)
    # a stratum mixing suspicious and other escalations counts as suspicious if any is
    sizes = pop.group_by("stratum").agg(
        is_suspicious=pl.col("is_suspicious").any(), population=pl.len()
    )
    alloc = allocate(sizes, n, oversample)
    ranked = _with_draw_key(pop, seed).with_columns(
        rank=pl.col("key").rank("ordinal").over("stratum")
    )
    return (
        ranked.join(alloc.select("stratum", "population", "n_h"), on="stratum")
        .filter(pl.col("rank") <= pl.col("n_h"))
        .with_columns(
            stratum_population=pl.col("population").cast(pl.Int64),
            stratum_sample=pl.col("n_h").cast(pl.Int64),
            weight=pl.col("population") / pl.col("n_h"),
        )
        .sort(["is_suspicious", "stratum", "rank"], descending=[True, False, False])
        .drop("key", "rank", "population", "n_h")
    )


def _with_draw_key(pop: pl.DataFrame, seed: int) -> pl.DataFrame:
    """md5(seed:escalation_id): the same order on every machine and library version."""
    con = duckdb.connect()
    try:
        con.register("pop", pop)
        return polars_frame(con.sql(
            "select *, md5($seed || ':' || escalation_id) as key from pop",
            params={"seed": str(seed)},
        ))
    finally:
        con.close()


def last_complete_week(con: duckdb.DuckDBPyConnection) -> date | None:
    """The default week, as the scorecard and the report choose it."""
    rows = con.execute(LAST_COMPLETE_WEEK_SQL).fetchall()
    week: date | None = rows[0][0] if rows else None  # a DATE: datetime.date
    return week


def sample_id_for(week_start: date, partner: str | None, seed: int, n: int) -> str:
    label = (partner or "all").replace(" ", "_")
    return f"{week_start.isoformat()}-{label}-s{seed}-n{n}"


def create_sample(
    db_path: Path | str,
    week_start: date | None,
    *,
    partner: str | None = None,
    n: int = DEFAULT_N,
    seed: int = 1,
) -> SampleResult:
    """Draw and store a sample; drawing the same (week, partner, seed, n) again returns it."""
    if n < 1:
        raise TierlensError("--n must be at least 1")
    con = connect(require_database(db_path))
    try:
        if not scalar(
            con,
            "select count(*) from information_schema.tables "
            "where table_schema = 'analytics' and table_name = 'review_candidates'",
        ):
            raise TierlensError(f"{db_path}: no build yet. Run `tierlens build` first.")
        week = week_start or last_complete_week(con)
        if week is None:
            raise TierlensError("there are no resolved tickets to review yet")
        pop = population(con, week, partner)
        if pop.is_empty():
            who = f" for partner {partner!r}" if partner else ""
            raise TierlensError(f"no escalations of resolved tickets in the week of {week}{who}")
        sample_id = sample_id_for(week, partner, seed, n)
        items = draw(pop, n, seed)
        _, level = stratify(pop, n)
        _store(con, sample_id, week, partner, seed, n, pop.height, items)
        publish_sample(con, db_path, sample_id)
        return SampleResult(sample_id, week, partner, pop.height, n, items, level)
    finally:
        con.close()


def _store(
    con: duckdb.DuckDBPyConnection,
    sample_id: str,
    week: date,
    partner: str | None,
    seed: int,
    n: int,
    population_size: int,
    items: pl.DataFrame,
) -> None:
    """Replace the sample's rows, all or nothing."""
    rows = items.with_row_index("position", offset=1).select(
        pl.lit(sample_id).alias("sample_id"),
        pl.col("position").cast(pl.Int32),
        "escalation_id",
        "ticket_id",
        "stratum",
        "is_suspicious",
        "suspicion_reasons",
        "stratum_population",
        "stratum_sample",
        "weight",
    )
    con.execute("begin transaction")
    try:
        con.execute("delete from meta.review_sample_items where sample_id = ?", [sample_id])
        con.execute("delete from meta.review_samples where sample_id = ?", [sample_id])
        con.execute(
            "insert into meta.review_samples values (?, ?, ?, ?, ?, ?, ?, now())",
            [sample_id, week, partner, seed, n, items.height, population_size],
        )
        con.register("_sample_rows", rows)
        con.execute("insert into meta.review_sample_items select * from _sample_rows")
        con.unregister("_sample_rows")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


# What the review page shows of each sampled escalation, one row per item.
PUBLISHED_SAMPLE_SQL = """
select
    items.sample_id,
    samples.week_start,
    samples.partner as sample_partner,
    samples.n_requested,
    samples.population as sample_population,
    samples.created_at,
    items.position,
    items.escalation_id,
    items.ticket_id,
    items.stratum,
    items.is_suspicious,
    items.suspicion_reasons,
    items.stratum_population,
    items.stratum_sample,
    items.weight,
    candidates.partner,
    candidates.category,
    candidates.priority,
    candidates.from_tier,
    candidates.to_tier,
    candidates.from_group,
    candidates.to_group,
    candidates.escalating_agent,
    candidates.escalated_at,
    candidates.is_rule_unnecessary,
    escalations.escalation_note,
    escalations.has_complete_note
from meta.review_sample_items as items
inner join meta.review_samples as samples on samples.sample_id = items.sample_id
left join analytics.review_candidates as candidates
    on candidates.escalation_id = items.escalation_id
left join analytics.fct_escalations as escalations
    on escalations.escalation_id = items.escalation_id
where items.sample_id = $sample_id
order by items.position
"""


def published_sample(con: duckdb.DuckDBPyConnection, sample_id: str) -> pl.DataFrame:
    """The sample's items with what the review page shows (see PUBLISHED_SAMPLE_SQL)."""
    return polars_frame(con.sql(PUBLISHED_SAMPLE_SQL, params={"sample_id": sample_id}))


def publish_sample(con: duckdb.DuckDBPyConnection, db_path: Path | str, sample_id: str) -> Path:
    """Write the stored sample to `<db>.serving/samples/` for the dashboard (atomic)."""
    target = sample_file(db_path, sample_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        published_sample(con, sample_id).write_parquet(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
