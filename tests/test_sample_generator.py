"""The sample generator: format, determinism, and planted truth that matches the definitions.

`derive_kpis` below is an independent, event-level reading of docs/metrics.md (polars,
default config); the planted numerators/denominators come from the generator's scenario
labels. The two must agree exactly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import polars.selectors as cs
import pytest

from pipelines.config import Config
from pipelines.sample import scenarios as sc
from pipelines.sample.generator import METRICS, PARTNERS, generate, write_sample

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
TICKET_COLUMNS = [
    "ticket_id", "partner", "client", "opened_at", "priority", "category", "subcategory",
    "channel", "resolution_code", "kb_article_id", "sla_due_at", "sla_met",
    "reported_reassignment_count", "reported_reopen_count", "first_contact_resolved",
]
EVENT_COLUMNS = ["ticket_id", "event_at", "seq", "group", "tier", "agent", "status",
                 "note_kind", "note_text"]
STATUSES = {"New", "Assigned", "In Progress", "Pending", "Resolved", "Closed",
            "Resolved in call"}
CSV_OPTS = {"datetime_format": "%Y-%m-%dT%H:%M:%SZ"}


def _plain(sample):
    """In memory the string columns are Enums; compare and derive on plain strings."""
    for name in ("tickets", "events", "labels"):
        frame = getattr(sample, name)
        setattr(sample, name, frame.with_columns(cs.enum().cast(pl.String)))
    return sample


@pytest.fixture(scope="module")
def small():
    return _plain(generate(4000, seed=11))


@pytest.fixture(scope="module")
def large():
    return generate(80_000, seed=3)


# -- independent derivation from the event rows ---------------------------------------------


def _tier_from_group(cfg: Config) -> pl.Expr:
    expr = pl.lit(None, dtype=pl.Int64)
    for rule in reversed(cfg.tier_map):  # first matching rule wins
        expr = pl.when(pl.col("g").str.contains(rule.pattern)).then(
            pl.lit(int(rule.tier[1]))).otherwise(expr)
    return expr


def derive_kpis(tickets: pl.DataFrame, events: pl.DataFrame) -> dict:
    cfg = Config()
    rules = cfg.escalation
    sections = [s.lower() for s in rules.note_sections]
    by = "ticket_id"
    e = (
        events.sort(by, "event_at", "seq")
        .with_columns(i=pl.int_range(pl.len()).over(by), g=pl.col("group").forward_fill().over(by))
        .with_columns(
            tier=pl.coalesce(pl.col("tier").str.slice(1).cast(pl.Int64), _tier_from_group(cfg)),
            cls=pl.col("status").str.to_lowercase().replace_strict(cfg.status_map),
        )
        .with_columns(done=pl.col("cls").is_in(["resolved", "closed"]))
        .with_columns(
            resolved=pl.col("done").last().over(by),
            final=(pl.col("i").filter(~pl.col("done")).max().over(by).fill_null(-1) + 1),
        )
        .filter(pl.col("resolved") & (pl.col("i") <= pl.col("final")))
        .with_columns(
            prev_tier=pl.col("tier").shift(1).over(by),
            prev_g=pl.col("g").shift(1).over(by),
            prev_done=pl.col("done").shift(1).over(by),
        )
        .with_columns(
            chg=pl.col("prev_tier").is_not_null() & (pl.col("tier") != pl.col("prev_tier")),
            handoff=pl.col("prev_g").is_not_null() & (pl.col("g") != pl.col("prev_g")),
            reopen=pl.col("prev_done").fill_null(False) & ~pl.col("done"),
        )
        .with_columns(
            rise=pl.col("chg") & (pl.col("tier") > pl.col("prev_tier")),
            seg=pl.col("chg").cast(pl.Int64).cum_sum().over(by),
            chg_tier=pl.when(pl.col("chg")).then(pl.col("tier")),
        )
        .with_columns(next_tier=pl.col("chg_tier").shift(-1).over(by))
        .with_columns(next_tier=pl.col("next_tier").backward_fill().over(by))
    )
    seg = e.group_by(by, "seg").agg(
        pickup_at=pl.col("event_at").filter(pl.col("cls") != "queue").min(),
        notes=pl.col("note_text").filter((pl.col("note_kind") == "escalation") & ~pl.col("chg"))
        .str.join("\n"),
    )
    esc = (
        e.filter(pl.col("rise"))
        .join(seg.select(by, "seg", "pickup_at"), on=[by, "seg"], how="left")
        .join(seg.select(by, pl.col("seg") + 1, prev_notes="notes"), on=[by, "seg"], how="left")
        .with_columns(  # notes after the previous tier change, up to the escalation row
            note=pl.concat_str(
                [pl.col("prev_notes"),
                 pl.when(pl.col("note_kind") == "escalation").then(pl.col("note_text"))],
                separator="\n", ignore_nulls=True),
        )
        .with_columns(
            complete=pl.all_horizontal(
                [pl.col("note").str.to_lowercase().str.contains(s, literal=True) for s in sections]
            ).fill_null(False),
            bounce=pl.col("next_tier").is_not_null() & (pl.col("next_tier") < pl.col("tier")),
            further=pl.col("next_tier").is_not_null() & (pl.col("next_tier") > pl.col("tier")),
            from_l1=pl.col("prev_tier") == 1,
            delay=(pl.col("pickup_at") - pl.col("event_at")).dt.total_seconds() / 60,
        )
    )
    last_esc = esc.group_by(by).agg(
        last_i=pl.col("i").max(), last_to=pl.col("tier").sort_by("i").last(),
        last_pickup=pl.col("pickup_at").sort_by("i").last(),
    )
    per = (
        e.group_by(by).agg(
            entry=pl.col("tier").first(),
            final_tier=pl.col("tier").last(),
            final_at=pl.col("event_at").last(),
            n_handoffs=pl.col("handoff").sum(),
            n_groups=pl.col("g").n_unique(),
            reopened=pl.col("reopen").any(),
        )
        .join(esc.group_by(by).agg(n_esc=pl.len()), on=by, how="left")
        .join(last_esc, on=by, how="left")
        .join(e.select(by, "i", "handoff"), on=by, how="left")
        .group_by(by)
        .agg(
            pl.all().exclude("i", "handoff").first(),
            after=(pl.col("handoff") & (pl.col("i") > pl.col("last_i"))).sum(),
        )
        .with_columns(pl.col("n_esc").fill_null(0))
        .join(tickets.select(by, "partner", "category", "resolution_code", "kb_article_id"),
              on=by)
        .with_columns(
            escalated=pl.col("n_esc") > 0,
            quick=(pl.col("last_to") == pl.col("final_tier")) & (pl.col("after") == 0)
            & ((pl.col("final_at") - pl.col("last_pickup")).dt.total_seconds()
               <= rules.quick_fix_minutes * 60),
            scope=pl.col("category").str.to_lowercase().is_in(rules.l1_scope_categories)
            | pl.col("resolution_code").str.to_lowercase().is_in(
                rules.l1_scope_resolution_codes).fill_null(False),
        )
    )
    esc = esc.join(tickets.select(by, "partner"), on=by)
    t = pl.col
    every = t(by).is_not_null()
    ticket_terms = {
        "l1_resolution_rate": ((t("entry") == 1) & ~t("escalated") & ~t("reopened"),
                               t("entry") == 1),
        "escalation_rate": ((t("entry") == 1) & t("escalated"), t("entry") == 1),
        "pingpong_rate": (t("n_handoffs") + 1 > t("n_groups"), t("n_handoffs") >= 1),
        "reopen_rate": (t("reopened"), every),
        "kb_deflection_rate": ((t("final_tier") == 1) & t("kb_article_id").is_not_null(),
                               every),
        "unnecessary_escalation_rate": (t("escalated") & (t("scope") | t("quick").fill_null(
            False)), t("escalated")),
    }
    esc_terms = {
        "bounceback_rate": (t("bounce"), every),
        "reescalation_rate": (t("from_l1") & (t("tier") == 2) & t("further"),
                              t("from_l1") & (t("tier") == 2)),
        "tier_skip_rate": (t("from_l1") & (t("tier") >= 3), t("from_l1")),
        "note_completeness_rate": (t("complete"), every),
    }
    out = {}
    for frame, terms in ((per, ticket_terms), (esc, esc_terms)):
        for m, (num, den) in terms.items():
            agg = frame.group_by("partner").agg(
                numerator=(num & den).sum(), denominator=den.sum()).sort("partner")
            out[m] = {row["partner"]: (row["numerator"], row["denominator"])
                      for row in agg.iter_rows(named=True)}
    delays = esc["delay"].drop_nulls()
    return {"metrics": out, "delay_median": float(np.median(delays.to_numpy())),
            "n_resolved": per.height}


# -- planted truth ------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["small", "committed"])
def test_planted_truth_matches_event_level_definitions(which, small):
    if which == "small":
        tickets, events, planted = small.tickets, small.events, small.planted
    else:
        opts = {"try_parse_dates": True, "schema_overrides": {"sla_met": pl.Boolean}}
        tickets = pl.read_csv(SAMPLE / "tickets.csv", **opts)
        events = pl.read_csv(SAMPLE / "events.csv", try_parse_dates=True)
        planted = json.loads((SAMPLE / "planted.json").read_text())
    derived = derive_kpis(tickets, events)
    real = planted["realised"]
    assert derived["n_resolved"] == real["n_resolved"]
    for m in METRICS:
        for partner in PARTNERS:
            got = derived["metrics"][m].get(partner, (0, 0))
            want = real["metrics"][m]["by_partner"][partner]
            assert got == (want["numerator"], want["denominator"]), (m, partner)
    assert derived["delay_median"] == pytest.approx(real["handoff_delay_median_min"], abs=1e-3)


def test_planted_counts_are_consistent(small):
    p = small.planted
    assert set(p) >= {"seed", "n_tickets", "n_events", "period", "parameters", "expected",
                      "realised"}
    real = p["realised"]
    assert real["n_resolved"] + real["n_open"] == p["n_tickets"] == 4000
    assert real["n_open"] > 0
    assert p["n_events"] == small.events.height
    for m in METRICS:
        rec = real["metrics"][m]
        parts = rec["by_partner"].values()
        for r in [rec["overall"], *parts]:
            assert 0 <= r["numerator"] <= r["denominator"], m
        for key in ("numerator", "denominator"):
            assert sum(r[key] for r in parts) == rec["overall"][key], m
        assert rec["overall"]["denominator"] > 0, m
    labels = small.labels
    assert labels.height == 4000
    assert labels.filter(~pl.col("resolved")).height == real["n_open"]


def test_realised_rates_within_sampling_error_of_expected(large):
    p = large.planted
    for m in METRICS:
        for partner in [*PARTNERS, None]:
            exp = p["expected"][m]["overall" if partner is None else "by_partner"]
            exp = exp if partner is None else exp[partner]
            rec = p["realised"]["metrics"][m]
            rec = rec["overall"] if partner is None else rec["by_partner"][partner]
            assert rec["denominator"] > 100, (m, partner)
            se = math.sqrt(exp * (1 - exp) / rec["denominator"])
            rate = rec["numerator"] / rec["denominator"]
            assert abs(rate - exp) <= 4 * se + 1e-9, (m, partner, rate, exp)


def test_partners_have_distinct_habits(large):
    exp = large.planted["expected"]
    by = {m: exp[m]["by_partner"] for m in METRICS}
    assert by["escalation_rate"]["Globex"] > by["escalation_rate"]["Acme"] + 0.05
    assert by["note_completeness_rate"]["Globex"] < by["note_completeness_rate"]["Acme"] - 0.2
    assert by["bounceback_rate"]["Initech"] > 2 * by["bounceback_rate"]["Acme"]
    delays = large.planted["realised"]["handoff_delay"]["by_partner"]
    assert delays["Umbrella"] > 3 * delays["Acme"]


# -- format -------------------------------------------------------------------------------


def test_csv_columns_and_types(tmp_path):
    planted = write_sample(tmp_path, n_tickets=600, seed=5)
    assert planted["n_tickets"] == 600
    tickets = pl.read_csv(tmp_path / "tickets.csv", infer_schema=False)
    events = pl.read_csv(tmp_path / "events.csv", infer_schema=False)
    assert tickets.columns == TICKET_COLUMNS
    assert events.columns == EVENT_COLUMNS
    assert tickets["ticket_id"].is_unique().all()
    assert planted["n_events"] == events.height
    ts = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
    assert tickets["opened_at"].str.contains(ts).all()
    assert tickets["sla_due_at"].str.contains(ts).all()
    assert events["event_at"].str.contains(ts).all()
    assert set(tickets["priority"]) <= {"P1", "P2", "P3", "P4"}
    assert set(tickets["channel"]) <= {"phone", "email", "portal", "chat"}
    assert set(tickets["sla_met"].drop_nulls()) == {"true", "false"}
    assert set(tickets["first_contact_resolved"].drop_nulls()) == {"true", "false"}
    assert tickets["first_contact_resolved"].null_count() > 0
    for col in ("reported_reassignment_count", "reported_reopen_count"):
        assert tickets[col].str.contains(r"^\d+$").all()
    assert events["seq"].str.contains(r"^\d+$").all()
    assert set(events["status"]) <= STATUSES
    assert set(events["tier"].drop_nulls()) <= {"L1", "L2", "L3"}
    assert set(events["note_kind"].drop_nulls()) == {"escalation", "internal", "public"}
    assert (tmp_path / "planted.json").exists()


def test_parquet_format(tmp_path):
    write_sample(tmp_path, n_tickets=300, seed=5, fmt="parquet")
    tickets = pl.read_parquet(tmp_path / "tickets.parquet")
    events = pl.read_parquet(tmp_path / "events.parquet")
    assert tickets.columns == TICKET_COLUMNS and events.columns == EVENT_COLUMNS
    for col in ("ticket_id", "partner", "category", "resolution_code"):
        assert tickets.schema[col] in (pl.String, pl.Categorical) or isinstance(
            tickets.schema[col], pl.Enum)
    assert tickets.schema["opened_at"] == pl.Datetime("us", "UTC")
    assert tickets.schema["sla_met"] == pl.Boolean
    assert events.schema["event_at"] == pl.Datetime("us", "UTC")
    assert events.schema["seq"] == pl.Int64


def test_deterministic_for_a_seed(tmp_path):
    for name, seed in (("a", 9), ("b", 9), ("c", 10)):
        write_sample(tmp_path / name, n_tickets=500, seed=seed)
    for f in ("tickets.csv", "events.csv", "planted.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
        assert (tmp_path / "a" / f).read_bytes() != (tmp_path / "c" / f).read_bytes()


def test_committed_sample_is_reproducible():
    sample = generate(2000, seed=7)
    assert (SAMPLE / "tickets.csv").read_text() == sample.tickets.write_csv(**CSV_OPTS)
    assert (SAMPLE / "events.csv").read_text() == sample.events.write_csv(**CSV_OPTS)
    assert json.loads((SAMPLE / "planted.json").read_text()) == json.loads(
        json.dumps(sample.planted))
    size = sum(f.stat().st_size for f in SAMPLE.iterdir())
    assert size < 1.8e6


# -- realism --------------------------------------------------------------------------------


def test_event_shape(small):
    ev, tk = small.events, small.tickets
    assert 7 <= ev.height / tk.height <= 12
    # sorted by ticket, time, seq; seq is 1..n per ticket and follows time
    assert ev.equals(ev.sort("ticket_id", "event_at", "seq"))
    chk = ev.group_by("ticket_id").agg(n=pl.len(), mx=pl.col("seq").max(), mn=pl.col("seq").min(),
                                       first_group=pl.col("group").first())
    assert (chk["mn"] == 1).all() and (chk["mx"] == chk["n"]).all()
    assert chk["first_group"].null_count() == 0
    assert chk.height == tk.height
    # some events share a timestamp (ordered by seq)
    assert ev.select(pl.struct("ticket_id", "event_at").is_duplicated().sum()).item() > 20
    # blank tiers and groups, a few percent each
    for col in ("tier", "group"):
        share = ev[col].null_count() / ev.height
        assert 0.005 < share < 0.08, col
    assert ev.filter(pl.col("group").is_null() & pl.col("tier").is_null()).height == 0
    # natural keys are distinct (ingest deduplicates on them)
    key = ["ticket_id", "event_at", "group", "tier", "agent", "status", "note_kind", "note_text"]
    assert ev.select(pl.struct(key).is_duplicated().sum()).item() == 0


def test_groups_map_to_the_written_tier(small):
    cfg = Config()
    ev = small.events.filter(pl.col("group").is_not_null() & pl.col("tier").is_not_null())
    mapped = ev.with_columns(g=pl.col("group")).select(
        "tier", mapped=pl.format("L{}", _tier_from_group(cfg)))
    assert (mapped["tier"] == mapped["mapped"]).all()
    assert {"L1", "L2", "L3"} == set(mapped["tier"])


def test_scenarios_and_notes_present(small):
    scen = small.planted["realised"]["scenarios"]
    assert all(v["tickets"] > 0 for v in scen.values()), scen
    notes = small.events.filter(pl.col("note_kind") == "escalation")["note_text"].str.to_lowercase()
    sections = Config().escalation.note_sections
    complete = pl.Series([all(s in n for s in sections) for n in notes])
    assert 0.3 < complete.mean() < 0.95
    tickets = small.tickets
    assert tickets["kb_article_id"].null_count() < tickets.height
    assert (~tickets["sla_met"].fill_null(True)).sum() > 0
    opened = tickets["opened_at"].dt
    assert (opened.weekday() >= 6).sum() > 0 and (opened.hour() < 7).sum() > 0
    assert ((opened.hour() >= 8) & (opened.hour() < 18)).mean() > 0.6


def test_label_free_modifiers_do_not_change_labels():
    T = sc.build_table()
    for m in sc.LABEL_FREE_MODS:
        bit = 1 << sc.MODS.index(m)
        ids = np.array([t for t in range(sc.N_TEMPLATES) if not t & bit])
        for k, v in T.labels.items():
            assert (v[ids] == v[ids | bit]).all(), (m, k)
