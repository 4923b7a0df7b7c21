"""The format registry: a read-only name -> reader mapping; a mapping file is an
argument of the ingest, never registered, so two mappings in one process do not
interfere."""

from __future__ import annotations

import pytest

from pipelines.errors import InputError
from pipelines.ingest.job import run_ingest
from pipelines.ingest.mapped import mapped_reader
from pipelines.ingest.registry import READERS, reader_for
from tests.adapters.helpers import FIXTURES, MAPPINGS, rows
from tests.cli_run import tierlens

HALO = MAPPINGS / "halopsa_tickets.toml"
CONNECTWISE = MAPPINGS / "connectwise_tickets.toml"


def test_the_registry_names_every_format_and_cannot_be_changed():
    assert sorted(READERS) == [
        "canonical", "eventlog", "mapped", "servicenow-audit", "servicenow-incident", "zendesk",
    ]
    with pytest.raises(TypeError):
        READERS["mapped"] = READERS["canonical"]  # type: ignore[index]


def test_a_mapping_goes_with_the_mapped_format_only():
    wrong = "--mapping goes with --format mapped, not --format zendesk"
    with pytest.raises(InputError, match=wrong):
        reader_for("zendesk", HALO)
    with pytest.raises(InputError, match=r"unknown input format 'nope' \(known: canonical, "):
        reader_for("nope")


def test_the_mapped_format_without_a_mapping_says_so(db):
    with pytest.raises(InputError, match="the mapped format needs a mapping file"):
        run_ingest([FIXTURES / "halopsa_tickets.csv"], db, fmt="mapped")


def test_two_mappings_in_one_process_each_read_their_own_export(tmp_path):
    halo, connectwise = mapped_reader(HALO), mapped_reader(CONNECTWISE)
    # interleaved: a reader made later changes nothing for one made before
    first = run_ingest([FIXTURES / "halopsa_tickets.csv"], tmp_path / "a.duckdb", fmt=halo)
    second = run_ingest(
        [FIXTURES / "connectwise_tickets.csv"], tmp_path / "b.duckdb", fmt=connectwise
    )
    third = run_ingest(
        [FIXTURES / "halopsa_tickets.csv"], tmp_path / "c.duckdb", fmt="mapped", mapping=HALO
    )
    # counts as in test_mapped.EXAMPLES: 'Priority 9 - Unknown' is rejected by connectwise
    assert [(f.rows_read, f.rows_loaded) for r in (first, second, third) for f in r.files] == [
        (2, 2), (3, 2), (2, 2),
    ]
    assert rows(tmp_path / "a.duckdb", "select ticket_id from raw.tickets order by 1") == rows(
        tmp_path / "c.duckdb", "select ticket_id from raw.tickets order by 1"
    )


def test_the_cli_mapping_option_alone_means_the_mapped_format(tmp_path):
    db = tmp_path / "cli.duckdb"
    run = tierlens("ingest", FIXTURES / "halopsa_tickets.csv", "--mapping", HALO, "--db", db,
                   cwd=tmp_path)
    assert run.code == 0, run.describe()
    assert rows(db, "select source, rows_loaded from meta.batches") == [("mapped", 2)]
    wrong = tierlens("ingest", FIXTURES / "halopsa_tickets.csv", "--format", "zendesk",
                     "--mapping", HALO, "--db", tmp_path / "other.duckdb", cwd=tmp_path)
    assert wrong.code != 0
    assert "--mapping goes with --format mapped, not --format zendesk" in wrong.text
