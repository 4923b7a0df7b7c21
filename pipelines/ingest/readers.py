"""Reading one data file into a DuckDB temp table of varchar columns.

Every reader produces the same shape: one varchar column per header column (named
by `schema.normalise_name`), plus
  _line           bigint   physical line number (header = line 1; JSONL: the line;
                           Parquet: the row number starting at 1)
  _raw_line       varchar  the original text (Parquet: the row rendered as JSON);
                           left out with read_file(raw_apart=True), see RawTable.lines
  _reject_reason  varchar  a problem found while splitting the line, else null

How CSV is read: DuckDB reads the file as raw physical lines (one varchar column,
no quoting), so every line keeps its number and its exact text; the fields are then
split in SQL (a regular expression that honours double quotes, or a plain split when
the line has no quote). Records spanning several lines (a newline inside quotes) are
re-assembled by quote parity, numbered by their first line. All of this is vectorised.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from pipelines.errors import InputError
from pipelines.ingest.schema import DATA_SUFFIXES, is_data_file, normalise_name

FileFormat = Literal["csv", "jsonl", "parquet"]

_CHUNK = 1 << 22
# Control characters used as the "delimiter" when reading whole lines; the first
# one absent from the file is used.
_LINE_DELIMS = ("\x1f", "\x1e", "\x1d", "\x1c", "\x01")
_SNIFF_DELIMS = (",", ";", "\t", "|")
_MAX_LINE = 1 << 26


@dataclass(frozen=True)
class FileInfo:
    path: Path
    label: str  # the path as the user gave it (used in messages and lineage)
    format: FileFormat
    content_hash: str
    encoding: str  # "utf-8" or "latin-1"
    line_delim: str
    size: int


@dataclass(frozen=True)
class RawTable:
    table: str
    columns: list[str]  # normalised header names, in file order
    header: list[str]  # header names as written
    # With read_file(..., raw_apart=True) on a CSV whose records are single lines:
    # the temp table (ln, raw) of the file's lines, and `table` has no _raw_line
    # (the caller looks a line up by _line when it needs the text, and drops this).
    lines: str | None = None


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def expand_paths(paths: list[Path]) -> list[tuple[Path, str]]:
    """Files to read as (path, label): folders give their data files sorted by name."""
    out: list[tuple[Path, str]] = []
    for p in paths:
        if p.is_dir():
            files = sorted(c for c in p.iterdir() if c.is_file() and is_data_file(c.name))
            if not files:
                kinds = ", ".join(s.lstrip(".") for s in DATA_SUFFIXES)
                raise InputError(f"{p}: no data files in this folder (looked for {kinds})")
            out.extend((c, str(c)) for c in files)
        elif p.is_file():
            out.append((p, str(p)))
        else:
            raise InputError(f"{p}: no such file")
    return out


def _format_of(path: Path) -> FileFormat:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz")):
        return "jsonl"
    if name.endswith((".csv", ".tsv", ".csv.gz", ".tsv.gz", ".txt")):
        return "csv"
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "jsonl"
    return "csv"


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def inspect_file(path: Path, label: str) -> FileInfo:
    """Hash the bytes, and detect the format, the text encoding and a free line delimiter."""
    if not path.is_file():
        raise InputError(f"{label}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{label}: empty file, no rows")
    fmt = _format_of(path)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    encoding, line_delim = "utf-8", _LINE_DELIMS[0]
    if fmt != "parquet":
        encoding, line_delim = _scan_text(path, label)
    return FileInfo(path, label, fmt, digest.hexdigest(), encoding, line_delim, size)


def _scan_text(path: Path, label: str) -> tuple[str, str]:
    """UTF-8 (with or without BOM) or, failing that, Latin-1; and a delimiter absent
    from the text, for reading whole lines."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    present = set(_LINE_DELIMS)
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
                present = {d for d in present if d.encode() not in chunk}
            if utf8:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8 = False
    except (OSError, EOFError) as exc:
        raise InputError(f"{label}: cannot read the file ({exc})") from None
    free = [d for d in _LINE_DELIMS if d in present]
    if not free:
        raise InputError(f"{label}: contains control characters; cannot be read as text")
    return ("utf-8" if utf8 else "latin-1"), free[0]


def read_file(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    table: str,
    *,
    raw_apart: bool = False,
    trim: bool = True,
) -> RawTable:
    """Read the file into temp table `table` (see the module docstring for its shape).

    `raw_apart`: for a CSV file whose records are single lines, leave _raw_line out of
    `table` and keep the table of lines instead (RawTable.lines): the text of a
    million-ticket events file is then held once instead of three times.
    `trim=False`: CSV fields of lines without quotes keep their surrounding spaces,
    for a caller that trims every value anyway (validation does)."""
    try:
        if info.format == "parquet":
            return _read_parquet(con, info, table)
        lines = _read_lines(con, info, f"{table}_lines")
        kept = False
        try:
            if info.format == "jsonl":
                return _read_jsonl(con, info, lines, table)
            raw = _read_csv(con, info, lines, table, raw_apart=raw_apart, trim=trim)
            kept = raw.lines is not None
            return raw
        finally:
            if not kept:
                con.execute(f"drop table if exists {lines}")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{info.label}: cannot read the file ({first})") from None


def _read_lines(con: duckdb.DuckDBPyConnection, info: FileInfo, lines: str) -> str:
    """Temp table (ln, raw) of every physical line, ln = line number from 1.

    `row_number() over ()` runs as DuckDB's order-preserving streaming window over
    the scan (preserve_insertion_order is on by default), so ln follows the file.
    (rowid is not usable: inside a transaction it starts at a large offset.)
    Blank lines are kept (as null) so numbering never shifts.
    """
    con.execute(
        f"""
        create or replace temp table {lines} as
        select row_number() over () as ln, raw from read_csv(
            {sql_str(str(info.path))}, columns = {{'raw': 'VARCHAR'}}, header = false,
            delim = {sql_str(info.line_delim)}, quote = '', escape = '', comment = '',
            auto_detect = false, encoding = {sql_str(info.encoding)},
            max_line_size = {_MAX_LINE}, buffer_size = {_MAX_LINE * 2},
            compression = {sql_str("gzip" if _is_gzip(info.path) else "none")}
        )
        """
    )
    return lines


def _sniff_delimiter(header: str) -> str:
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {d: outside.count(d) for d in _SNIFF_DELIMS}
    best = max(_SNIFF_DELIMS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_header(label: str, header: list[str]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, raw_name in enumerate(header, start=1):
        name = normalise_name(raw_name) or f"column_{i}"
        if name in seen:
            raise InputError(
                f"{label}: column '{name}' appears twice in the header "
                f"(columns {seen[name]} and {i})"
            )
        seen[name] = i
        names.append(name)
    return names


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    lines: str,
    table: str,
    *,
    raw_apart: bool,
    trim: bool,
) -> RawTable:
    first = con.execute(
        f"select ln, raw from {lines} where trim(coalesce(raw, '')) <> '' "
        "order by ln limit 1"
    ).fetchone()
    if first is None:
        raise InputError(f"{info.label}: empty file, no rows")
    header_row, header_text = int(first[0]), str(first[1]).lstrip("\ufeff")
    delim = _sniff_delimiter(header_text)
    header = next(csv.reader([header_text], delimiter=delim))
    names = _check_header(info.label, header)

    multiline = con.execute(
        f"""select coalesce(bool_or((length(raw) - length(replace(raw, '"', ''))) % 2 = 1),
                            false)
            from {lines} where ln > {header_row}"""
    ).fetchone()
    if multiline and multiline[0]:
        # A record starts on a line where the quotes seen so far are balanced.
        records = f"""
            select min(ln) as _line, string_agg(raw, e'\\n' order by ln) as _raw_line
            from (
                select ln, raw, sum(case when inside = 0 then 1 else 0 end)
                    over (order by ln rows unbounded preceding) as rec
                from (
                    select ln, raw, coalesce(sum(odd) over (
                        order by ln rows between unbounded preceding and 1 preceding), 0) % 2
                        as inside
                    from (
                        select ln, coalesce(raw, '') as raw,
                            (length(coalesce(raw, ''))
                             - length(replace(coalesce(raw, ''), '"', ''))) % 2 as odd
                        from {lines} where ln > {header_row}
                    )
                )
            )
            group by rec
        """
    else:
        records = f"select ln as _line, raw as _raw_line from {lines} where ln > {header_row}"
    apart = raw_apart and not (multiline and multiline[0])

    d_sql = sql_str(delim)
    cls = "\\t" if delim == "\t" else re.escape(delim)
    # Whole matches only (no capture group: RE2 then runs its fast DFA); every match
    # after the first starts with the delimiter, which is cut off.
    pattern = sql_str(f'(?:^|{cls})(?:"(?:[^"]|"")*"|[^{cls}]*)')
    fields = (
        f"case when contains(_raw_line, '\"') then regexp_extract_all(_raw_line, {pattern}) "
        f"else string_split(_raw_line, {d_sql}) end"
    )
    n = len(names)
    cols = []
    for i, name in enumerate(names, start=1):
        # regex matches after the first begin with the delimiter (split parts do not)
        raw = f"_f[{i}]" if i == 1 else f"if(_q, _f[{i}][2:], _f[{i}])"
        v = f"trim({raw})"
        unquoted = (
            f"case when length({v}) >= 2 and starts_with({v}, '\"') and ends_with({v}, '\"') "
            f"then replace({v}[2:-2], '\"\"', '\"') else {v} end"
        )
        if trim:
            cols.append(f"{unquoted} as {quote_ident(name)}")
        else:  # a line without quotes keeps its fields as they are (the caller trims)
            cols.append(f"case when _q then {unquoted} else _f[{i}] end as {quote_ident(name)}")
    con.execute(
        f"""
        create or replace temp table {table} as
        select _line, {"" if apart else "_raw_line, "}
            case when len(_f) <> {n} then
                'line has ' || len(_f) || ' fields but the header has {n}' end
                as _reject_reason,
            {", ".join(cols)}
        from (
            select _line, _raw_line, contains(_raw_line, '"') as _q, {fields} as _f
            from ({records})
            where trim(_raw_line) <> ''
        )
        """
    )
    return RawTable(table, names, header, lines if apart else None)


def _read_jsonl(
    con: duckdb.DuckDBPyConnection, info: FileInfo, lines: str, table: str
) -> RawTable:
    objects = f"{table}_obj"
    con.execute(
        f"""
        create or replace temp table {objects} as
        select _line, _raw_line,
            case when not json_valid(r) then 'not valid JSON'
                 when json_type(r) <> 'OBJECT' then 'not a JSON object' end as _reject_reason,
            case when json_valid(r) and json_type(r) = 'OBJECT' then r end as _obj
        from (
            select ln as _line, raw as _raw_line,
                case when ln = 1 then ltrim(raw, chr(65279)) else raw end as r
            from {lines}
            where trim(coalesce(raw, '')) <> ''
        )
        """
    )
    try:
        total, good = con.execute(
            f"select count(*), count(_obj) from {objects}"
        ).fetchone() or (0, 0)
        if total == 0:
            raise InputError(f"{info.label}: empty file, no rows")
        if good == 0:
            raise InputError(f"{info.label}: no line is a JSON object; is this a JSON Lines file?")
        keys = [
            str(r[0])
            for r in con.execute(
                f"""select k from (select _line, unnest(json_keys(_obj)) as k from {objects}
                    where _obj is not null) group by k order by min(_line), k"""
            ).fetchall()
        ]
        names: list[str] = []
        used: list[str] = []
        for key in keys:
            name = normalise_name(key)
            if name and name not in names and '"' not in key:
                names.append(name)
                used.append(key)
        paths = ", ".join(sql_str(f'$."{k}"') for k in used)
        cols = ", ".join(f"_v[{i}] as {quote_ident(n)}" for i, n in enumerate(names, start=1))
        con.execute(
            f"""
            create or replace temp table {table} as
            select _line, _raw_line, _reject_reason{", " + cols if cols else ""}
            from (select *, json_extract_string(_obj, [{paths}]) as _v from {objects})
            """
        )
    finally:
        con.execute(f"drop table if exists {objects}")
    return RawTable(table, names, keys)


def _read_parquet(con: duckdb.DuckDBPyConnection, info: FileInfo, table: str) -> RawTable:
    src = f"read_parquet({sql_str(str(info.path))}, file_row_number = true)"
    try:
        described = con.execute(f"describe select * from {src}").fetchall()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(f"{info.label}: not a readable Parquet file ({first})") from None
    header = [str(r[0]) for r in described if r[0] != "file_row_number"]
    names = _check_header(info.label, header)
    as_json = ", ".join(f"{sql_str(h)}: {quote_ident(h)}" for h in header)
    cols = ", ".join(
        f"cast({quote_ident(h)} as varchar) as {quote_ident(n)}"
        for h, n in zip(header, names, strict=True)
    )
    con.execute(
        f"""
        create or replace temp table {table} as
        select file_row_number + 1 as _line, to_json({{{as_json}}})::varchar as _raw_line,
            null::varchar as _reject_reason, {cols}
        from {src}
        """
    )
    return RawTable(table, names, header)
