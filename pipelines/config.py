"""Tierlens configuration: one file, `tierlens.toml`, validated with pydantic.

Every key has a default, so a missing file means "use the defaults". A bad key
or value is reported with the key's dotted path and the file it came from.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, tzinfo
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipelines.access.settings import Access
from pipelines.calendars import Calendar, CalendarRule
from pipelines.environment import DEFAULT_CONFIG_NAME as DEFAULT_CONFIG_NAME
from pipelines.errors import ConfigError as ConfigError
from pipelines.metrics import METRIC_NAMES, Target, default_targets, unknown_metric_message

Tier = Literal["L1", "L2", "L3", "L4"]
Priority = Literal["P1", "P2", "P3", "P4"]
StatusClass = Literal["queue", "work", "wait", "resolved", "closed", "cancelled"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'Europe/Paris')"
        ) from exc
    return value


class TierRule(_Strict):
    """Map an assignment group to a tier, by exact name or by regular expression."""

    group: str | None = Field(None, description="exact group name (case-insensitive)")
    pattern: str | None = Field(None, description="regular expression searched in the group name")
    tier: Tier
    partner: str | None = Field(None, description="only for this partner's tickets")

    @model_validator(mode="after")
    def _one_matcher(self) -> TierRule:
        if (self.group is None) == (self.pattern is None):
            raise ValueError("a tier rule needs exactly one of 'group' or 'pattern'")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {self.pattern!r}: {exc}") from exc
        return self


def _default_status_map() -> dict[str, StatusClass]:
    # Keys are matched case-insensitively after trimming.
    return {
        "new": "queue",
        "queued": "queue",
        "open": "work",
        "assigned": "queue",
        "awaiting assignment": "queue",
        "queued/awaiting assignment": "queue",
        "in progress": "work",
        "work in progress": "work",
        "active": "work",
        "accepted/in progress": "work",
        "accepted/assigned": "work",
        "pending": "wait",
        "on hold": "wait",
        "hold": "wait",
        "on-hold": "wait",  # Zendesk's hold as Fivetran's schema lands it
        "awaiting *": "wait",
        "accepted/wait*": "wait",
        "waiting": "wait",
        "awaiting user": "wait",
        "awaiting user info": "wait",
        "awaiting vendor": "wait",
        "awaiting problem": "wait",
        "awaiting evidence": "wait",
        "accepted/wait": "wait",
        "accepted/wait - user": "wait",
        "accepted/wait - vendor": "wait",
        "accepted/wait - implementation": "wait",
        "accepted/wait - customer": "wait",
        "resolved": "resolved",
        "solved": "resolved",
        "completed/resolved": "resolved",
        "completed/in call": "resolved",
        "resolved in call": "resolved",
        "closed": "closed",
        "completed/closed": "closed",
        "cancelled": "cancelled",
        "canceled": "cancelled",
        "completed/cancelled": "cancelled",
        "deleted": "cancelled",  # a ticket deleted in Zendesk (zendesk adapter)
    }


def _default_tier_map() -> list[TierRule]:
    return [
        TierRule(pattern=r"(?i)\b(l1|tier ?1|1st|service ?desk|help ?desk)\b", tier="L1"),
        TierRule(pattern=r"(?i)\b(l2|tier ?2|2nd)\b", tier="L2"),
        TierRule(pattern=r"(?i)\b(l3|tier ?3|3rd)\b", tier="L3"),
        TierRule(pattern=r"(?i)\b(l4|tier ?4|4th|vendor)\b", tier="L4"),
    ]


def _default_late_escalation_minutes() -> dict[str, float]:
    return {"security": 0, "network": 15, "*": 25}


def _default_pickup_target_minutes() -> dict[str, float]:
    return {"P1": 30, "P2": 30}


class EscalationRules(_Strict):
    """Rules behind the unnecessary-escalation flag and the escalation-timing KPIs."""

    l1_scope_categories: list[str] = Field(
        default_factory=lambda: ["password reset", "account unlock", "how-to"],
        description="categories L1 is expected to resolve alone",
    )
    l1_scope_resolution_codes: list[str] = Field(
        default_factory=lambda: ["password reset", "known error", "user education"],
        description="resolution codes that mean an L1 fix",
    )
    l1_kb_articles: list[str] = Field(
        default_factory=list,
        description="KB article ids usable by L1; '*' means every article",
    )
    quick_fix_minutes: float = Field(15, ge=0)
    early_escalation_minutes: float = Field(5, ge=0)
    late_escalation_minutes: dict[str, float] = Field(
        default_factory=_default_late_escalation_minutes,
        description="per category; '*' is every other category",
    )
    pickup_target_minutes: dict[str, float] = Field(
        default_factory=_default_pickup_target_minutes,
        description="pickup target by priority; priorities not listed have no target",
    )
    note_sections: list[str] = Field(
        default_factory=lambda: [
            "user issue",
            "troubleshooting performed",
            "findings",
            "reason for escalation",
        ],
        description="sections a complete escalation note contains (case-insensitive)",
    )
    first_contact_statuses: list[str] = Field(
        default_factory=lambda: ["completed/in call", "resolved in call"],
        description="source statuses meaning 'resolved during the first contact'",
    )


Clock = Literal["business", "wall"]


def _default_pause_statuses() -> list[StatusClass]:
    return ["wait"]


class Clocks(_Strict):
    """[clocks]: which clock the timing rules read, and what pauses the paused clocks.
    Business time is wall-clock time for a ticket with no calendar (see
    [calendars] and [[calendar_map]]), so these change nothing without one."""

    pickup_target: Clock = Field("business", description="pickup within the target")
    late_escalation: Clock = Field("business", description="escalated after the threshold")
    early_escalation: Clock = Field("business", description="escalated within minutes")
    quick_fix: Clock = Field("business", description="resolved within minutes of pickup")
    pause_statuses: list[StatusClass] = Field(
        default_factory=_default_pause_statuses,
        description="status classes during which the paused clocks (the business "
        "minutes at each tier) stop",
    )


class Comparison(_Strict):
    """[comparison]: when the partner comparison calls two partners different."""

    min_gap: float = Field(
        0.05,
        ge=0,
        le=1,
        description="the smallest gap between two partners' rates that matters (0.05 = "
        "5 percentage points): a smaller gap is never called a difference, however sure",
    )


class IngestSettings(_Strict):
    source_timezone: str = Field("UTC", description="zone of timestamps with no offset")
    date_order: Literal["auto", "ymd", "dmy", "mdy"] = "auto"
    default_partner: str = "default"
    earliest: date = Field(
        date(1990, 1, 1), description="first plausible day of a timestamp (from 00:00 UTC)"
    )
    latest: date | None = Field(
        None,
        description="last plausible day of a timestamp (to 24:00 UTC); "
        "unset: the start of the ingest run plus one day",
    )
    sla_due_days_ahead: int = Field(
        365, ge=0, description="sla_due_at may lie this many days after the latest bound"
    )

    _zone = field_validator("source_timezone")(_check_zone)

    @model_validator(mode="after")
    def _window_not_empty(self) -> IngestSettings:
        if self.latest is not None and self.latest < self.earliest:
            raise ValueError(
                f"latest ({self.latest}) is before earliest ({self.earliest}): "
                "no timestamp would be plausible"
            )
        return self


class EventlogColumns(_Strict):
    """[eventlog]: which column of a process-mining log holds what (header names, any
    case). Defaults: the Volvo IT log of the BPI Challenge 2013. An optional column
    set to "" is not read."""

    case_id: str = "sr number"
    timestamp: str = "change date+time"
    status: str = "status"
    sub_status: str | None = "sub status"
    group: str = "involved st"
    tier: str | None = "st level"
    agent: str | None = "resource"
    partner: str | None = "involved org line 3"
    priority: str | None = "sr latest impact"
    category: str | None = "product"
    client: str | None = "country"

    @field_validator("*", mode="before")
    @classmethod
    def _header(cls, v: object, info: ValidationInfo) -> object:
        if not isinstance(v, str):
            return v
        if not v.strip() and info.field_name in ("case_id", "timestamp", "status", "group"):
            raise ValueError("needs the name of a column of the log (it cannot be left out)")
        return v.strip().lower() or None


# Whitespace folded in priority values before the map is looked up: the same set in
# Python (config keys) and in SQL (values of a file), so both sides agree.
PRIORITY_SPACE = r"[ \t\n\r\f]+"


def priority_key(value: str) -> str:
    """A priority value as looked up in the map: trimmed, lower case, each run of
    whitespace one space."""
    return re.sub(PRIORITY_SPACE, " ", value.lower()).strip(" ")


# Built-in priority scales (keys as priority_key gives them). A file's priority must be
# one of these or a key of [priority_map]; anything else is rejected, never guessed.
CANONICAL_PRIORITIES: dict[str, Priority] = {
    "p1": "P1", "p2": "P2", "p3": "P3", "p4": "P4",
    "p 1": "P1", "p 2": "P2", "p 3": "P3", "p 4": "P4",
    "1": "P1", "2": "P2", "3": "P3", "4": "P4",
    "critical": "P1", "high": "P2", "medium": "P3", "moderate": "P3", "low": "P4",
}
SERVICENOW_PRIORITIES: dict[str, Priority] = {
    "1 - critical": "P1", "2 - high": "P2", "3 - moderate": "P3", "4 - low": "P4",
    # ServiceNow's fifth level has no P5 here: planning work is counted with P4.
    "5 - planning": "P4",
}
ZENDESK_PRIORITIES: dict[str, Priority] = {
    "urgent": "P1", "high": "P2", "normal": "P3", "low": "P4",
}


def _default_priority_map() -> dict[str, Priority]:
    return {**CANONICAL_PRIORITIES, **SERVICENOW_PRIORITIES, **ZENDESK_PRIORITIES}


class Config(_Strict):
    reporting_timezone: str = "UTC"
    week_start: Weekday = "monday"
    min_sample: int = Field(20, ge=1, description="rates on fewer cases are 'insufficient'")
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    tier_map: list[TierRule] = Field(default_factory=_default_tier_map)
    status_map: dict[str, StatusClass] = Field(default_factory=_default_status_map)
    priority_map: dict[str, Priority] = Field(default_factory=_default_priority_map)
    targets: dict[str, Target] = Field(default_factory=default_targets)
    partner_targets: dict[str, dict[str, Target]] = Field(default_factory=dict)
    escalation: EscalationRules = Field(default_factory=EscalationRules)
    eventlog: EventlogColumns = Field(default_factory=EventlogColumns)
    calendars: dict[str, Calendar] = Field(default_factory=dict)
    calendar_map: list[CalendarRule] = Field(default_factory=list)
    clocks: Clocks = Field(default_factory=Clocks)
    comparison: Comparison = Field(default_factory=Comparison)
    access: Access = Field(default_factory=Access)

    _zone = field_validator("reporting_timezone")(_check_zone)

    @field_validator("calendars")
    @classmethod
    def _calendar_zones(cls, value: dict[str, Calendar]) -> dict[str, Calendar]:
        for calendar in value.values():
            if calendar.timezone is not None:
                _check_zone(calendar.timezone)
        return value

    @model_validator(mode="after")
    def _calendar_map_names_calendars(self) -> Config:
        for i, rule in enumerate(self.calendar_map):
            if rule.calendar not in self.calendars:
                known = ", ".join(sorted(self.calendars)) or "none is defined"
                raise ValueError(
                    f"calendar_map.{i}: no calendar {rule.calendar!r} ([calendars.NAME]: "
                    f"{known})"
                )
            if rule.priority is not None and rule.priority not in ("P1", "P2", "P3", "P4"):
                raise ValueError(
                    f"calendar_map.{i}: priority {rule.priority!r}: use P1, P2, P3 or P4 "
                    "(the priority after [priority_map])"
                )
        return self

    @field_validator("status_map")
    @classmethod
    def _merge_status_map(cls, value: dict[str, str]) -> dict[str, str]:
        return {**_default_status_map(), **{k.strip().lower(): v for k, v in value.items()}}

    @field_validator("priority_map")
    @classmethod
    def _merge_priority_map(cls, value: dict[str, Priority]) -> dict[str, Priority]:
        given: dict[str, str] = {}
        for raw in value:
            key = priority_key(raw)
            if not key:
                raise ValueError("an empty priority value cannot be mapped")
            if key in given and given[key] != raw:
                raise ValueError(
                    f"{given[key]!r} and {raw!r} are the same priority value "
                    "(compared ignoring case and spaces): keep one"
                )
            given[key] = raw
        return {**_default_priority_map(), **{priority_key(k): v for k, v in value.items()}}

    @field_validator("targets")
    @classmethod
    def _merge_default_targets(cls, value: dict[str, Target]) -> dict[str, Target]:
        _known_metrics(value)
        return {**default_targets(), **value}

    @field_validator("partner_targets")
    @classmethod
    def _partner_targets_name_metrics(
        cls, value: dict[str, dict[str, Target]]
    ) -> dict[str, dict[str, Target]]:
        for per_partner in value.values():
            _known_metrics(per_partner)
        return value

    @property
    def week_start_offset(self) -> int:
        """Days from Monday to the configured first day of the week."""
        return WEEKDAYS.index(self.week_start)

    @property
    def source_zone(self) -> tzinfo:
        return ZoneInfo(self.ingest.source_timezone)



def _known_metrics(targets: dict[str, Target]) -> None:
    unknown = [name for name in targets if name not in METRIC_NAMES]
    if unknown:
        raise ValueError("; ".join(unknown_metric_message(name) for name in unknown))


def _describe(errors: ValidationError) -> str:
    lines = []
    for err in errors.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against docs/configuration in the README)"
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)


def load_config(path: Path | str | None = None) -> Config:
    """Load `path`, or `tierlens.toml` in the working directory, or the defaults."""
    if path is None:
        candidate = Path(DEFAULT_CONFIG_NAME)
        if not candidate.exists():
            return Config()
        path = candidate
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: configuration file not found")
    if not path.is_file():
        raise ConfigError(f"{path}: not a file (give the path of a tierlens.toml)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid configuration\n{_describe(exc)}") from exc
