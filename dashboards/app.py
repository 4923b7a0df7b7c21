"""Tierlens dashboard: `tierlens dashboard --db tierlens.duckdb`.

The entry script: finds the serving snapshot of the last complete build, pins
this session to it, draws the sidebar filters and runs the chosen page. Every
page lives in dashboards/views/ and reads data only through dashboards.data.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import streamlit as st

from dashboards import data, links
from dashboards.context import Context, set_context
from dashboards.filters import sidebar_filters
from dashboards.pages import DEFAULT_PAGE, VIEWS, pages_for
from dashboards.session import session_scope
from pipelines.access.snapshot import ensure_scoped
from pipelines.db import DEFAULT_DB
from pipelines.errors import TierlensError

PINNED_KEY = "_pinned_snapshot"


def db_path(args: Sequence[str] | None = None) -> Path:
    """--db after `--` on the streamlit command line (the script's arguments,
    default sys.argv[1:]), else $TIERLENS_DB, else the default."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:] if args is None else args)
    return Path(known.db or os.environ.get("TIERLENS_DB") or DEFAULT_DB)


def explain(located: data.Located) -> None:
    """The friendly page shown when there is nothing to serve yet."""
    path = located.db_path
    st.title("Tierlens")
    if located.state == "missing_db":
        st.warning(f"There is no database at `{path}` yet.")
        st.markdown(
            "Load your ticket exports and build the KPIs, then reload this page:\n\n"
            f"```bash\ntierlens ingest EXPORTS_FOLDER --db {path}\n"
            f"tierlens build --db {path}\n```\n\n"
            "No exports at hand? `make demo` (or `tierlens demo`) generates a sample month."
        )
    else:
        st.info(f"No build yet in `{path}`: the data is loaded but the KPIs are not built.")
        st.markdown(
            "Build them, then reload this page:\n\n"
            f"```bash\ntierlens ingest EXPORTS_FOLDER --db {path}   # if not done yet\n"
            f"tierlens build --db {path}\n```"
        )


def pinned(located: data.Located) -> tuple[str, int]:
    """The snapshot this session serves: the one it started on, until the user
    reloads (or that file has been cleaned up)."""
    assert located.pointer is not None
    current = (str(located.pointer.snapshot), located.pointer.build_id)
    chosen = st.session_state.get(PINNED_KEY)
    if chosen is None or not Path(chosen[0]).exists():
        chosen = current
        st.session_state[PINNED_KEY] = chosen
    if chosen[1] < current[1]:
        with st.container():
            col_text, col_button = st.columns([5, 1], vertical_alignment="center")
            col_text.info(
                f"A newer build is available (build {current[1]}, built "
                f"{located.pointer.built_at}). This page still shows build {chosen[1]}."
            )
            if col_button.button("Reload", key="reload_build", type="primary"):
                st.session_state[PINNED_KEY] = current
                st.cache_data.clear()
                st.rerun()
    return chosen


def main() -> None:
    st.set_page_config(
        page_title="Tierlens", page_icon=":material/stacked_line_chart:", layout="wide"
    )
    links.begin_run()
    db = db_path()
    scope, access = session_scope(db)  # stops at the sign-in page or a refusal
    located = data.locate(db)
    if located.state != "ok":
        explain(located)
        return
    full, build_id = pinned(located)
    # a partner or client session reads a file holding only its rows
    try:
        snapshot = str(ensure_scoped(full, scope, access))
    except (TierlensError, duckdb.Error) as exc:
        print(f"tierlens: the {scope} snapshot failed: {exc}", file=sys.stderr)  # server log
        st.error("Your view of the data cannot be prepared; ask your administrator.")
        return
    weeks = data.weeks(snapshot)
    if not weeks:
        st.title("Tierlens")
        st.info(
            "The last build has no resolved tickets yet, so there is nothing to report. "
            f"Load more exports with `tierlens ingest EXPORTS_FOLDER --db {located.db_path}` "
            f"and run `tierlens build --db {located.db_path}`."
        )
        return
    filters = sidebar_filters(weeks, data.filter_options(snapshot))
    info = data.build_info(snapshot)
    st.sidebar.caption(
        f"Build {build_id}, built {info['built_at']}; data until {info['data_until']}."
    )
    pages = {
        key: st.Page(
            VIEWS / file,
            title=title,
            icon=icon,
            url_path=None if key == DEFAULT_PAGE else key,
            default=key == DEFAULT_PAGE,
        )
        for key, (file, title, icon) in pages_for(scope).items()
    }
    set_context(
        Context(snapshot=snapshot, build_id=build_id, filters=filters, pages=pages, scope=scope)
    )
    links.show_notes()
    st.navigation(list(pages.values())).run()
    links.end_run()


if __name__ == "__main__":  # streamlit runs the script as __main__
    main()
