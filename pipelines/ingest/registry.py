"""The input formats by name: the canonical files and every source adapter.

A plain, read-only mapping built from the base (formats.py) and the adapters; the
`mapped` format takes its mapping file as an argument (`reader_for`), nothing is
registered at run time.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from pipelines.errors import InputError
from pipelines.ingest.eventlog import read_eventlog
from pipelines.ingest.formats import FormatReader, read_canonical
from pipelines.ingest.mapped import mapped_reader, read_mapped
from pipelines.ingest.mapping_file import Mapping
from pipelines.ingest.servicenow import read_servicenow_audit, read_servicenow_incident
from pipelines.ingest.zendesk import read_zendesk

READERS: MappingProxyType[str, FormatReader] = MappingProxyType(
    {
        "canonical": read_canonical,
        "eventlog": read_eventlog,
        "servicenow-audit": read_servicenow_audit,
        "servicenow-incident": read_servicenow_incident,
        "zendesk": read_zendesk,
        "mapped": read_mapped,  # without a mapping it says one is needed
    }
)


def reader_for(fmt: str, mapping: Path | str | Mapping | None = None) -> FormatReader:
    """The reader of format `fmt`; with a mapping (file or loaded), the `mapped`
    format bound to it."""
    if mapping is not None and fmt != "mapped":
        raise InputError(f"--mapping goes with --format mapped, not --format {fmt}")
    if fmt not in READERS:
        raise InputError(f"unknown input format {fmt!r} (known: {', '.join(sorted(READERS))})")
    return READERS[fmt] if mapping is None else mapped_reader(mapping)
