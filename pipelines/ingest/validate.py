"""Vectorised validation: a staged varchar table in, a typed table out.

The output table has one typed column per raw.* column of the kind, plus _line,
_raw_line and _reject_reason (null when the row is good; otherwise every failed
check, joined with "; "). Everything is one SQL statement over the whole file,
plus one aggregate query to decide the date order of day/month timestamps.

Timestamps: ISO 8601 (`T` or space, optional seconds and fraction, optional `Z` or
offset) and day/month forms (`29-02-2016 01:16`, `2/29/2016 1:05 PM`, ...). Values
with an offset are exact; naive values are read in `ingest.source_timezone`. The
day/month order comes from `ingest.date_order`, or with "auto" from the file itself:
a first field above 12 means day-first, a second field above 12 means month-first;
both is an error, neither (all ambiguous) is an error asking for the setting.

Plausibility (plausibility.py): an offset no time zone uses does not parse; a parsed
timestamp outside the run's window is rejected; a priority not in the priority map is
rejected. Nothing is coerced.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.config import Config
from pipelines.db import EVENT_NATURAL_KEY, quote_ident
from pipelines.errors import InputError
from pipelines.ingest.plausibility import (
    HAS_OFFSET,
    HAS_REAL_OFFSET,
    REAL_OFFSET,
    Window,
    WindowName,
    priority_sql,
    shown,
    timestamp_reason,
    windows,
)
from pipelines.ingest.readers import sql_str
from pipelines.ingest.schema import (
    CONTRACTS,
    FALSE_TOKENS,
    MISSING_TOKENS,
    NOTE_KINDS,
    PARSE_ERROR_COLUMN,
    TRUE_TOKENS,
    ColumnRule,
    Contract,
)

_TIME = r"(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?"
_ZONE = r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?"
ISO_RE = r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + _ZONE + "$"
DAY_MONTH_RE = r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})" + _TIME + r"\s*([AaPp][Mm])?" + _ZONE + "$"
# Fast paths (plain matches, no capture groups: RE2's DFA), parsed by DuckDB's own
# casts; everything else goes through the capture-group regexes above.
_FAST_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
FAST_NAIVE_ISO = r"^\d{4}-\d{1,2}-\d{1,2}" + _FAST_TIME + "$"
FAST_OFFSET_ISO = (
    r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
    r"(?:Z|" + REAL_OFFSET + ")$"
)
_REAL_ZONE = "^" + REAL_OFFSET + "$"
FAST_SLASH_DM = r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$"
_SLASH_FORMATS = ("{0} %H:%M", "{0} %H:%M:%S", "{0} %H:%M:%S.%f", "{0}")
# what a day/month value starts with: the only values that say which order a file uses
DM_SHAPE = r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}"
_ISO_PARTS = ["y", "mo", "d", "h", "mi", "s", "fr", "tz"]
_DM_PARTS = ["a", "b", "y", "h", "mi", "s", "fr", "ap", "tz"]


@dataclass(frozen=True)
class Validated:
    table: str
    date_order: str | None  # "dmy"/"mdy" when day/month timestamps were read, else None


def _one_of(expr: str, values: tuple[str, ...]) -> str:
    """SQL `expr in (values...)` written as equalities: DuckDB plans an IN list of
    strings as a join per column, which costs seconds on a large file; the
    equalities are the same test (null when expr is null) at a fraction of that."""
    return "(" + " or ".join(f"{expr} = {sql_str(v)}" for v in values) + ")"


def _trimmed(v: str) -> str:
    """SQL `trim(v)`, skipped for a value it would leave as it is: trim removes spaces
    and other Unicode space separators, so a value of ASCII characters (as many bytes as
    characters) without a space is left as it is, and trim's copy is not made."""
    other = f"contains({v}, ' ') or strlen({v}) <> length({v})"
    return f"(case when {other} then trim({v}) else {v} end)"


def _parts_list(names: list[str]) -> str:
    return "[" + ", ".join(sql_str(n) for n in names) + "]"


def _build_ts(
    p: str, *, year: str, month: str, day: str, ampm: bool, zone: str
) -> str:
    """SQL turning regex parts (struct `p`) into a timestamptz, null when impossible."""
    hour = f"coalesce(nullif({p}.h, ''), '0')"
    if ampm:
        hour = (
            f"case when {p}.ap = '' then {hour} "
            f"when cast({hour} as integer) not between 1 and 12 then '99' "
            f"when lower({p}.ap) = 'pm' then cast(cast({hour} as integer) % 12 + 12 as varchar) "
            f"else cast(cast({hour} as integer) % 12 as varchar) end"
        )
    local = (
        f"{year} || '-' || lpad({month}, 2, '0') || '-' || lpad({day}, 2, '0') || ' ' || "
        f"lpad({hour}, 2, '0') || ':' || coalesce(nullif({p}.mi, ''), '00') || ':' || "
        f"coalesce(nullif({p}.s, ''), '00') || {p}.fr"
    )
    return (
        f"case when {p}.tz = '' then timezone({sql_str(zone)}, try_cast({local} as timestamp)) "
        f"when upper({p}.tz) = 'Z' then try_cast({local} || '+00:00' as timestamptz) "
        f"when regexp_matches({p}.tz, {sql_str(_REAL_ZONE)}) "
        f"then try_cast({local} || {p}.tz as timestamptz) end"
    )


def fast_kind(v: str, order: str | None) -> str:
    """SQL: the fast path that parses the value, tested in timestamp_sql's order: 1 ISO
    without offset, 2 ISO with one, 3 day/month with slashes (with an order), else 0
    (null values too): the value then goes through the ISO and day/month parts."""
    # A value ending in Z has only the second shape to try (the others end in a digit);
    # the shapes exclude one another, so the order of the tests changes no result.
    offset = f"regexp_matches({v}, {sql_str(FAST_OFFSET_ISO)})"
    kinds = (
        f"when ends_with({v}, 'Z') then case when {offset} then 2 else 0 end "
        f"when regexp_matches({v}, {sql_str(FAST_NAIVE_ISO)}) then 1 "
        f"when {offset} then 2 "
    )
    if order in ("dmy", "mdy"):
        kinds += f"when regexp_matches({v}, {sql_str(FAST_SLASH_DM)}) then 3 "
    return f"(case {kinds}else 0 end)"


def timestamp_sql(
    v: str, iso: str, dm: str, order: str | None, zone: str, fast: str | None = None
) -> str:
    """Parsed timestamp of the clean value `v`: fast paths first, else from the ISO
    parts `iso` and day/month parts `dm` (structs, null when a fast path applies).
    `fast`: the value's fast_kind, when already worked out (its regexes run once)."""
    z = sql_str(zone)

    def shaped(kind: int, pattern: str) -> str:
        if fast is not None:
            return f"{fast} = {kind}"
        return f"regexp_matches({v}, {sql_str(pattern)})"

    branches = (
        f"when {shaped(1, FAST_NAIVE_ISO)} "
        f"then timezone({z}, try_cast({v} as timestamp)) "
        f"when {shaped(2, FAST_OFFSET_ISO)} "
        f"then try_cast({v} as timestamptz) "
    )
    if order in ("dmy", "mdy"):
        date = "%d/%m/%Y" if order == "dmy" else "%m/%d/%Y"
        formats = "[" + ", ".join(sql_str(f.format(date)) for f in _SLASH_FORMATS) + "]"
        branches += (
            f"when {shaped(3, FAST_SLASH_DM)} "
            f"then timezone({z}, try_strptime({v}, {formats})) "
        )
    parsed = _build_ts(iso, year=f"{iso}.y", month=f"{iso}.mo", day=f"{iso}.d",
                       ampm=False, zone=zone)
    branches += f"when {iso}.y <> '' then {parsed} "
    if order in ("dmy", "mdy"):
        day, month = (f"{dm}.a", f"{dm}.b") if order == "dmy" else (f"{dm}.b", f"{dm}.a")
        dm_parsed = _build_ts(dm, year=f"{dm}.y", month=month, day=day, ampm=True, zone=zone)
        branches += f"when {dm}.y <> '' then {dm_parsed} "
    return f"(case {branches}end)"


def _detect_order(
    con: duckdb.DuckDBPyConnection, source: str, columns: list[str], label: str, setting: str
) -> str | None:
    """Day/month order for the file: the setting, or evidence from the values."""
    if setting != "auto":
        return setting
    if not columns:
        return None
    aggs = []
    dm_shape = sql_str(DM_SHAPE)
    for i, c in enumerate(columns):
        a, b, d = f"_a{i}", f"_b{i}", f"_d{i}"
        aggs.append(
            f"""(select {{
                'day': arg_min({c} || ''' on line ' || _line, _line)
                    filter (where {a} between 13 and 31 and {b} between 1 and 12),
                'month': arg_min({c} || ''' on line ' || _line, _line)
                    filter (where {b} between 13 and 31 and {a} between 1 and 12),
                'any': arg_min({c} || ''' on line ' || _line, _line)
                    filter (where {a} between 1 and 12 and {b} between 1 and 12)
            }} from (
                select _line, {c},
                    try_cast(split_part({d}, '/', 1) as integer) as {a},
                    try_cast(split_part({d}, '/', 2) as integer) as {b}
                from (select _line, {c}, translate(left({c}, 6), '-.', '//') as {d}
                      from {source} where regexp_matches({c}, {dm_shape}))
            ))"""
        )
    row = con.execute("select " + ", ".join(aggs)).fetchone()
    assert row is not None
    found: dict[str, tuple[str, str]] = {}  # order -> (column, example)
    ambiguous: tuple[str, str] | None = None
    for c, ev in zip(columns, row, strict=True):
        name = c.removeprefix("v_")
        if ev["day"] and ev["month"]:
            raise InputError(
                f"{label}: mixed day-first and month-first dates in {label} column {name}: "
                f"'{ev['day']} can only be day-first, '{ev['month']} can only be month-first"
            )
        if ev["day"]:
            found.setdefault("dmy", (name, ev["day"]))
        if ev["month"]:
            found.setdefault("mdy", (name, ev["month"]))
        if ev["any"] and ambiguous is None:
            ambiguous = (name, ev["any"])
    if len(found) == 2:
        (c1, e1), (c2, e2) = found["dmy"], found["mdy"]
        raise InputError(
            f"{label}: mixed day-first and month-first dates in {label} columns {c1} and {c2}: "
            f"'{e1} can only be day-first, '{e2} can only be month-first"
        )
    if found:
        return next(iter(found))
    if ambiguous is not None:
        name, example = ambiguous
        raise InputError(
            f"{label}: column {name} has only ambiguous day/month dates (e.g. '{example}'): "
            "cannot tell day-first from month-first. Set ingest.date_order = \"dmy\" or "
            "\"mdy\" in tierlens.toml"
        )
    return None


def _typed(
    rule: ColumnRule, v: str, config: Config, ts: str | None, window: Window | None
) -> tuple[str, str | None]:
    """(typed value SQL, reject reason SQL or None) for one column; `v` is the clean value,
    and for a timestamp column `ts` its parsed value and `window` its plausible window."""
    name = rule.name
    if rule.type == "timestamp":
        assert ts is not None and window is not None
        return ts, timestamp_reason(name, v, ts, window)
    if rule.type == "integer":
        pattern = r"^([+-]?\d+)(?:\.0*)?$"
        # plain digits (most values) are cast as they are: the pattern takes them whole
        value = (
            f"case when ltrim({v}, '0123456789') = '' then try_cast({v} as bigint) "
            f"else try_cast(nullif(regexp_extract({v}, {sql_str(pattern)}, 1), '') as bigint) end"
        )
        if rule.name == "seq":
            reason = (
                f"case when {v} is not null and {value} is null then "
                f"'{name} is not a whole number: ' || {shown(v)} end"
            )
            return value, reason
        value = f"try_cast({value} as integer)"
        reason = (
            f"case when {v} is null then null "
            f"when {value} is null then '{name} is not a whole number: ' || {shown(v)} "
            f"when {value} < 0 then '{name} is negative: ' || {shown(v)} end"
        )
        return f"case when {value} >= 0 then {value} end", reason
    if rule.type == "boolean":
        value = (
            f"case when {_one_of(f'lower({v})', TRUE_TOKENS)} then true "
            f"when {_one_of(f'lower({v})', FALSE_TOKENS)} then false end"
        )
        reason = (
            f"case when {v} is not null and {value} is null then "
            f"'{name} is not true/false (or yes/no, 1/0): ' || {shown(v)} end"
        )
        return value, reason
    if rule.type == "priority":
        return priority_sql(v, dict(config.priority_map))
    if rule.type == "note_kind":
        value = f"case when {_one_of(f'lower({v})', NOTE_KINDS)} then lower({v}) end"
        reason = (
            f"case when {v} is not null and {value} is null then "
            f"'unknown note_kind value ' || {shown(v)} || ' (expected "
            f"{'/'.join(NOTE_KINDS)})' end"
        )
        return value, reason
    if rule.name == "partner":
        return f"coalesce({v}, {sql_str(config.ingest.default_partner)})", None
    return v, None


def validate(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    kind: str,
    config: Config,
    label: str,
    out: str,
) -> Validated:
    """Create temp table `out`: typed rows of `staged` with `_reject_reason`."""
    contract = CONTRACTS[kind]
    present = {str(r[0]) for r in con.execute(f"describe {staged}").fetchall()}
    missing = [c for c in contract.required if c not in present]
    if missing:
        raise InputError(
            f"{label}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (a {kind} file needs {', '.join(contract.required)})"
        )

    clean = []
    for rule in contract.columns:
        src = _trimmed(quote_ident(rule.name)) if rule.name in present else "null::varchar"
        is_missing = _one_of(src, MISSING_TOKENS)
        clean.append(f"case when {is_missing} then null else {src} end as v_{rule.name}")
    parse_error = PARSE_ERROR_COLUMN if PARSE_ERROR_COLUMN in present else "null::varchar"
    # without the text of each row (a reader that keeps it apart), _raw_line stays null
    raw_line = "_raw_line::varchar" if "_raw_line" in present else "null::varchar"
    # A view, not a table: cleaning is cheap, and a copy of the whole file is not
    # (a million-ticket events file: 5 s and 1.5 GB saved).
    cleaned = f"{out}_clean"
    con.execute(
        f"""create or replace temp view {cleaned} as
            select _line::bigint as _line, {raw_line} as _raw_line,
                {parse_error} as _parse_error, {", ".join(clean)}
            from {staged}"""
    )
    try:
        ts_cols = [f"v_{r.name}" for r in contract.columns if r.type == "timestamp"]
        setting = config.ingest.date_order
        # the run's windows: its transaction's start is the same for every file
        now = con.execute("select current_timestamp").fetchone()
        assert now is not None
        window = windows(config.ingest, now[0])
        # With "auto", only day/month values can give evidence of the order. The rows
        # are typed first as if there were none (day/month values then do not parse
        # and stay in the _src_ columns), and typed again in the order the file shows
        # only when some value has that shape: a file without one is read once.
        order: str | None = None if setting == "auto" else setting
        _create_typed(con, cleaned, out, contract, config, order, window)
        if setting == "auto" and _has_day_month(con, out, ts_cols):
            order = _detect_order(con, cleaned, ts_cols, label, setting)
            if order is not None:
                _create_typed(con, cleaned, out, contract, config, order, window)
    finally:
        con.execute(f"drop view if exists {cleaned}")

    for rule in contract.columns:
        if rule.type == "timestamp" and rule.required:
            _check_not_all_failing(con, out, rule.name, label)
    return Validated(out, order if order in ("dmy", "mdy") else None)


def _create_typed(
    con: duckdb.DuckDBPyConnection,
    cleaned: str,
    out: str,
    contract: Contract,
    config: Config,
    order: str | None,
    window: dict[WindowName, Window],
) -> None:
    """Temp table `out`: the typed values, _line, _reject_reason (with the text of a
    rejected row in _raw_line), and for each timestamp column its value when it did
    not parse (_src_<column>)."""
    zone = config.ingest.source_timezone
    ts_cols = [f"v_{r.name}" for r in contract.columns if r.type == "timestamp"]
    kinds = [f"{fast_kind(c, order)} as fk_{c}" for c in ts_cols]
    parts = []
    for c in ts_cols:
        slow = f"fk_{c} = 0"
        parts.append(f"case when {slow} then regexp_extract({c}, {sql_str(ISO_RE)}, "
                     f"{_parts_list(_ISO_PARTS)}) end as iso_{c}")
        parts.append(f"case when {slow} then regexp_extract({c}, {sql_str(DAY_MONTH_RE)}, "
                     f"{_parts_list(_DM_PARTS)}) end as dm_{c}")

    # A line that could not be split (bad JSON, wrong field count) gets only that
    # reason: its values are not trustworthy enough to say more.
    selects, reasons, parsed = [], [], []
    for rule in contract.columns:
        v = f"v_{rule.name}"
        ts = win = None
        if rule.type == "timestamp":
            # parsed once, in the inner select: the value and its reason read it
            ts, win = f"ts_{v}", window[rule.window]
            parsed.append(
                f"{timestamp_sql(v, f'iso_{v}', f'dm_{v}', order, zone, f'fk_{v}')} as {ts}"
            )
        value, reason = _typed(rule, v, config, ts, win)
        if rule.name == "seq":
            value = f"coalesce({value}, _line)"
        if rule.soft and reason is not None:  # unreadable: left out, row kept
            value, reason = f"case when ({reason}) is null then {value} end", None
        selects.append(f"{value} as {rule.target}")
        if rule.required:
            reasons.append(f"case when {v} is null then 'missing {rule.name}' end")
        if reason is not None:
            reasons.append(reason)
    # a timestamp's value that did not parse: what _has_day_month and
    # _check_not_all_failing read (a parsed value tells them nothing)
    srcs = {f"_src_{r.name}": f"case when ts_v_{r.name} is null then v_{r.name} end"
            for r in contract.columns if r.type == "timestamp"}
    keep_src = [f"{expr} as {name}" for name, expr in srcs.items()]
    targets = [r.target for r in contract.columns]
    # events: the hash of the natural key, for load.insert_events' check that no two
    # rows share one (hashed here, while the row is at hand)
    key = ""
    if contract.kind == "events":
        key = f", hash({', '.join(EVENT_NATURAL_KEY)}) as _key_hash"
    # the text of a rejected row is kept (for meta.rejects); a loaded row's is not
    con.execute(
        f"""create or replace temp table {out} as
            select {", ".join(targets)}, _line,
                case when _reject_reason is not null then _raw_line end as _raw_line,
                _reject_reason{"".join(", " + name for name in srcs)}{key}
            from (
            select {", ".join(selects)}, _line, _raw_line,
                coalesce(_parse_error, nullif(concat_ws('; ', {", ".join(reasons)}), ''))
                    as _reject_reason
                {"".join(", " + k for k in keep_src)}
            from (select *{"".join(", " + p for p in parsed)} from (
                select *{"".join(", " + p for p in parts)} from (
                    select *{"".join(", " + k for k in kinds)} from {cleaned}))))"""
    )


def _has_day_month(con: duckdb.DuckDBPyConnection, typed: str, ts_cols: list[str]) -> bool:
    """Whether a timestamp value of `typed` (typed with no day/month order) has the
    shape of a day/month date: such a value never parses without an order, so it is in
    its _src_ column (null for every value that parsed)."""
    if not ts_cols:
        return False
    shaped = " or ".join(
        f"regexp_matches(_src_{c.removeprefix('v_')}, {sql_str(DM_SHAPE)})" for c in ts_cols
    )
    row = con.execute(f"select exists (select 1 from {typed} where {shaped})").fetchone()
    return bool(row and row[0])


def _check_not_all_failing(
    con: duckdb.DuckDBPyConnection, table: str, column: str, label: str
) -> None:
    row = con.execute(
        f"""select count(_src_{column}), count({column}),
                arg_min(_src_{column}, _line) filter (where _src_{column} is not null),
                min(_line) filter (where _src_{column} is not null)
            from {table}"""
    ).fetchone()
    assert row is not None
    given, parsed, first, line = row
    if given and not parsed and not _bad_offsets(con, table, column):
        raise InputError(
            f"{label}: column {column}: no value parses as a timestamp "
            f"(first: '{first}' on line {line})"
        )


def _bad_offsets(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Whether some values of the column were read but carry an offset no zone uses: the
    file is understood, and those rows are rejected with that reason."""
    row = con.execute(
        f"""select count(*) from {table}
            where regexp_matches(_src_{column}, {sql_str(HAS_OFFSET)})
                and not regexp_matches(_src_{column}, {sql_str(HAS_REAL_OFFSET)})"""
    ).fetchone()
    return bool(row and row[0])
