"""Where the SQL lives: the sql/ folder (models by layer) and its macros file.

Both the build (pipelines.models) and the serving snapshot (pipelines.serving) read
it, so it sits below them.
"""

from __future__ import annotations

from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
MACROS_FILE = "macros.sql"


def macros_sql(sql_dir: Path = SQL_DIR) -> str:
    """The text of the folder's macros file ("" when it has none)."""
    path = sql_dir / MACROS_FILE
    return path.read_text(encoding="utf-8") if path.exists() else ""
