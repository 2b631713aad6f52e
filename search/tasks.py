"""Summary tasks: made at index time (a Celery task in served mode, inline when embedded)."""

from __future__ import annotations

from core.db import session_scope
from core.errors import TransientError
from core.queue import SUMMARY_TASK, app
from core.settings import Settings, get_settings
from search.summary import SummaryResult, summaries_for
from videobert.embedder import load_embedder


def summarize_video_now(settings: Settings, video_id: str) -> SummaryResult:
    service = summaries_for(settings, load_embedder(settings).embed_text)
    with session_scope(settings) as session:
        return service.for_video(session=session, video_id=video_id)


@app.task(name=SUMMARY_TASK, autoretry_for=(TransientError,), retry_backoff=2, max_retries=5)
def summarize_video(video_id: str) -> str:
    return summarize_video_now(get_settings(), video_id).method
