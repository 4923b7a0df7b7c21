"""Start the Streamlit dashboard on a built database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.errors import TierlensError

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"


def streamlit_command(db: Path | str, port: int, *, headless: bool = True) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        "--",
        "--db",
        str(db),
    ]


def serve_dashboard(db: Path | str, port: int) -> int:
    if not APP.exists():
        raise TierlensError("the dashboard is not installed (dashboards/app.py is missing)")
    env = {**os.environ, "TIERLENS_DB": str(Path(db).resolve())}
    return subprocess.call(streamlit_command(db, port), env=env)
