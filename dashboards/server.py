"""The Streamlit server with the dashboard's code already imported.

`streamlit run` imports an app's libraries (polars, DuckDB, Plotly, the data and
chart modules) only when the first visitor's session runs the script, so the first
page view of a fresh server waited for them (about half a second). This launcher
imports the app and every page module first (each page renders only when run as a
script, never on import) and then hands over to Streamlit's own command line:

    python -m dashboards.server run dashboards/app.py [streamlit options] -- --db DB
"""

from __future__ import annotations

import importlib
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


def main() -> int:
    preload()
    from streamlit.web.cli import main as streamlit_main

    code: int = streamlit_main(prog_name="streamlit")  # a click command: returns Any
    return code


if __name__ == "__main__":
    sys.exit(main())
