"""The dashboard's only data access: every read the pages make is here.

The reads themselves (SQL over the serving snapshot, never the main database
file) are pipelines.presentation.queries, shared with the report; this module puts
them behind Streamlit's caches, keyed by the snapshot path and every filter. The
review reads that combine several sources are combined here from the cached parts,
with the same combining functions the report uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import polars as pl
import streamlit as st

from dashboards.filters import HASH_FUNCS
from pipelines.access import audit
from pipelines.presentation import queries as q
from pipelines.presentation.queries import (  # the pages' names, re-exported
    Located as Located,
    ReviewFindings as ReviewFindings,
    cursor as cursor,
    locate as locate,
    previous_week as previous_week,
    review_db as review_db,
)
from pipelines.review.actions import with_verdicts
from pipelines.serving import samples_dir

CACHE: dict[str, Any] = {"show_spinner": False, "max_entries": 512, "hash_funcs": HASH_FUNCS}
F = TypeVar("F", bound=Callable[..., Any])


def _cached(func: F) -> F:
    # a CachedFunc, called with func's arguments: callers keep func's signature
    return cast(F, st.cache_data(**CACHE)(func))


# ---------------------------------------------------------------- one query each

build_info = _cached(q.build_info)
weeks = _cached(q.weeks)
last_complete_week = _cached(q.last_complete_week)
filter_options = _cached(q.filter_options)
weekly_kpis = _cached(q.weekly_kpis)
kpis = _cached(q.kpis)
kpi_cases = _cached(q.kpi_cases)
coverage = _cached(q.coverage)
tier_moves = _cached(q.tier_moves)
path_tickets = _cached(q.path_tickets)
peer_rates = _cached(q.peer_rates)
backlog = _cached(q.backlog)
targets = _cached(q.targets)
min_sample = _cached(q.min_sample)
min_gap = _cached(q.min_gap)
tier_paths = _cached(q.tier_paths)
pingpong_pairs = _cached(q.pingpong_pairs)
pickup_by_group = _cached(q.pickup_by_group)
escalated_tickets = _cached(q.escalated_tickets)
find_tickets = _cached(q.find_tickets)
ticket = _cached(q.ticket)
ticket_events = _cached(q.ticket_events)
ticket_escalations = _cached(q.ticket_escalations)
ticket_handoffs = _cached(q.ticket_handoffs)
batches = _cached(q.batches)
reject_reasons = _cached(q.reject_reasons)
reject_examples = _cached(q.reject_examples)
unmapped_groups = _cached(q.unmapped_groups)
unknown_statuses = _cached(q.unknown_statuses)
notices = _cached(q.notices)
quarantine = _cached(q.quarantine)
reconciliation = _cached(q.reconciliation)
counter_support = _cached(q.counter_support)
reconciliation_examples = _cached(q.reconciliation_examples)

# ---------------------------------------------------------------- weekly review
#
# Samples and verdicts change while the app runs (files keyed by name, size and
# mtime); the snapshot's own review tables do not.

_read_samples = _cached(q.read_samples)
_snapshot_samples = _cached(q.snapshot_samples)
_snapshot_sample_items = _cached(q.snapshot_sample_items)
_snapshot_verdicts = _cached(q.snapshot_verdicts)
_journal_verdicts = _cached(q.journal_verdicts)
_review_context = _cached(q.review_context)


def _published_sample_items(snapshot: str) -> pl.DataFrame:
    folder = samples_dir(review_db(snapshot))
    return _read_samples(q.file_key(sorted(folder.glob("*.parquet"))))


def review_samples(snapshot: str) -> pl.DataFrame:
    """queries.review_samples, from the cached parts."""
    return q.merge_samples(_published_sample_items(snapshot), _snapshot_samples(snapshot))


def review_sample_items(snapshot: str, sample_id: str) -> pl.DataFrame:
    """queries.review_sample_items, from the cached parts."""
    found = q.published_items_of(_published_sample_items(snapshot), sample_id)
    return found if found is not None else _snapshot_sample_items(snapshot, sample_id)


def review_verdicts(snapshot: str) -> pl.DataFrame:
    """queries.review_verdicts, from the cached parts."""
    return q.merge_verdicts(
        _journal_verdicts(q.journal_key(snapshot)), _snapshot_verdicts(snapshot)
    )


def reviewed_items(snapshot: str, sample_id: str) -> pl.DataFrame:
    """The sample's items with their standing verdict and is_unnecessary."""
    return with_verdicts(review_sample_items(snapshot, sample_id), review_verdicts(snapshot))


def review_actions(snapshot: str, partners: tuple[str, ...] = ()) -> pl.DataFrame:
    """queries.review_actions, from the cached parts."""
    return q.merge_actions(
        _published_sample_items(snapshot),
        _review_context(snapshot),
        review_verdicts(snapshot),
        partners,
    )


def review_findings(snapshot: str, sample_id: str) -> ReviewFindings | None:
    """queries.review_findings, from the cached parts."""
    sample = q.sample_row(review_samples(snapshot), sample_id)
    if sample is None:
        return None
    items = reviewed_items(snapshot, sample_id)
    return q.findings(sample, items, weekly_kpis(snapshot, q.sample_week(sample)))


# ---------------------------------------------------------------- access log


@_cached
def _stored_access_log(snapshot: str) -> pl.DataFrame:
    return audit.stored(cursor(snapshot))


def access_log(snapshot: str) -> pl.DataFrame:
    """Every sign-in and refusal: the snapshot's log and the journal (read fresh:
    it grows while the app runs), newest first."""
    return audit.merged(_stored_access_log(snapshot), review_db(snapshot))
