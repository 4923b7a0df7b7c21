"""The Streamlit server with the dashboard's code already imported.

`streamlit run` imports an app's libraries (polars, DuckDB, Plotly, the data and
chart modules) only when the first visitor's session runs the script, so the first
page view of a fresh server waited for them (about half a second). This launcher
imports the app and every page module first (each page renders only when run as a
script, never on import) and then hands over to Streamlit's own command line:

    python -m dashboards.server run dashboards/app.py [streamlit options] -- --db DB

It also does, once and before the port opens, what the first page view or every
script run would otherwise wait for (`warm_up`):

- pyarrow, which Streamlit imports to send the first table or chart's data;
- the map of module files that Streamlit's first element of the process builds
  (`inspect.stack()`, asked whether it runs in a REPL: a real path for each of the
  ~1,300 modules loaded, about 50 ms);
- the read-only connection to the snapshot the dashboard serves now (DuckDB opens
  the file and reads its catalog once per server, shared by every session), and a
  first query made a polars frame;
- `gc.freeze()`: Streamlit collects garbage after every script run (gc.collect(2),
  `runner.postScriptGC`), holding the interpreter lock while it walks every object,
  ~60 ms for the ~115,000 objects the imports made, between a run's last element
  and the message that ends the run in the browser. Frozen, those objects (modules,
  classes, functions: they live as long as the server) are no longer walked; the
  garbage the runs make is still collected.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import logging
import sys

from dashboards.pages import PAGES

# Declaring an @st.cache_data function outside a running server logs "No runtime
# found" once per function. It is harmless here: each cache is created on its first
# call, inside the server's runtime.
_CACHE_LOGGER = "streamlit.runtime.caching.cache_data_api"


def preload() -> list[str]:
    """Import the app and its pages; returns the module names imported."""
    import streamlit  # noqa: F401  (creates Streamlit's loggers)

    names = ["dashboards.app", *(f"dashboards.views.{file[:-3]}" for file, _, _ in PAGES.values())]
    logger = logging.getLogger(_CACHE_LOGGER)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        for name in names:
            importlib.import_module(name)
    finally:
        logger.setLevel(level)
    return names


def open_snapshot() -> str | None:
    """Open the connection to the snapshot the dashboard serves now (the one a new
    session pins); None when there is none yet. Only a head start: the app opens
    whatever it needs itself, so nothing here may stop the server."""
    from dashboards import app, data
    from pipelines.db import polars_frame

    script_args = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    try:
        located = data.locate(app.db_path(script_args))
        if located.pointer is None:
            return None
        snapshot = str(located.pointer.snapshot)
        polars_frame(data.cursor(snapshot).sql("select 1 as one"))  # the first frame
    except Exception:  # the app reports a missing or broken build to the visitor
        return None
    return snapshot


def warm_up() -> None:
    """After `preload`: what the first page view and every script run would wait for."""
    importlib.import_module("pyarrow")  # Streamlit imports it to send the first frame
    inspect.stack()  # maps every loaded module's file, as Streamlit's first element does
    open_snapshot()
    gc.collect()
    gc.freeze()


def main() -> int:
    preload()
    warm_up()
    from streamlit.web.cli import main as streamlit_main

    code: int = streamlit_main(prog_name="streamlit")  # a click command: returns Any
    return code


if __name__ == "__main__":
    sys.exit(main())
