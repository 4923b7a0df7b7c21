"""Every figure of the two real logs is pinned: a redesign must not move one.

The fixtures were written by `python -m tests.models.real_log_figures --write`
(read that module for what is pinned). A change that is meant to move a figure
rewrites them in the same commit, and the diff of the overall table shows which.
"""

from __future__ import annotations

import json

import pytest

from tests.models.real_log_figures import LOGS, build, figures, fixture_path


@pytest.mark.parametrize("name", sorted(LOGS))
def test_figures_of_the_real_logs_are_unchanged(name, tmp_path):
    pinned = json.loads(fixture_path(name).read_text())
    db, config = build(name, tmp_path)
    found = json.loads(json.dumps(figures(db, config), default=str))
    assert found["overall"] == pinned["overall"]
    assert found["rows"] == pinned["rows"]
    assert found["digests"] == pinned["digests"]
