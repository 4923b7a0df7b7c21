"""pipelines.db.register_frame: a polars frame reaches DuckDB through the Arrow C
stream with the same values as through pyarrow (`con.register(name, frame)`)."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
from hypothesis import given, strategies as st

from pipelines.db import register_frame

COLUMNS = {
    "n": (pl.Int64, st.integers(-(2**62), 2**62)),
    "x": (pl.Float64, st.floats(allow_nan=False)),
    "s": (pl.String, st.text()),
    "d": (pl.Date, st.dates()),
    "t": (
        pl.Datetime("us", "UTC"),
        st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
            lambda v: v.replace(tzinfo=dt.UTC)
        ),
    ),
    "b": (pl.Boolean, st.booleans()),
}


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(0, 20))
    data = {
        name: draw(st.lists(st.none() | values, min_size=n, max_size=n))
        for name, (_, values) in COLUMNS.items()
    }
    return pl.DataFrame(data, schema={name: dtype for name, (dtype, _) in COLUMNS.items()})


@given(frames())
def test_same_rows_and_types_as_through_pyarrow(frame: pl.DataFrame) -> None:
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    register_frame(con, "streamed", frame)
    con.register("converted", frame)
    streamed = con.sql("select * from streamed")
    converted = con.sql("select * from converted")
    assert streamed.types == converted.types
    assert streamed.fetchall() == converted.fetchall()


def test_a_column_of_nulls_alone_comes_as_text() -> None:
    """polars exports its Null type without a validity bitmap, which DuckDB refuses."""
    frame = pl.DataFrame({"id": ["a", "b"], "note": [None, None]})
    assert frame.schema["note"] == pl.Null
    con = duckdb.connect()
    register_frame(con, "f", frame)  # for one scan
    con.execute("create table t (id varchar, note timestamp)")
    con.execute("insert into t select * from f")
    assert con.sql("select * from t order by id").fetchall() == [("a", None), ("b", None)]
    register_frame(con, "f", frame)
    assert con.sql("select distinct typeof(note) from f").fetchall() == [("VARCHAR",)]
