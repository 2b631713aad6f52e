"""The summaries table: keyword-only repository functions for the per-video summary cache."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.models import Summary


def cached_summary(
    *, session: Session, video_id: str, model: str, content_hash: str
) -> Summary | None:
    """The summary made for this content of the video by this model, if one was."""
    return session.scalar(
        select(Summary).where(
            Summary.video_id == video_id,
            Summary.model == model,
            Summary.content_hash == content_hash,
        )
    )


def replace_summary(
    *, session: Session, video_id: str, model: str, method: str, content_hash: str, text: str
) -> Summary:
    """Store the video's new summary in place of every older one (of other content or by
    another model: stale now)."""
    session.execute(delete(Summary).where(Summary.video_id == video_id))
    summary = Summary(
        video_id=video_id, model=model, method=method, content_hash=content_hash, text=text
    )
    session.add(summary)
    session.flush()
    return summary


def stored_summaries(*, session: Session, video_ids: Sequence[str]) -> dict[str, Summary]:
    """The newest summary of each of these videos that has one."""
    rows = session.scalars(
        select(Summary).where(Summary.video_id.in_(list(video_ids))).order_by(Summary.id)
    )
    return {r.video_id: r for r in rows}
