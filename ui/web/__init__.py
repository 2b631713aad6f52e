"""The Streamlit web UI: search, watch from the moment, the library, ingest, recommendations.
``vidsearch ui`` serves ``app.py``; the pages call only services/ (and lower packages' types)."""
