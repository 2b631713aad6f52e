"""Recommendations for one user: reads their events and the library, ranks, explains each result; and continue watching."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy import sparse

from core import users as repo
from core.db import session_scope
from core.models import EventKind, utcnow
from core.settings import Settings
from core.vectors.sync import reconcile_videos
from recommender.collaborative import best_co_watched, co_watch_scores, item_item
from recommender.content import (
    ContentSearch,
    FetchedVectors,
    IndexSearch,
    MatrixSearch,
    VideoIndex,
    best_match,
)
from recommender.feedback import Feedback, video_feedback
from recommender.library import Snapshot, VideoLibrary
from recommender.popularity import popularity_scores, recency_scores
from recommender.rank import Components, Ranked, RankWeights, RowVectors, rank
from recommender.reasons import ReasonKind, dominant, reason_text
from recommender.types import Recommendation

MAX_LIMIT = 100
HISTORY_READ = 500  # a user's latest events the ranker reads; older ones have decayed to nothing
MEND_SECONDS = 30.0  # served mode: how often a video index short of the library is looked at


def check_limit(limit: int) -> int:
    """A limit of results to return, or ValueError naming it (before anything is read or written)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit!r} must be between 1 and {MAX_LIMIT}")
    return limit


@dataclass(frozen=True)
class _Social:
    """What all users together say, fitted on one library snapshot: co-watch similarity and
    popularity, both indexed by its rows."""

    library_version: int
    newest_event: int  # core.users.newest_event_id when fitted
    fitted_at: float  # time.monotonic()
    similarity: sparse.csr_matrix
    popularity: np.ndarray


def _rows(vectors: np.ndarray | RowVectors, rows: np.ndarray) -> np.ndarray:
    return vectors(rows) if callable(vectors) else vectors[rows]


class Recommender:
    """One per process (it caches the library's vectors and the co-watch model); thread-safe.

    ``video_index`` is served mode: the video vectors live in that index (a Qdrant collection,
    one point per video), the library reads only the videos' rows, the content candidates come
    from its recommend query and the few vectors a call needs (the user's history, the ranker's
    pool) are fetched from it: no process holds or scans every video's vector. A video index
    found short of the library (a lost or never-filled collection) is filled from the catalog.
    ``content_search`` replaces the content search alone (a test's stand-in); ``refresh_seconds`` bounds how often the co-watch model and popularity are refitted
    while events keep arriving (a user's own history is read fresh on every call). A refit
    follows a new event or a change of the library: events that disappear with a deleted user
    leave the model at the next of those. ``check_seconds`` is how often the library it makes
    (when none is handed in) checks the catalog for changed videos. Both defaults are those of
    VIDSEARCH_RECOMMEND_REFRESH_SECONDS and VIDSEARCH_RECOMMEND_CHECK_SECONDS, which
    services.recommendations.recommender_for passes in."""

    def __init__(
        self,
        settings: Settings,
        *,
        weights: RankWeights | None = None,
        library: VideoLibrary | None = None,
        content_search: Callable[[Snapshot], ContentSearch] | None = None,
        video_index: VideoIndex | None = None,
        refresh_seconds: float = 60.0,
        check_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.weights = weights or RankWeights()
        self.video_index = video_index
        self.library = library or VideoLibrary(
            settings, check_seconds=check_seconds, vectors=video_index is None
        )
        self._content_search = content_search
        self._mended: tuple[int, float] = (-1, -float("inf"))  # (library version, monotonic)
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._social: _Social | None = None
        self._lock = threading.Lock()

    # --- the shared part ---------------------------------------------------------------------
    def _content_for(self, snap: Snapshot) -> ContentSearch:
        if self._content_search is not None:
            return self._content_search(snap)
        if self.video_index is not None:
            return IndexSearch(self.video_index, negative_weight=self.weights.negative)
        return MatrixSearch(snap.matrix, snap.ids, negative_weight=self.weights.negative)

    def _vectors_for(self, snap: Snapshot) -> np.ndarray | RowVectors:
        """The library's vectors by row for one call: the matrix, or fetched from the index."""
        if self.video_index is None:
            return snap.matrix
        return FetchedVectors(snap.ids, self.video_index)

    def _mend_index(self, snap: Snapshot, session: Any) -> None:
        """Served mode: workers keep the video index in step as they commit; this writes back
        what it lacks (a lost collection, one made before this index existed), looking at most
        every MEND_SECONDS and when the library changes."""
        version, at = self._mended
        if self.video_index is None or (
            version == snap.version and time.monotonic() - at < MEND_SECONDS
        ):
            return
        self._mended = (snap.version, time.monotonic())
        if self.video_index.count() < len(snap.ids):
            with self._lock:
                reconcile_videos(self.video_index, session)

    def _social_for(self, snap: Snapshot, session: Any) -> _Social:
        newest = repo.newest_event_id(session=session)
        current = self._social
        if current is not None and current.library_version == snap.version:
            if current.newest_event == newest:
                return current
            if time.monotonic() - current.fitted_at < self.refresh_seconds:
                return current
        with self._lock:
            current = self._social
            if (
                current is not None
                and current.library_version == snap.version
                and current.newest_event == newest
            ):
                return current
            since = self.clock() - timedelta(days=self.weights.popular_window_days)
            counts = repo.popularity_counts(session=session, since=since)
            viewers = np.array([counts.get(v, 0) for v in snap.ids], dtype=np.float32)
            similarity = item_item(
                repo.engaged_pairs(session=session), snap.index, self.weights.co_watching
            )
            self._social = _Social(
                snap.version, newest, time.monotonic(), similarity, popularity_scores(viewers)
            )
            return self._social

    # --- use cases ---------------------------------------------------------------------------
    def recommend(self, *, user_id: int, limit: int = 10) -> list[Recommendation]:
        """The user's next videos, best first, each with a reason. Never a video the user has any
        event for (finished, liked, disliked, skipped, or in progress: see continue_watching).
        Raises core.users.UnknownUser, or ValueError for a limit outside 1..MAX_LIMIT."""
        check_limit(limit)
        snap = self.library.snapshot()
        with session_scope(self.settings) as session:
            if repo.get_user(session=session, user_id=user_id) is None:
                raise repo.UnknownUser(f"user {user_id} does not exist")
            events = repo.user_events(session=session, user_id=user_id, limit=HISTORY_READ)
            touched = repo.touched_videos(session=session, user_id=user_id)
            social = self._social_for(snap, session)
            self._mend_index(snap, session)
        if not snap.ids:
            return []
        now = self.clock()
        feedback = {
            v: f
            for v, f in video_feedback(events, snap.durations, now, self.weights.feedback).items()
            if v in snap.index
        }
        pos = np.array([snap.index[v] for v, f in feedback.items() if f.weight > 0], dtype=np.int64)
        pos_w = np.array([f.weight for f in feedback.values() if f.weight > 0], dtype=np.float32)
        neg = np.array([snap.index[v] for v, f in feedback.items() if f.weight < 0], dtype=np.int64)
        neg_w = np.array([-f.weight for f in feedback.values() if f.weight < 0], dtype=np.float32)
        vectors = self._vectors_for(snap)
        components = self._components(snap, vectors, social, now, pos, pos_w, neg, neg_w)
        excluded = np.zeros(len(snap.ids), dtype=bool)
        excluded[[snap.index[v] for v in touched if v in snap.index]] = True
        ranked = rank(components, vectors, excluded, limit, self.weights)
        pos_t = np.array(
            [f.at.timestamp() for f in feedback.values() if f.weight > 0], dtype=np.float64
        )
        return self._explain(ranked, snap, vectors, social, feedback, pos, pos_w, pos_t)

    def _components(
        self,
        snap: Snapshot,
        vectors: np.ndarray | RowVectors,
        social: _Social,
        now: datetime,
        pos: np.ndarray,
        pos_w: np.ndarray,
        neg: np.ndarray,
        neg_w: np.ndarray,
    ) -> Components:
        w = self.weights
        content = np.zeros(len(snap.ids), np.float32)
        history = _rows(vectors, np.concatenate([pos, neg]))  # one read for both
        positive, negative = history[: len(pos)], history[len(pos) :]
        hits = self._content_for(snap)(positive, pos_w, negative, neg_w, w.content_candidates)
        for video_id, score in hits.items():
            row = snap.index.get(video_id)
            if row is not None:
                content[row] = score
        return Components(
            content=content,
            co_watch=co_watch_scores(social.similarity, pos, pos_w),
            popularity=social.popularity,
            recency=recency_scores(
                now.timestamp() - snap.indexed_at,
                half_life_days=w.new_half_life_days,
                within_days=w.new_within_days,
            ),
        )

    def _explain(
        self,
        ranked: list[Ranked],
        snap: Snapshot,
        vectors: np.ndarray | RowVectors,
        social: _Social,
        feedback: dict[str, Feedback],
        pos: np.ndarray,
        pos_w: np.ndarray,
        pos_t: np.ndarray,
    ) -> list[Recommendation]:
        """Each result's reason: its largest contribution, naming the user's own video behind a
        content or co-watch reason. A personal reason with no video to name (content pulled up
        only by moving away from dislikes) gives way to the next largest."""
        rows = np.array([r.index for r in ranked], dtype=np.int64)
        behind = {
            ReasonKind.CONTENT: best_match(_rows(vectors, rows), _rows(vectors, pos), pos_w, pos_t),
            ReasonKind.CO_WATCH: best_co_watched(social.similarity, rows, pos, pos_w, pos_t),
        }
        out = []
        for i, r in enumerate(ranked):
            contributions = dict(r.contributions)
            because: str | None = None
            kind = dominant(contributions)
            while kind in behind and because is None:
                best = int(behind[kind][i])
                if best >= 0:
                    because = snap.ids[int(pos[best])]
                else:
                    contributions.pop(kind)
                    kind = dominant(contributions)
            out.append(
                Recommendation(
                    video_id=snap.ids[r.index],
                    path=snap.paths[r.index],
                    title=snap.titles[r.index],
                    score=r.score,
                    reason=reason_text(
                        kind,
                        title=snap.titles[snap.index[because]] if because else None,
                        liked=because is not None and feedback[because].kind == EventKind.LIKED,
                    ),
                    reason_kind=kind,
                    because_video_id=because,
                )
            )
        return out

    def continue_watching(self, *, user_id: int, limit: int = 20) -> list[repo.InProgress]:
        """Started and not finished, most recent first, with the position to resume from."""
        check_limit(limit)
        with session_scope(self.settings) as session:
            if repo.get_user(session=session, user_id=user_id) is None:
                raise repo.UnknownUser(f"user {user_id} does not exist")
            return repo.continue_watching(session=session, user_id=user_id, limit=limit)
