"""A data file's bytes as text DuckDB can read line by line, with its lines counted.

    text = prepare_text(path, label, workdir)

DuckDB reads a text file line by line reliably only when it is UTF-8 with `\\n` or
`\\r\\n` line ends throughout: it stops at the first byte that is not UTF-8, at a
file that mixes the two, and it splits (and drops text) at a carriage return that
is not followed by a line feed. So one
streaming pass over the bytes (decompressed when gzipped) hashes the file, counts
its lines and decides whether DuckDB can read it as it is. When it cannot (gzip,
UTF-16/32, a byte that is not UTF-8, mixed line ends, a lone carriage return), a
second pass writes a
UTF-8 copy with `\\n` line ends into `workdir`:

- the encoding is decided per value, never per file: valid UTF-8 stays UTF-8, and
  each run of bytes that is not UTF-8 is read as Windows-1252 (the usual encoding
  of such bytes in exports), on that line only; the line is listed in
  `TextFile.recoded` so the ingest can flag it. (A file with a UTF-16 or UTF-32
  byte-order mark is decoded as such.)
- a line ends at `\\n`, `\\r\\n` or a lone `\\r`, as in Python's universal newlines;
  the copy ends every line with `\\n`.

`TextFile.lines` is the number of physical lines counted here, independently of
DuckDB; the reader checks that DuckDB saw exactly as many (any difference stops the
ingest instead of losing rows).
"""

from __future__ import annotations

import codecs
import hashlib
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from pipelines.errors import InputError

_CHUNK = 1 << 22
# Control characters used as the "delimiter" when DuckDB reads whole lines; the first
# one absent from the text is used.
LINE_DELIMS: tuple[str, ...] = ("\x1f", "\x1e", "\x1d", "\x1c", "\x01")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
# at most this many recoded lines are kept by number (the count is always exact)
MAX_RECODED_LISTED = 100_000


@dataclass(frozen=True)
class TextFile:
    path: Path  # what DuckDB reads: the file itself, or a UTF-8 copy in the workdir
    lines: int  # physical lines, counted here
    line_delim: str  # a control character absent from the text
    encoding: str  # what the bytes were: utf-8, utf-16, utf-32 or "utf-8 + windows-1252"
    copied: bool
    recoded_count: int = 0  # lines with bytes that are not UTF-8 (read as Windows-1252)
    recoded: tuple[int, ...] = field(default_factory=tuple)  # their numbers (the first ones)


@dataclass(frozen=True)
class Scan:
    """What one pass over the (decompressed) bytes found."""

    content_hash: str  # sha256 of the file as stored
    size: int  # bytes as stored
    head: bytes  # the first decompressed bytes (for format detection)
    gzip: bool
    utf8: bool
    bom_encoding: str | None
    lines: int  # with \n, \r\n and lone \r as line ends
    lone_cr: bool
    mixed_newlines: bool  # both \r\n and a bare \n (e.g. a note's line break)
    free_delims: tuple[str, ...]


class _Hasher(Protocol):
    """What _file_chunks feeds (hashlib's objects; their class is private)."""

    def update(self, data: bytes, /) -> None: ...


class _HashBeside:
    """sha256 fed on a thread of its own while the caller goes on (hashlib lets go of
    the GIL on large buffers), at most two chunks behind; `hexdigest` waits for it."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._hash = hashlib.sha256()
        self._pool = pool
        self._pending: deque[Future[None]] = deque()

    def update(self, data: bytes, /) -> None:
        while len(self._pending) >= 2:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._hash.update, data))

    def hexdigest(self) -> str:
        while self._pending:
            self._pending.popleft().result()
        return self._hash.hexdigest()


def _gunzip_chunks(chunks: Iterable[bytes], label: str) -> Iterator[bytes]:
    """Decompressed chunks of a gzip stream (several members allowed)."""
    d = zlib.decompressobj(wbits=47)
    fed = False  # the current member has had input
    try:
        for chunk in chunks:
            data = chunk
            while data:
                fed = True
                out = d.decompress(data)
                if out:
                    yield out
                if d.eof:
                    data = d.unused_data
                    d = zlib.decompressobj(wbits=47)
                    fed = False
                else:
                    data = b""
        tail = d.flush()
        if tail:
            yield tail
    except zlib.error as exc:
        raise InputError(f"{label}: not a valid gzip file ({exc})") from None
    if fed and not d.eof:  # a cut-off download: the rest of the rows would be missing
        raise InputError(f"{label}: not a valid gzip file (it ends before its end: truncated)")


def _file_chunks(path: Path, label: str, hasher: _Hasher | None = None) -> Iterator[bytes]:
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                if hasher is not None:
                    hasher.update(chunk)
                yield chunk
    except OSError as exc:
        raise InputError(f"{label}: cannot read the file ({exc.strerror or exc})") from None


def _is_gzip(path: Path, label: str) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError as exc:
        raise InputError(f"{label}: cannot read the file ({exc.strerror or exc})") from None


def scan(path: Path, label: str, *, text: bool = True) -> Scan:
    """Hash the file and, when `text`, count its lines and check its encoding."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tierlens-hash") as pool:
        return _scan(path, label, _HashBeside(pool), text)


def _scan(path: Path, label: str, hasher: _HashBeside, text: bool) -> Scan:
    gz = _is_gzip(path, label)
    raw = _file_chunks(path, label, hasher)
    chunks = _gunzip_chunks(raw, label) if gz else raw
    if not text:
        head = b""
        for chunk in chunks:
            head = head or chunk[:4096]
        return Scan(hasher.hexdigest(), path.stat().st_size, head, gz, True, None, 0, False,
                    False, LINE_DELIMS)
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    present = set(LINE_DELIMS)
    head = b""
    lf = cr = crlf = 0
    prev_cr = False
    last = b""
    for chunk in chunks:
        if not head:
            head = chunk[:4096]
        # ASCII is UTF-8: decoding is needed only for other bytes, or to finish a
        # character the previous chunk began
        if utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
        if present:
            present = {d for d in present if d.encode() not in chunk}
        lf += chunk.count(b"\n")
        if prev_cr or b"\r" in chunk:  # most files have no carriage return: passes less
            cr += chunk.count(b"\r")
            crlf += chunk.count(b"\r\n") + (1 if prev_cr and chunk[:1] == b"\n" else 0)
        prev_cr = chunk[-1:] == b"\r"
        last = chunk[-1:]
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    bom = next((enc for mark, enc in _BOMS if head.startswith(mark)), None)
    lone_cr = cr - crlf
    lines = lf + lone_cr + (1 if last and last not in (b"\n", b"\r") else 0)
    free = tuple(d for d in LINE_DELIMS if d in present)
    return Scan(hasher.hexdigest(), path.stat().st_size, head, gz, utf8, bom, lines,
                lone_cr > 0, 0 < crlf < lf, free)


_SPOTS: list[int] = []  # byte offsets of the runs the handler below recoded


def _as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as Windows-1252."""
    assert isinstance(error, UnicodeDecodeError)
    _SPOTS.append(error.start)
    return error.object[error.start:error.end].decode("cp1252", errors="replace"), error.end


codecs.register_error("tierlens-cp1252", _as_cp1252)


def _recode(unit: bytes) -> tuple[str, list[int]]:
    """`unit` as text: UTF-8 where valid, each other run of bytes as Windows-1252;
    and the byte offsets of the recoded runs. The decoder calls back only for the
    bytes that are not UTF-8, so a clean stretch costs no Python at all."""
    _SPOTS.clear()
    text = unit.decode("utf-8", errors="tierlens-cp1252")
    spots = list(_SPOTS)
    _SPOTS.clear()
    return text, spots


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def prepare_text(path: Path, label: str, workdir: Path, found: Scan) -> TextFile:
    """The file as DuckDB-readable text (see the module docstring)."""
    needs_copy = (found.gzip or not found.utf8 or found.lone_cr or found.mixed_newlines
                  or found.bom_encoding is not None)
    if not needs_copy:
        if not found.free_delims:
            raise InputError(f"{label}: contains control characters; cannot be read as text")
        return TextFile(path, found.lines, found.free_delims[0], "utf-8", copied=False)

    workdir.mkdir(parents=True, exist_ok=True)
    out_path = workdir / f"{found.content_hash[:16]}.txt"
    raw = _file_chunks(path, label)
    chunks = _gunzip_chunks(raw, label) if found.gzip else raw
    present = set(LINE_DELIMS)
    lines = 0
    last = ""
    recoded: list[int] = []
    recoded_count = 0
    encoding = found.bom_encoding or "utf-8"
    with out_path.open("w", encoding="utf-8", newline="") as out:
        if found.bom_encoding is not None:
            decoder = codecs.getincrementaldecoder(found.bom_encoding)(errors="replace")
            pending_cr = False
            for chunk in chunks:
                text = decoder.decode(chunk)
                if pending_cr:
                    text = "\r" + text
                pending_cr = text.endswith("\r")
                if pending_cr:
                    text = text[:-1]
                text = _newlines(text)
                lines += text.count("\n")
                last = text[-1:] or last
                present = {d for d in present if d not in text}
                out.write(text)
            tail = _newlines(decoder.decode(b"", final=True) + ("\r" if pending_cr else ""))
            lines += tail.count("\n")
            last = tail[-1:] or last
            out.write(tail)
        else:
            carry = b""
            for chunk in chunks:
                data = carry + chunk
                cut = data.rfind(b"\n") + 1  # units end at a line feed: \r\n never split
                unit, carry = data[:cut], data[cut:]
                if unit:
                    n, last = _write_unit(out, unit, lines, recoded)
                    recoded_count += n
                    lines += unit.count(b"\n") + unit.count(b"\r") - unit.count(b"\r\n")
                    present = {d for d in present if d.encode() not in unit}
            if carry:
                n, last = _write_unit(out, carry, lines, recoded)
                recoded_count += n
                lines += carry.count(b"\n") + carry.count(b"\r") - carry.count(b"\r\n")
                present = {d for d in present if d.encode() not in carry}
            if recoded_count:
                encoding = "utf-8 + windows-1252"
    if last and last not in ("\n", "\r"):
        lines += 1
    free = [d for d in LINE_DELIMS if d in present]
    if not free:
        raise InputError(f"{label}: contains control characters; cannot be read as text")
    if found.bom_encoding is None and lines != found.lines:
        raise InputError(
            f"{label}: counted {found.lines:,} lines, then {lines:,} when re-reading; "
            "the file changed while it was read? Nothing was loaded"
        )
    return TextFile(out_path, lines, free[0], encoding, copied=True,
                    recoded_count=recoded_count, recoded=tuple(recoded))


def _write_unit(out: TextIO, unit: bytes, first_line: int, recoded: list[int]) -> tuple[int, str]:
    """Write one run of whole lines; returns (lines recoded, last character)."""
    text, spots = _recode(unit)
    n = 0
    seen = -1
    pos, line = 0, first_line + 1
    for spot in spots:  # the recoded runs only, not every line
        # line ends between the previous run and this one (a lone \r ends a line too)
        line += (unit.count(b"\n", pos, spot) + unit.count(b"\r", pos, spot)
                 - unit.count(b"\r\n", pos, spot))
        pos = spot
        if line != seen:
            n += 1
            if len(recoded) < MAX_RECODED_LISTED:
                recoded.append(line)
            seen = line
    text = _newlines(text)
    out.write(text)
    return n, text[-1:]
