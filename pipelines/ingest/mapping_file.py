"""The mapping file of the `mapped` format (TOML, validated by pydantic).

    [source]
    kind = "events"            # tickets | events | both (tickets derived from the rows)
    tool = "ConnectWise Manage"

    [columns]                  # canonical field = source column (header, any case)
    ticket_id = "Ticket #"
    event_at = "Date Entered"
    group = { column = "Text", pattern = 'Board changed from ".*" to "(.*)"' }
    status = { column = "New Value", when_column = "Field", when = ["Status"] }
    # or: status = ["Status", "Sub Status"]   (joined: "Accepted/Wait - User"; a blank
    #     part is left out; { column = "Status", join = ["Sub Status"], separator = " - " })

    [constants]                # canonical field = fixed value
    partner = "Contoso Helpdesk"

    [values.status]            # source value -> value given to Tierlens
    "Closed (resolved)" = "Resolved"

    [timestamps]
    format = "%m/%d/%Y %I:%M %p"   # strptime, or "auto" (Tierlens's own rules)
    timezone = "America/New_York"  # zone of values without an offset
    date_order = "auto"            # auto | dmy | mdy | ymd (with format = "auto")

    [events]
    fill_status = true         # a row that sets no status carries the previous one
    initial_status = "New"     # status before a ticket's first status row
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.config import _check_zone
from pipelines.errors import InputError
from pipelines.ingest.schema import CONTRACTS, normalise_name

CANONICAL = {*CONTRACTS["tickets"].names, *CONTRACTS["events"].names}


def _duckdb_refuses(sql: str, value: str) -> str | None:
    """DuckDB's reason for refusing `value` in `sql` (a {} for it, as a literal): the
    mapping's patterns and formats run in DuckDB, whose rules are not Python's (RE2
    regular expressions, its own strptime), so DuckDB checks them."""
    literal = "'" + value.replace("'", "''") + "'"
    with duckdb.connect() as con:
        try:
            con.execute(sql.format(literal)).fetchall()
        except duckdb.Error as exc:
            return " ".join(str(exc).split()).removeprefix("Invalid Input Error: ")
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """A source column, optionally cut by a regex and/or used only on some rows."""

    column: str
    join: list[str] = Field(
        default_factory=list, description="more columns appended to it, after `separator`"
    )
    separator: str = "/"
    pattern: str | None = Field(None, description="regex; its first group is the value")
    when_column: str | None = None
    when: list[str] = Field(default_factory=list, description="values of when_column")

    @field_validator("column", "when_column")
    @classmethod
    def _normalise(cls, v: str | None) -> str | None:
        return normalise_name(v) if v is not None else None

    @field_validator("join")
    @classmethod
    def _normalise_all(cls, v: list[str]) -> list[str]:
        if any(not c.strip() for c in v):
            raise ValueError("join: a column name is empty")
        return [normalise_name(c) for c in v]

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            refused = _duckdb_refuses("select regexp_matches('', {})", v)
            if refused:
                raise ValueError(
                    f"bad regular expression {v!r}: {refused} (RE2 syntax: no look-around "
                    "or back-references)"
                )
            try:
                if re.compile(v).groups < 1:
                    raise ValueError(f"pattern {v!r} needs one capture group ( )")
            except re.error as exc:
                raise ValueError(f"bad regular expression {v!r}: {exc}") from exc
        return v

    @model_validator(mode="after")
    def _when(self) -> ColumnSpec:
        if bool(self.when_column) != bool(self.when):
            raise ValueError("when_column and when go together")
        return self


def _spec(field: str, value: object) -> object:
    """A column given as a name, or as a list of names joined with "/"."""
    if isinstance(value, str):
        return {"column": value}
    if isinstance(value, list):
        if len(value) < 2 or not all(isinstance(c, str) and c.strip() for c in value):
            raise ValueError(
                f"{field}: a list joins columns (e.g. [\"Status\", \"Sub Status\"]): give "
                "two or more column names"
            )
        return {"column": value[0], "join": value[1:]}
    return value


class SourceSpec(_Strict):
    kind: Literal["tickets", "events", "both"]
    tool: str = ""


class TimestampSpec(_Strict):
    format: str = "auto"
    timezone: str | None = None
    date_order: Literal["auto", "ymd", "dmy", "mdy"] = "auto"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return _check_zone(v) if v is not None else None

    @field_validator("format")
    @classmethod
    def _format(cls, v: str) -> str:
        if v == "auto":
            return v
        refused = _duckdb_refuses("select try_strptime('', {})", v) if "%" in v else (
            "it has no % directive"
        )
        if refused:
            raise ValueError(
                f"bad strptime format {v!r}: {refused} (e.g. '%m/%d/%Y %I:%M %p', or \"auto\"; "
                "see docs/adapters.md)"
            )
        return v


class EventSpec(_Strict):
    fill_status: bool = True
    initial_status: str | None = None


class Mapping(_Strict):
    source: SourceSpec
    columns: dict[str, ColumnSpec]
    constants: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    timestamps: TimestampSpec = Field(default_factory=TimestampSpec)
    events: EventSpec = Field(default_factory=EventSpec)

    @field_validator("columns", mode="before")
    @classmethod
    def _strings(cls, v: object) -> object:
        if isinstance(v, dict):
            return {k: _spec(k, s) for k, s in v.items()}
        return v

    @model_validator(mode="after")
    def _fields(self) -> Mapping:
        for where, keys in (("columns", self.columns), ("constants", self.constants),
                            ("values", self.values)):
            unknown = sorted(set(keys) - CANONICAL)
            if unknown:
                raise ValueError(
                    f"{where}: unknown canonical field(s) {', '.join(unknown)} "
                    f"(known: {', '.join(sorted(CANONICAL))})"
                )
        needed = {"tickets": ("ticket_id",), "events": ("ticket_id", "event_at"),
                  "both": ("ticket_id", "event_at")}[self.source.kind]
        missing = [f for f in needed if f not in self.columns]
        if self.source.kind != "tickets" and "status" not in {*self.columns, *self.constants}:
            missing.append("status")
        if missing:
            raise ValueError(f"columns: a {self.source.kind} mapping needs {', '.join(missing)}")
        return self


def load_mapping(path: Path | str) -> Mapping:
    """Read and check a mapping file; errors name the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: mapping file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid TOML mapping file: {exc}") from None
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            lines.append(f"{key}: {msg}")
        if len(lines) == 1:
            raise InputError(f"{path}: invalid mapping: {lines[0]}") from None
        raise InputError(
            f"{path}: invalid mapping\n" + "\n".join(f"  {line}" for line in lines)
        ) from None
