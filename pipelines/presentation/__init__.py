"""Presentation without Streamlit: how figures read (format), KPI tiles, charts,
the statistics behind them, the filters value and the reads of a serving snapshot.

The dashboard (dashboards/, Streamlit) and the report (pipelines/report) both build
on it, so the two never disagree. Nothing here imports streamlit or dashboards.
"""
