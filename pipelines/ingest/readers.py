"""Reading one data file into a DuckDB temp table of varchar columns.

Every reader produces the same shape: one varchar column per header column (named
by `schema.normalise_name`), plus
  _line           bigint   physical line number where the record starts (header =
                           line 1; JSONL: the line; Parquet: the row number from 1)
  _raw_line       varchar  the original text (Parquet: the row rendered as JSON)
  _reject_reason  varchar  a problem found while splitting the record, else null

How CSV is read, so that no row can be lost silently:
1. `textfile` turns the bytes into UTF-8 text (per value, see there) and counts the
   physical lines itself.
2. DuckDB reads the text as raw physical lines (one varchar column, no quoting), so
   every line keeps its number and its exact text. The count must equal step 1's,
   or the ingest stops with an error.
3. Lines are grouped into records. A line with an even number of quotes is a record
   on its own (most lines; vectorised); a quote between two characters of a value
   (`24" monitor`) is text and not counted. A line with an odd number is either complete
   by itself (a stray quote inside a field, e.g. `24" monitor`) or opens a quoted
   field that continues on the next lines (a note with line breaks): it is joined
   with the lines up to the next line with an odd number of quotes, and kept as one
   record only if the joined text splits into exactly the header's fields and none
   of the lines after the first has a whole record's worth of delimiters. Otherwise
   the line is a record on its own, and rejected with its reason; reading resumes on
   the next line. A damaged line can never swallow the lines after it.
4. Fields are split in SQL (a regular expression that honours double quotes, or a
   plain split when the record has no quote). A record whose text the split does
   not cover entirely (a quote followed by text, an unclosed quote) is rejected.
5. Every line after the header is counted once: in a record, or blank. The sum must
   equal the line count, or the ingest stops with an error.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from pipelines.db import quote_ident
from pipelines.errors import InputError
from pipelines.ingest.schema import (
    DATA_SUFFIXES,
    NAMED_ONLY_SUFFIXES,
    is_data_file,
    normalise_name,
)
from pipelines.ingest.textfile import TextFile, prepare_text, scan

FileFormat = Literal["csv", "jsonl", "parquet"]

_SNIFF_DELIMS = (",", ";", "\t", "|")
_MAX_LINE = 1 << 26
# A quoted field may span at most this many lines (a long note); an opening quote
# whose field does not close within them is a damaged line, rejected on its own.
MAX_RECORD_LINES = 1000


@dataclass(frozen=True)
class FileInfo:
    path: Path
    label: str  # the path as the user gave it (used in messages and lineage)
    format: FileFormat
    content_hash: str
    size: int
    text: TextFile | None = None  # what DuckDB reads (None for Parquet)


@dataclass(frozen=True)
class RawTable:
    table: str
    columns: list[str]  # normalised header names, in file order
    header: list[str]  # header names as written
    # With read_file(..., as_view=True) on a CSV whose records are single lines:
    # `table` is a temp view reading the temp table (ln, raw) of the file's lines named
    # here (the caller drops the view, then this table).
    lines: str | None = None
    # header names that appear more than once (renamed name_2, name_3, ...)
    duplicated: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listed:
    """A file named by the user or found in a folder, and what ingest does with it."""

    path: Path
    label: str
    skipped: str | None = None  # why it is not read (folders only), else None


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _skip_reason(child: Path) -> str | None:
    """Why a folder entry is not read, or None to read it."""
    name = child.name
    if child.is_dir():
        return "a folder (folders are not read recursively; name it to load it)"
    if name.startswith((".", "~$")) or name.endswith("~"):
        return "a hidden or temporary file"
    if not child.is_file():
        return "not a regular file"
    if name.lower().endswith(NAMED_ONLY_SUFFIXES):
        return "a .txt or .json file is read only when named (here it may be notes)"
    if not is_data_file(name):
        kinds = ", ".join(s.lstrip(".") for s in DATA_SUFFIXES)
        return f"not a data file by its name (a folder gives {kinds})"
    return None


def list_inputs(paths: list[Path]) -> list[Listed]:
    """Every file to consider, in order: files as given, folders' entries sorted by
    name, each with the reason it is skipped (folders only) or None."""
    out: list[Listed] = []
    for p in paths:
        if p.is_dir():
            try:
                children = sorted(p.iterdir())
            except OSError as exc:
                raise InputError(f"{p}: cannot list this folder ({exc.strerror or exc})") from None
            listed = [Listed(c, str(c), _skip_reason(c)) for c in children]
            if not any(entry.skipped is None for entry in listed):
                kinds = ", ".join(s.lstrip(".") for s in DATA_SUFFIXES)
                raise InputError(f"{p}: no data files in this folder (looked for {kinds})")
            out.extend(listed)
        elif p.is_file():
            out.append(Listed(p, str(p)))
        elif p.exists():
            raise InputError(f"{p}: not a regular file")
        else:
            raise InputError(f"{p}: no such file")
    return out


def expand_paths(paths: list[Path]) -> list[tuple[Path, str]]:
    """Files to read as (path, label): folders give their data files sorted by name."""
    return [(e.path, e.label) for e in list_inputs(paths) if e.skipped is None]


def _format_of(name: str, head: bytes) -> FileFormat:
    name = name.lower().removesuffix(".gz")
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        text = text.removeprefix(bom)
    if text.replace(b"\x00", b"").lstrip(b" \t\r\n").startswith((b"{", b"[")):
        return "jsonl"
    return "csv"


def inspect_file(path: Path, label: str, workdir: Path) -> FileInfo:
    """Hash the bytes, detect the format, and prepare the text DuckDB reads (a UTF-8
    copy in `workdir` when the file is compressed or not plain UTF-8)."""
    if not path.is_file():
        raise InputError(f"{label}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{label}: empty file, no rows")
    is_parquet = path.name.lower().endswith((".parquet", ".pq"))
    found = scan(path, label, text=not is_parquet)
    fmt = _format_of(path.name, found.head)
    if fmt == "parquet":
        if found.gzip:
            raise InputError(f"{label}: a gzipped Parquet file; decompress it first")
        return FileInfo(path, label, fmt, found.content_hash, found.size)
    if is_parquet:  # named .parquet but not Parquet: read as text after all
        found = scan(path, label)
    if found.lines == 0:
        raise InputError(f"{label}: empty file, no rows")
    text = prepare_text(path, label, workdir, found)
    return FileInfo(path, label, fmt, found.content_hash, found.size, text)


def read_file(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    table: str,
    *,
    as_view: bool = False,
    trim: bool = True,
) -> RawTable:
    """Read the file into temp table `table` (see the module docstring for its shape).

    `as_view`: for a CSV file whose records are single lines, `table` is a temp view
    over the table of lines (RawTable.lines) that splits the fields as it is read: the
    text of a million-ticket events file is then held once, and its fields are not
    copied (a caller reading it once, such as validation, pays the split once).
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
            raw = _read_csv(con, info, lines, table, as_view=as_view, trim=trim)
            kept = raw.lines is not None
            return raw
        finally:
            if not kept:
                con.execute(f"drop table if exists {lines}")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{info.label}: cannot read the file ({first})") from None


def _read_lines(con: duckdb.DuckDBPyConnection, info: FileInfo, lines: str) -> str:
    """Temp table (ln, raw) of every physical line, ln = line number from 1; checked
    against the line count of `textfile`.

    `row_number() over ()` runs as DuckDB's order-preserving streaming window over
    the scan (preserve_insertion_order is on by default), so ln follows the file.
    (rowid is not usable: inside a transaction it starts at a large offset.)
    Blank lines are kept (as null) so numbering never shifts.
    """
    text = info.text
    if text is None:  # a Parquet file handed to a reader of text (e.g. --format zendesk)
        raise InputError(f"{info.label}: a Parquet file, not text; this format reads "
                         "CSV or JSON exports")
    con.execute(
        f"""
        create or replace temp table {lines} as
        select row_number() over () as ln, raw from read_csv(
            {sql_str(str(text.path))}, columns = {{'raw': 'VARCHAR'}}, header = false,
            delim = {sql_str(text.line_delim)}, quote = '', escape = '', comment = '',
            auto_detect = false, encoding = 'utf-8', compression = 'none',
            max_line_size = {_MAX_LINE}, buffer_size = {_MAX_LINE * 2}
        )
        """
    )
    row = con.execute(f"select count(*) from {lines}").fetchone()
    seen = int(row[0]) if row else 0
    if seen != text.lines:
        raise InputError(
            f"{info.label}: the file has {text.lines:,} lines but {seen:,} were read; "
            "nothing was loaded from it (please report this file)"
        )
    return lines


def _filled(raw: str) -> str:
    """SQL: the line is not blank, i.e. `trim(coalesce(raw, '')) <> ''` (never null).
    A line starting with a printable ASCII character other than a space is not blank
    whatever follows, so trim (the slowest part: it copies every line) runs only on
    the others. (Written as conditions a filter evaluates one after the other, not
    inside coalesce(), which would compute trim for every line.)"""
    printable = f"ascii({raw}) between 33 and 126"
    return f"({raw} is not null and {raw} <> '' and ({printable} or trim({raw}) <> ''))"


def _sniff_delimiter(header: str) -> str:
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {d: outside.count(d) for d in _SNIFF_DELIMS}
    best = max(_SNIFF_DELIMS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_header(label: str, header: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """Normalised column names (a repeated name gets _2, _3, ...) and the repeated ones."""
    names: list[str] = []
    seen: dict[str, int] = {}
    repeated: list[str] = []
    for i, raw_name in enumerate(header, start=1):
        name = normalise_name(raw_name) or f"column_{i}"
        if name in seen:
            seen[name] += 1
            if name not in repeated:
                repeated.append(name)
            name = f"{name}_{seen[name]}"
            while name in seen:
                name += "_"
        seen.setdefault(name, 1)
        names.append(name)
    del label
    return names, tuple(repeated)


def _odd_quotes(raw: str, cls: str) -> str:
    """SQL: the line has an odd number of quotes that can open or close a field.

    A quote between two characters of a value (`24" monitor`, `5"x7"`) is text in
    any reading, so it is not counted: it cannot keep a record open. (Applied twice:
    a match consumes the character after the quote, which may precede another.)"""
    word = f"[^\\s\"{cls}]"
    stray = sql_str(f'({word})"({word}|[ \\t]+{word})')
    once = f"regexp_replace({raw}, {stray}, '\\1\\2', 'g')"
    text = f"regexp_replace({once}, {stray}, '\\1\\2', 'g')"
    return f"(length({text}) - length(replace({text}, '\"', ''))) % 2 = 1"


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    lines: str,
    table: str,
    *,
    as_view: bool,
    trim: bool,
) -> RawTable:
    first = con.execute(
        f"select ln, raw from {lines} where {_filled('raw')} "
        "order by ln limit 1"
    ).fetchone()
    if first is None:
        raise InputError(f"{info.label}: empty file, no rows")
    header_row, header_text = int(first[0]), str(first[1]).lstrip("\ufeff")
    delim = _sniff_delimiter(header_text)
    header = next(csv.reader([header_text], delimiter=delim))
    names, repeated = _check_header(info.label, header)
    n = len(names)

    d_sql = sql_str(delim)
    cls = "\\t" if delim == "\t" else re.escape(delim)
    # One field: quoted (spaces around allowed), or unquoted not starting with a quote
    # (a quote inside it is text: `24" monitor`), or empty. Whole matches only (no
    # capture group: RE2 then runs its fast DFA); every match after the first starts
    # with the delimiter, which is cut off. The matches of a well-formed record cover
    # its text exactly; a gap means a misplaced or unclosed quote.
    pattern = sql_str(f'(?:^|{cls})(?:[ \\t]*"(?:[^"]|"")*"[ \\t]*|[^{cls}"][^{cls}]*|)')

    def split(text: str) -> str:
        return f"regexp_extract_all({text}, {pattern})"

    def well_formed(text: str) -> str:
        return (f"(len({split(text)}) = {n} and "
                f"length(array_to_string({split(text)}, '')) = length({text}))")

    def looks_whole(raw: str) -> str:  # as many delimiters as a whole record
        return f"(length({raw}) - length(replace({raw}, {d_sql}, '')) >= {n - 1})"

    spans = _assemble(con, lines, header_row, table, well_formed, _odd_quotes("raw", cls),
                      looks_whole)
    if spans is None:
        records = (f"select ln as _line, raw as _raw_line from {lines} "
                   f"where ln > {header_row} and {_filled('raw')}")
        view = as_view
    else:
        records = f"""
            select l.ln as _line, l.raw as _raw_line from {lines} l
            anti join {spans} s on s.ln = l.ln
            where l.ln > {header_row} and {_filled('l.raw')}
            union all
            select start_ln, string_agg(coalesce(l.raw, ''), e'\\n' order by l.ln)
            from {spans} s join {lines} l on l.ln = s.ln
            group by start_ln
        """
        view = False

    fields = (
        f"case when _q then {split('_raw_line')} "
        f"else string_split(_raw_line, {d_sql}) end"
    )
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
        create or replace temp {"view" if view else "table"} {table} as
        select _line, _raw_line,
            case when contains(_raw_line, chr(0)) then
                    'contains a NUL byte (binary data, not text)'
                when _q and length(array_to_string(_f, '')) <> length(_raw_line) then
                    'a quote (") is not closed, or is followed by text before the next '
                    || 'delimiter: the fields cannot be told apart'
                when len(_f) <> {n} then
                    'line has ' || len(_f) || ' fields but the header has {n}' end
                as _reject_reason,
            {", ".join(cols)}
        from (
            select _line, _raw_line, contains(_raw_line, '"') as _q, {fields} as _f
            from ({records})
        )
        """
    )
    _check_accounted(con, info, lines, table, header_row, spans)
    if spans is not None:
        con.execute(f"drop table if exists {spans}")
    return RawTable(table, names, header, lines if view else None, repeated)


def _assemble(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    header_row: int,
    table: str,
    well_formed: Callable[[str], str],
    odd_quotes: str,
    looks_whole: Callable[[str], str],
) -> str | None:
    """Temp table (ln, start_ln) of the lines that belong to a record spanning several
    lines (see step 3 of the module docstring), or None when there is none."""
    odd = f"{table}_odd"
    con.execute(
        f"""create or replace temp table {odd} as
            select ln, raw, lead(ln) over (order by ln) as next_ln
            from {lines}
            where ln > {header_row} and contains(raw, '"') and {odd_quotes}"""
    )
    try:
        row = con.execute(f"select count(*) from {odd}").fetchone()
        if not row or not row[0]:
            return None
        spans = f"{table}_spans"
        newline = "chr(10)"
        # Candidate records: a line that is not complete on its own, joined with the
        # lines up to the next line with an odd number of quotes, none of which has
        # as many delimiters as a whole record (that would mean the quote was a
        # stray one, about to swallow the next records). `opens` keeps the
        # line order of all odd lines; a candidate is taken unless the line before it
        # was taken as an opener (then this line closed that record): in a run of
        # consecutive good candidates, every other one opens a record.
        con.execute(
            f"""
            create or replace temp table {spans} as
            with odd_lines as (
                select ln, next_ln, row_number() over (order by ln) as k,
                    not {well_formed('raw')} as is_incomplete
                from {odd}
            ),
            tried as (
                -- a damaged opener is usually followed by a whole record: refused
                -- here, before its span is read (this keeps damaged files cheap)
                select o.k, o.ln, o.next_ln
                from odd_lines o
                left join {lines} nx on nx.ln = o.ln + 1
                where o.is_incomplete and o.next_ln - o.ln < {MAX_RECORD_LINES}
                    and not coalesce({looks_whole('nx.raw')}, false)
            ),
            span_lines as (
                select k, ln as start_ln, unnest(range(ln, next_ln + 1)) as ln from tried
            ),
            joined as (
                select s.k, string_agg(coalesce(l.raw, ''), {newline} order by l.ln) as text,
                    coalesce(bool_or(l.ln > s.start_ln and {looks_whole('l.raw')}), false)
                        as has_record_inside
                from span_lines s join {lines} l on l.ln = s.ln
                group by s.k
            ),
            candidates as (
                select k from joined where not has_record_inside and {well_formed('text')}
            ),
            flagged as (
                select o.*, c.k is not null as is_good
                from odd_lines o left join candidates c on c.k = o.k
            ),
            runs as (
                select *, k - row_number() over (partition by is_good order by k) as run
                from flagged
            ),
            openers as (
                select ln, next_ln from runs
                where is_good
                qualify (row_number() over (partition by run order by k) - 1) % 2 = 0
            ),
            final as (
                select unnest(range(ln, next_ln + 1)) as ln, ln as start_ln from openers
            )
            select * from final
            """
        )
        row = con.execute(f"select count(*) from {spans}").fetchone()
        if not row or not row[0]:
            con.execute(f"drop table {spans}")
            return None
        return spans
    finally:
        con.execute(f"drop table if exists {odd}")


def _check_accounted(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    lines: str,
    table: str,
    header_row: int,
    spans: str | None,
) -> None:
    """Every line after the header is in exactly one record or blank (step 5).

    Without multi-line records each record is a non-blank line, selected by the same
    filter that would count them: nothing to check beyond DuckDB's line count (step 2)."""
    if spans is None:
        return
    row = con.execute(
        f"""select
               (select count(*) from {lines} where ln > {header_row}),
               (select count(*) from {lines} l anti join {spans} s on s.ln = l.ln
                where l.ln > {header_row} and not {_filled('l.raw')}),
               (select count(*) from {spans}),
               (select count(distinct start_ln) from {spans}),
               (select count(*) from {table}),
               (select count(distinct _line) from {table})"""
    ).fetchone()
    assert row is not None
    after, blank, spanned, multi, records, distinct = (int(v) for v in row)
    if records != distinct or records - multi + spanned + blank != after:
        raise InputError(
            f"{info.label}: {after:,} lines after the header, but {records:,} records "
            f"({multi:,} of them over {spanned:,} lines) and {blank:,} blank lines were "
            "found; nothing was loaded from it (please report this file)"
        )


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
            where {_filled('raw')}
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
        # Keys are matched like CSV headers (case-insensitively, trimmed): spellings of
        # one column in different lines are one column; two in one object, a reject.
        spellings: dict[str, list[str]] = {}
        for key in keys:
            name = normalise_name(key)
            if name and '"' not in key:
                spellings.setdefault(name, []).append(key)
        names = list(spellings)
        used = [k for ks in spellings.values() for k in ks]
        at = {k: i for i, k in enumerate(used, start=1)}
        paths = ", ".join(sql_str(f'$."{k}"') for k in used)
        cols, clashes = [], []
        for name, ks in spellings.items():
            vals = [f"_v[{at[k]}]" for k in ks]
            cols.append(f"{vals[0] if len(vals) == 1 else 'coalesce(' + ', '.join(vals) + ')'}"
                        f" as {quote_ident(name)}")
            if len(vals) > 1:
                given = " + ".join(f"({v} is not null)::int" for v in vals)
                shown = sql_str(" and ".join(ks))
                clashes.append(f"case when {given} > 1 then 'keys ' || {shown} || "
                               f"' are the same column {name}; give only one' end")
        reason = "_reject_reason"
        if clashes:
            reason = f"coalesce(_reject_reason, {', '.join(clashes)})"
        con.execute(
            f"""
            create or replace temp table {table} as
            select _line, _raw_line, {reason} as _reject_reason
                {"".join(", " + c for c in cols)}
            from (select *, json_extract_string(_obj, [{paths or "'$.x'"}]) as _v
                  from {objects})
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
    names, repeated = _check_header(info.label, header)
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
    row = con.execute(
        f"""select (select count(*) from {table}),
                   (select coalesce(sum(num_rows), 0) from (
                        select distinct row_group_id, row_group_num_rows as num_rows
                        from parquet_metadata({sql_str(str(info.path))})))"""
    ).fetchone()
    if row is None or int(row[0]) != int(row[1]):
        raise InputError(
            f"{info.label}: the Parquet file says it has {row[1] if row else '?'} rows but "
            f"{row[0] if row else '?'} were read; nothing was loaded from it"
        )
    return RawTable(table, names, header, None, repeated)
