"""The application layer: each use case in one home (ingest, search and summaries, the library's
listings, training and the model swap, the health checks, users and their watch events,
recommendations) that every front end calls — the CLI
(ui/cli), the HTTP API (api/), the Celery tasks (services/tasks.py) and the web UI. Front ends
parse, render and speak their protocol; they hold no catalog transactions, job running or model
swapping of their own."""
