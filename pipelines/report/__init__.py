"""`tierlens report`: a self-contained HTML (or PDF) scorecard for the weekly
escalation review or for a client.

It reads the serving snapshot the dashboard reads (never the main database file,
so it needs no lock and runs beside an ingest) plus the review samples and the
verdict journal, and builds every section from the dashboard's own data and chart
functions. See pipelines/report/content.py for the sections and
pipelines/report/html.py for the page.
"""

import streamlit.logger

# The dashboard's data functions are st.cache_data functions; outside a running
# app Streamlit warns about that once per function. The report does not need to hear it.
streamlit.logger.set_log_level("error")
