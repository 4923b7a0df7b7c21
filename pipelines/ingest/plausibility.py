"""Plausibility rules of ingest, as SQL: the window of plausible timestamps, real UTC
offsets, and the priority map.

Window: a timestamp is plausible from `ingest.earliest` (00:00 UTC) up to the end of
`ingest.latest` (24:00 UTC), or, with no `latest`, up to one day after the start of the
ingest run. `sla_due_at` (a deadline, which may lie ahead) gets `ingest.sla_due_days_ahead`
more days. "The start of the run" is the start of its DuckDB transaction (an ingest is
one transaction), so every file of a run is judged against the same window.

Offsets: real ones only, -12:00 .. +14:00 with minutes 00, 30 or 45 (`+05:30`, `+0530`,
`+05`). Values with any other offset do not parse (see validate.timestamp_sql) and get
their own reason here.

Priorities: looked up in `Config.priority_map` (built-in scales plus [priority_map]),
keys compared as `config.priority_key` folds them; a value not in the map is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pipelines.config import PRIORITY_SPACE, IngestSettings
from pipelines.ingest.readers import sql_str

WindowName = Literal["event", "due"]

# An offset a time zone really uses: -12:00 .. +14:00, minutes 00, 30 or 45, written
# +05:30, +0530 or +05 (no capture groups: it stays a fast DFA match).
REAL_OFFSET = (
    r"(?:\+(?:0\d|1[0-3])(?::?(?:00|30|45))?|\+14(?::?00)?"
    r"|-(?:0\d|1[01])(?::?(?:00|30|45))?|-12(?::?00)?)"
)
ANY_OFFSET = r"[+-]\d{2}(?::?\d{2})?"
# What may stand before an offset: a time (with seconds, fraction, AM/PM) or a date.
_BEFORE_OFFSET = (
    r"(?:\d:\d{2}(?::\d{2}(?:\.\d*)?)?\s*(?:[AaPp][Mm])?|^\d{4}[-/.]\d{1,2}[-/.]\d{1,2})\s*"
)
HAS_OFFSET = _BEFORE_OFFSET + ANY_OFFSET + "$"
HAS_REAL_OFFSET = _BEFORE_OFFSET + REAL_OFFSET + "$"
OFFSET_RULE = "-12:00 to +14:00, minutes 00, 30 or 45"

_MAX_SHOWN = 80


def shown(v: str) -> str:
    """SQL for the value as quoted in a reason: 'value' (long values cut)."""
    return f"'''' || left({v}, {_MAX_SHOWN}) || ''''"


@dataclass(frozen=True)
class Window:
    """Plausible instants: start <= t < end (UTC)."""

    start: datetime
    end: datetime
    late_setting: str  # the setting that moves `end`

    @property
    def text(self) -> str:
        return f"{_fmt(self.start)} to {_fmt(self.end)} UTC"


def _fmt(t: datetime) -> str:
    return t.isoformat(sep=" ", timespec="minutes").removesuffix("+00:00")


def _midnight(d: date, days: int = 0) -> datetime:
    """00:00 UTC of `d` plus `days` days (the last representable day at most)."""
    try:
        return datetime.combine(d + timedelta(days=days), time(0), UTC)
    except OverflowError:
        return datetime.combine(date.max, time(0), UTC)


def _plus_days(t: datetime, days: int) -> datetime:
    try:
        return t + timedelta(days=days)
    except OverflowError:
        return datetime.combine(date.max, time(0), UTC)


def windows(settings: IngestSettings, now: datetime) -> dict[WindowName, Window]:
    """The run's windows: `now` is the start of the run (an aware datetime)."""
    start = _midnight(settings.earliest)
    if settings.latest is None:
        ahead = now.astimezone(UTC) + timedelta(days=1, minutes=1)
        end = ahead.replace(second=0, microsecond=0)  # a whole minute, as shown
    else:
        end = _midnight(settings.latest, 1)
    due = _plus_days(end, settings.sla_due_days_ahead)
    return {
        "event": Window(start, end, "ingest.latest"),
        "due": Window(start, due, "ingest.sla_due_days_ahead"),
    }


def _ts_literal(t: datetime) -> str:
    return f"timestamptz {sql_str(t.isoformat())}"


def timestamp_reason(name: str, v: str, ts: str, window: Window) -> str:
    """SQL: why the clean value `v` of column `name`, parsed as `ts`, is rejected (null
    when it is fine). One CASE: each value gets one reason at most."""
    where = f"the plausible window {window.text}"
    return (
        f"case when {v} is null then null "
        f"when {ts} is null then case "
        f"when regexp_matches({v}, {sql_str(HAS_OFFSET)}) "
        f"and not regexp_matches({v}, {sql_str(HAS_REAL_OFFSET)}) "
        f"then '{name} ' || {shown(v)} || ' has a UTC offset no time zone uses "
        f"(real offsets: {OFFSET_RULE})' "
        f"else 'unparseable timestamp ' || {shown(v)} || ' in {name}' end "
        f"when {ts} < {_ts_literal(window.start)} then '{name} ' || {shown(v)} || "
        f"' is before {where} (to accept it, change ingest.earliest in tierlens.toml)' "
        f"when {ts} >= {_ts_literal(window.end)} then '{name} ' || {shown(v)} || "
        f"' is after {where} (to accept it, change {window.late_setting} in tierlens.toml)' "
        "end"
    )


def priority_sql(v: str, priority_map: dict[str, str]) -> tuple[str, str]:
    """(priority SQL, reject reason SQL) of the clean value `v`: a map lookup of the
    folded value, never a guess."""
    lit = "map {" + ", ".join(
        f"{sql_str(k)}: {sql_str(p)}" for k, p in sorted(priority_map.items())
    ) + "}"
    key = f"trim(regexp_replace(lower({v}), {sql_str(PRIORITY_SPACE)}, ' ', 'g'))"
    value = f"{lit}[{key}]"
    reason = (
        f"case when {v} is not null and {value} is null then "
        f"'unknown priority value ' || {shown(v)} || "
        "' (add it to [priority_map] in tierlens.toml)' end"
    )
    return value, reason
