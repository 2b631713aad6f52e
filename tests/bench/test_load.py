"""bench/load.py, CI-sized: clients with their own tokens search, list, read summaries and ask for
recommendations from a real `vidsearch api` while it ingests, and every answer is a 2xx."""

from __future__ import annotations

from pathlib import Path

from bench.load import MIX, report, run_load


def test_requests_are_answered_while_the_server_ingests(tmp_path: Path):
    window = run_load(
        tmp_path,
        clients=2,
        seconds=4,
        max_requests=500,
        request_timeout=30,
        seed_clips=4,
        extra_clips=6,
        samples=False,
        rate_limit=1_000_000,
    )
    table = report(window, clients=2)
    assert window.outcomes, table
    assert [o for o in window.outcomes if not 200 <= o.status < 300] == [], table
    assert {o.endpoint for o in window.outcomes} == {name for name, _ in MIX}, table
    assert window.busy_polls > 0, "no ingest job ran during the window:\n" + table
    assert window.jobs_total == 6 and window.api_peak_rss_mb > 0, table
