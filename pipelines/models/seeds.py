"""Write the configuration into small lookup tables in the `config` schema.

The SQL models read their settings from these tables, so the SQL stays plain
(no templating) and a config change is a rebuild, not a code change.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from pipelines.calendars import days_frame, intervals_frame
from pipelines.config import Config
from pipelines.db import register_frame
from pipelines.metrics import METRICS
from pipelines.metrics.sql import facts

# Days of working intervals written on each side of the data's dates: a zone up to
# 14 hours from UTC, and a range running past midnight.
CALENDAR_MARGIN_DAYS = 2


def _data_days(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """The first and last UTC day of any event or opening time loaded, if any."""
    try:
        first, last = con.execute(
            "select min(day), max(day) from ("
            " select min(event_at)::date as day from raw.events"
            " union all select max(event_at)::date from raw.events"
            " union all select min(opened_at)::date from raw.tickets)"
        ).fetchall()[0]
    except duckdb.CatalogException:  # no ingest yet (or a scratch database)
        return None
    if first is None:
        return None
    margin = timedelta(days=CALENDAR_MARGIN_DAYS)
    return first - margin, last + margin


def _calendar_tables(config: Config, days: tuple[date, date] | None) -> dict[str, pl.DataFrame]:
    clocks = config.clocks
    intervals = intervals_frame(
        config.calendars if days else {},
        *(days or (date.min, date.min)),
        config.reporting_timezone,
    )
    return {
        "calendars": pl.DataFrame(
            {
                "calendar": list(config.calendars),
                "is_always": [c.is_always for c in config.calendars.values()],
                "definition": [c.model_dump_json(by_alias=True) for c in config.calendars.values()],
            },
            schema={"calendar": pl.String, "is_always": pl.Boolean, "definition": pl.String},
        ),
        "calendar_rules": pl.DataFrame(
            [
                {
                    "rule_order": i,
                    "partner": r.partner,
                    "client": r.client,
                    "priority": r.priority,
                    "calendar": r.calendar,
                }
                for i, r in enumerate(config.calendar_map)
            ],
            schema={
                "rule_order": pl.Int64,
                "partner": pl.String,
                "client": pl.String,
                "priority": pl.String,
                "calendar": pl.String,
            },
        ),
        "calendar_intervals": intervals,
        "calendar_days": days_frame(intervals, *(days or (date.min, date.min))),
        "clocks": pl.DataFrame(
            {
                "pickup_target_clock": [clocks.pickup_target],
                "late_escalation_clock": [clocks.late_escalation],
                "early_escalation_clock": [clocks.early_escalation],
                "quick_fix_clock": [clocks.quick_fix],
            }
        ),
        "pause_statuses": pl.DataFrame(
            {"status_class": list(clocks.pause_statuses)}, schema={"status_class": pl.String}
        ),
    }


def _tables(config: Config, days: tuple[date, date] | None) -> dict[str, pl.DataFrame]:
    esc = config.escalation
    targets = [
        {"partner": None, "metric": m, **t.model_dump()} for m, t in config.targets.items()
    ] + [
        {"partner": p, "metric": m, **t.model_dump()}
        for p, per in config.partner_targets.items()
        for m, t in per.items()
    ]
    return {
        "settings": pl.DataFrame(
            {
                "reporting_timezone": [config.reporting_timezone],
                "week_start_offset": [config.week_start_offset],
                "min_sample": [config.min_sample],
                "quick_fix_minutes": [float(esc.quick_fix_minutes)],
                "early_escalation_minutes": [float(esc.early_escalation_minutes)],
                "default_partner": [config.ingest.default_partner],
                "min_gap": [float(config.comparison.min_gap)],
            }
        ),
        "tier_rules": pl.DataFrame(
            [
                {
                    "rule_order": i,
                    "partner": r.partner,
                    "group_exact": r.group.strip().lower() if r.group else None,
                    "pattern": r.pattern,
                    "tier": r.tier,
                }
                for i, r in enumerate(config.tier_map)
            ],
            schema={
                "rule_order": pl.Int64,
                "partner": pl.String,
                "group_exact": pl.String,
                "pattern": pl.String,
                "tier": pl.String,
            },
        ),
        "status_map": pl.DataFrame(
            {
                "status_key": list(config.status_map),
                "status_class": list(config.status_map.values()),
            },
            schema={"status_key": pl.String, "status_class": pl.String},
        ),
        "l1_scope": pl.DataFrame(
            [{"kind": "category", "value_key": v.strip().lower()} for v in esc.l1_scope_categories]
            + [
                {"kind": "resolution_code", "value_key": v.strip().lower()}
                for v in esc.l1_scope_resolution_codes
            ]
            + [{"kind": "kb_article", "value_key": v.strip().lower()} for v in esc.l1_kb_articles],
            schema={"kind": pl.String, "value_key": pl.String},
        ),
        "late_escalation_thresholds": pl.DataFrame(
            {
                "category_key": [k.strip().lower() for k in esc.late_escalation_minutes],
                "threshold_minutes": [float(v) for v in esc.late_escalation_minutes.values()],
            },
            schema={"category_key": pl.String, "threshold_minutes": pl.Float64},
        ),
        "pickup_targets": pl.DataFrame(
            {
                "priority": list(esc.pickup_target_minutes),
                "target_minutes": [float(v) for v in esc.pickup_target_minutes.values()],
            },
            schema={"priority": pl.String, "target_minutes": pl.Float64},
        ),
        "note_sections": pl.DataFrame(
            {"section_key": [s.strip().lower() for s in esc.note_sections]},
            schema={"section_key": pl.String},
        ),
        "first_contact_statuses": pl.DataFrame(
            {"status_key": [s.strip().lower() for s in esc.first_contact_statuses]},
            schema={"status_key": pl.String},
        ),
        "targets": pl.DataFrame(
            targets,
            schema={
                "partner": pl.String,
                "metric": pl.String,
                "green_min": pl.Float64,
                "green_max": pl.Float64,
                "red_below": pl.Float64,
                "red_above": pl.Float64,
                "label": pl.String,
            },
        ),
        # the catalogue, from pipelines/metrics/registry.py
        "metrics": pl.DataFrame(
            [
                {
                    "metric": m.name,
                    "metric_order": i,
                    "label": m.label,
                    "description": m.description,
                    "model": m.model,
                    "stat": m.stat,
                    "unit": m.unit,
                    "direction": m.direction,
                    "min_sample": m.min_sample,
                    "needs_tiers": m.needs_tiers,
                }
                for i, m in enumerate(METRICS)
            ],
            schema_overrides={"min_sample": pl.Int64},
        ),
        # metric -> the facts of kpi_facts it aggregates; is_base marks a ratio's denominator
        "metric_facts": pl.DataFrame(
            [
                {"metric": m.name, "stat": m.stat, "fact": fact.name, "is_base": is_base}
                for m, fact, is_base in facts()
            ]
        ),
    } | _calendar_tables(config, days)


def write_seeds(con: duckdb.DuckDBPyConnection, config: Config) -> list[str]:
    """(Re)create every config table; returns their names."""
    con.execute("create schema if not exists config")
    names = []
    for name, frame in _tables(config, _data_days(con)).items():
        register_frame(con, "_seed_frame", frame)
        con.execute(f"create or replace table config.{name} as select * from _seed_frame")
        con.unregister("_seed_frame")
        names.append(name)
    return names
