"""`tierlens report`: a self-contained HTML (or PDF) scorecard for the weekly
escalation review or for a client.

It reads the serving snapshot the dashboard reads (never the main database file,
so it needs no lock and runs beside an ingest) plus the review samples and the
verdict journal, and builds every section from the reads, statistics and chart
functions the dashboard uses (pipelines.presentation, no Streamlit). See
pipelines/report/content.py for the sections and pipelines/report/html.py for the page.
"""
