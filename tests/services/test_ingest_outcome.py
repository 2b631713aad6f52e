"""The use cases take what happened from the run itself (IngestOutcome): a worker sends the
summary task for the video the run reports, without reading the job back."""

from __future__ import annotations

import pytest

from core.queue import SUMMARY_TASK
from core.settings import Settings
from indexer.pipeline import IngestOutcome
from services import job_runs

NO_SUCH_JOB = 424242  # not in the catalog: reading it back would raise LookupError


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(job_runs, "send", lambda task, arg: calls.append((task, arg)))
    return calls


def _runs(monkeypatch, outcome: IngestOutcome) -> None:
    monkeypatch.setattr(job_runs, "run_job", lambda job_id, **_kwargs: outcome)


def test_a_worker_sends_the_summary_of_the_video_the_run_indexed(settings, monkeypatch, sent):
    _runs(monkeypatch, IngestOutcome(NO_SUCH_JOB, "succeeded", "0123456789abcdef"))
    done = job_runs.ingest_on_worker(settings, NO_SUCH_JOB, store=None)
    assert done.video_id == "0123456789abcdef"
    assert sent == [(SUMMARY_TASK, "0123456789abcdef")]


@pytest.mark.parametrize(
    "outcome",
    [
        IngestOutcome(NO_SUCH_JOB, "failed", None, "x.mp4: empty file"),
        IngestOutcome(NO_SUCH_JOB, "skipped", "0123456789abcdef"),
        IngestOutcome(NO_SUCH_JOB, "elsewhere", None),
    ],
)
def test_a_worker_sends_no_summary_for_a_run_that_indexed_nothing_new(
    settings, monkeypatch, sent, outcome
):
    _runs(monkeypatch, outcome)
    assert job_runs.ingest_on_worker(settings, NO_SUCH_JOB, store=None) == outcome
    assert sent == []


def test_no_summary_is_sent_when_the_settings_make_none_at_index_time(
    settings: Settings, monkeypatch, sent
):
    _runs(monkeypatch, IngestOutcome(NO_SUCH_JOB, "succeeded", "0123456789abcdef"))
    quiet = settings.model_copy(update={"summaries_at_index": False})
    job_runs.ingest_on_worker(quiet, NO_SUCH_JOB, store=None)
    assert sent == []


def test_an_in_process_run_summarizes_the_video_the_run_indexed(settings, monkeypatch):
    _runs(monkeypatch, IngestOutcome(NO_SUCH_JOB, "succeeded", "0123456789abcdef"))
    made: list[str] = []
    monkeypatch.setattr(
        job_runs, "summarize_after_ingest", lambda _s, video_id: made.append(video_id)
    )
    assert job_runs.ingest_job(settings, NO_SUCH_JOB).status == "succeeded"
    assert made == ["0123456789abcdef"]
