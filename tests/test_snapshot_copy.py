"""The previous snapshot, copied on a thread while a refresh computes
(pipelines.serving.SnapshotCopy): used once waited for, removed when discarded, and
never removes a file it did not leave. The build-level behaviour (a copy that cannot
be written, a build killed while it copies) is in tests/test_build_publish.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.serving import SnapshotCopy


def _source(folder: Path) -> Path:
    path = folder / "build_1.duckdb"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    return path


def test_a_copy_waited_for_is_the_source_and_stays(tmp_path: Path):
    source = _source(tmp_path)
    target = tmp_path / "build_2.duckdb"
    target.write_bytes(b"a leftover of a killed build")
    copy = SnapshotCopy(source, target)
    assert copy.wait() == target
    assert target.read_bytes() == source.read_bytes()
    copy.discard()  # handed over: the snapshot's file now
    assert target.read_bytes() == source.read_bytes()


def test_a_discarded_copy_is_removed_once(tmp_path: Path):
    source = _source(tmp_path)
    target = tmp_path / "build_2.duckdb"
    copy = SnapshotCopy(source, target)
    copy.discard()
    assert not target.exists()
    target.write_bytes(b"the full build's own snapshot")  # written after the discard
    copy.discard()
    assert target.read_bytes() == b"the full build's own snapshot"
    assert source.exists()


def test_a_copy_that_cannot_be_made_raises_and_leaves_nothing(tmp_path: Path):
    copy = SnapshotCopy(tmp_path / "gone.duckdb", tmp_path / "build_2.duckdb")
    with pytest.raises(FileNotFoundError):
        copy.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
