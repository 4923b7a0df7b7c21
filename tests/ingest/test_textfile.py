"""Line counting and per-value decoding of arbitrary bytes (pipelines/ingest/textfile.py).

The ingest trusts DuckDB to read a file line by line only after checking that it
saw as many lines as counted here, independently. These properties feed raw bytes
(line ends of every kind, invalid UTF-8, NUL, gzip, UTF-16) and compare both counts
with a reference: Python's own splitting into lines.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipelines.errors import InputError
from pipelines.ingest.readers import _read_lines, inspect_file
from pipelines.ingest.textfile import LINE_DELIMS

PIECES = [b"a", b"b,c", b'"', b"\n", b"\r\n", b"\r", b"\xfc", b"\xc3\xbc", b"\xe2\x82",
          b"\x00", b" ", "日".encode(), b"\xff\xfe"]


def _reference(data: bytes) -> tuple[int, list[int]]:
    """(physical lines, the numbers of lines that are not valid UTF-8)."""
    parts = re.split(rb"\r\n|\r|\n", data)
    if parts and parts[-1] == b"":
        parts = parts[:-1]
    bad = []
    for i, part in enumerate(parts, start=1):
        try:
            part.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(i)
    return len(parts), bad


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=60),
       gz=st.booleans())
def test_duckdb_sees_every_line_counted(tmp_path_factory, pieces: list[bytes], gz: bool):
    data = b"".join(pieces)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = b"x" + data  # a byte-order mark makes it UTF-16: tested below
    folder = tmp_path_factory.mktemp("bytes")
    path = folder / ("f.csv.gz" if gz else "f.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    lines, bad = _reference(data)
    if lines == 0:
        with pytest.raises(InputError, match="empty file"):
            inspect_file(path, "f.csv", folder / "work")
        return
    info = inspect_file(path, "f.csv", folder / "work")
    assert info.text is not None
    assert info.text.lines == lines
    assert list(info.text.recoded) == bad
    con = duckdb.connect()
    table = _read_lines(con, info, "lines")  # raises if DuckDB saw another count
    assert con.execute(f"select count(*) from {table}").fetchall() == [(lines,)]


def test_utf16_is_decoded_whole(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_bytes("ticket_id,client\r\nT1,Zoë\r\nT2,日本\r\n".encode("utf-16"))
    info = inspect_file(path, "t.csv", tmp_path / "work")
    assert info.text is not None and info.text.lines == 3
    assert info.text.path.read_text(encoding="utf-8") == "ticket_id,client\nT1,Zoë\nT2,日本\n"


def test_all_line_delimiters_present_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_bytes(("a,b\n" + "".join(LINE_DELIMS) + "\n").encode())
    with pytest.raises(InputError, match=r"t\.csv: contains control characters"):
        inspect_file(path, "t.csv", tmp_path / "work")


def test_broken_gzip_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n")[:-12] + b"garbage!")
    with pytest.raises(InputError, match=r"t\.csv\.gz: not a valid gzip file"):
        inspect_file(path, "t.csv.gz", tmp_path / "work")


def test_cut_off_gzip_is_an_error_not_a_shorter_file(tmp_path: Path):
    rows = b"ticket_id\n" + b"".join(f"T{i}\n".encode() for i in range(5000))
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(rows)[:-100])  # a download cut short
    with pytest.raises(InputError, match="truncated"):
        inspect_file(path, "t.csv.gz", tmp_path / "work")
