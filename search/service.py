"""Hybrid moment retrieval: one query embedding, three signals (video, text, lexical), fused,
grouped into videos with their best moments, and cut off where relevance is too weak to show."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, select

from core.arrays import unpack_f32
from core.db import session_scope
from core.models import Segment, Video, VideoStatus
from core.settings import Settings
from core.vectors import Hit, SearchFilter, VectorIndex
from search.fusion import (
    DEFAULT_CALIBRATION,
    EXAMPLE_CALIBRATION,
    Calibration,
    fuse_scores,
    reciprocal_rank_fusion,
    saturate,
    top,
)
from search.types import Moment, QueryError, SearchResponse, VideoResult, check_paging, clean_query
from videobert.embedder import Embedder

# (query, moment texts) -> one relevance score per moment, e.g. VideoBERT's alignment head.
Reranker = Callable[[str, Sequence[str]], Sequence[float]]
RERANK_TOP = 20


class LiveIndex:
    """The embedded mode's in-memory index, re-synced from the catalog whenever it changed.

    The check is one aggregate query; the sync itself only touches videos whose revision moved.
    With a Qdrant server the workers keep the index current, so nothing is checked here.
    """

    def __init__(
        self, settings: Settings, index: VectorIndex | None = None, *, sync: bool = True
    ) -> None:
        self.settings = settings
        self.index = index or VectorIndex(settings)
        self.sync = sync  # False: the caller fills the index itself (benchmarks)
        self._signature: tuple[Any, ...] | None = None
        self._lock = threading.Lock()

    def ensure_fresh(self) -> None:
        if self.settings.qdrant_url or not self.sync:
            return
        with session_scope(self.settings) as session:
            signature = tuple(
                session.execute(
                    select(
                        func.count(Video.id),
                        func.coalesce(func.sum(Video.revision), 0),
                        func.max(Video.indexed_at),
                    ).where(Video.status == VideoStatus.READY)
                ).one()
            )
            if signature == self._signature:
                return
            with self._lock:
                if signature != self._signature:
                    self.index.sync_from_catalog(session)
                    self._signature = signature


class SearchService:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        live: LiveIndex | None = None,
        calibration: Mapping[str, Calibration] = DEFAULT_CALIBRATION,
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.live = live or LiveIndex(settings)
        self.calibration = dict(calibration)
        self.reranker = reranker

    @property
    def index(self) -> VectorIndex:
        return self.live.index

    # --- text queries --------------------------------------------------------------------------
    def signals(self, query: str, flt: SearchFilter | None = None) -> dict[str, list[Hit]]:
        """Each signal's candidates for an already-cleaned query (for search and for benchmarks)."""
        self.live.ensure_fresh()
        qvec = self.embedder.embed_text([query])[0]
        n = self.settings.search_candidates
        return {
            "video": self.index.search_dense("video", qvec, n, flt),
            "text": self.index.search_dense("text", qvec, n, flt),
            "lexical": self.index.search_lexical(query, n, flt),
        }

    def search(
        self,
        text: str | None,
        *,
        limit: int = 10,
        offset: int = 0,
        flt: SearchFilter | None = None,
        fusion: str | None = None,
        use: Sequence[str] = ("video", "text", "lexical"),
        rerank: bool | None = None,
    ) -> SearchResponse:
        query = clean_query(text)
        check_paging(limit, offset)
        hits = {name: h for name, h in self.signals(query, flt).items() if name in use}
        return self.rank(
            hits,
            limit=limit,
            offset=offset,
            fusion=fusion or self.settings.fusion,
            query=query,
            rerank=self.settings.rerank if rerank is None else rerank,
        )

    # --- query by example ---------------------------------------------------------------------
    def more_like_this(
        self,
        video_id: str,
        *,
        segment: int | None = None,
        limit: int = 10,
        flt: SearchFilter | None = None,
    ) -> SearchResponse:
        """Videos like a given video (or one of its moments), the video itself left out."""
        check_paging(limit, 0)
        with session_scope(self.settings) as session:
            query = select(Segment).where(Segment.video_id == video_id)
            if segment is not None:
                query = query.where(Segment.index == segment)
            rows = list(session.scalars(query))
        if not rows:
            what = f"video {video_id}" + (
                f" has no segment {segment}" if segment is not None else " is not indexed"
            )
            raise LookupError(what)
        video_vec = _unit(np.mean([unpack_f32(r.video_vector) for r in rows], axis=0))
        text_vec = _unit(np.mean([unpack_f32(r.text_vector) for r in rows], axis=0))
        base = flt or SearchFilter()
        flt = SearchFilter(
            **{**base.__dict__, "exclude_video_ids": (*base.exclude_video_ids, video_id)}
        )
        self.live.ensure_fresh()
        n = self.settings.search_candidates
        hits = {
            "video": self.index.search_dense("video", video_vec, n, flt),
            "text": self.index.search_dense("text", text_vec, n, flt),
        }
        return self.rank(
            hits, limit=limit, offset=0, fusion="score", calibration=EXAMPLE_CALIBRATION
        )

    def search_image(
        self, image: bytes, *, limit: int = 10, flt: SearchFilter | None = None
    ) -> SearchResponse:
        """An uploaded picture as the query: frame encoder, then the video vectors."""
        check_paging(limit, 0)
        rgb = decode_image(image)
        features = self.embedder.encode_frames(rgb[None]).features
        vec = self.embedder.embed_video([features])[0]
        self.live.ensure_fresh()
        hits = {
            "video": self.index.search_dense("video", vec, self.settings.search_candidates, flt)
        }
        return self.rank(
            hits, limit=limit, offset=0, fusion="score", calibration=EXAMPLE_CALIBRATION
        )

    # --- fusion, grouping, cut-off -------------------------------------------------------------
    def rank(
        self,
        hits: Mapping[str, list[Hit]],
        *,
        limit: int,
        offset: int,
        fusion: str,
        query: str = "",
        rerank: bool = False,
        calibration: Mapping[str, Calibration] | None = None,
    ) -> SearchResponse:
        payloads: dict[str, dict[str, Any]] = {}
        for signal_hits in hits.values():
            for h in signal_hits:
                payloads.setdefault(h.id, h.payload)
        if fusion == "rrf":
            fused = reciprocal_rank_fusion({name: [h.id for h in hs] for name, hs in hits.items()})
            threshold = 0.0  # ranks carry no strength: RRF cannot tell a good match from none
        elif fusion == "score":
            raw = {
                name: {h.id: (saturate(h.score) if name == "lexical" else h.score) for h in hs}
                for name, hs in hits.items()
            }
            fused = fuse_scores(raw, calibration or self.calibration)
            threshold = self.settings.relevance_threshold
        else:
            raise QueryError(f"fusion must be 'score' or 'rrf', got {fusion!r}")
        kept = {pid: s for pid, s in fused.items() if s >= threshold and s > 0}
        if rerank and kept:
            kept = self._rerank(query, kept, payloads)
        results = group_moments(kept, payloads, self.settings.moments_per_video)
        return SearchResponse(
            results=results[offset : offset + limit],
            cut_off=not results,
            total=len(results),
            signals={name: len(hs) for name, hs in hits.items()},
        )

    def _rerank(
        self, query: str, kept: dict[str, float], payloads: Mapping[str, dict[str, Any]]
    ) -> dict[str, float]:
        head = top(kept, RERANK_TOP)
        if self.reranker is not None:
            scores = list(
                self.reranker(query, [str(payloads[pid].get("text", "")) for pid, _ in head])
            )
        else:
            # VideoBERT's alignment head reads the query with each moment's clips.
            clips = self._clip_features(
                [(str(payloads[pid]["video_id"]), int(payloads[pid]["index"])) for pid, _ in head]
            )
            scores = self.embedder.align_scores(query, clips)
        # Reranked moments keep their place above the rest; the rest keep their order.
        floor = max((s for pid, s in kept.items() if pid not in dict(head)), default=0.0)
        out = dict(kept)
        for (pid, _), s in zip(head, scores, strict=True):
            out[pid] = floor + 1.0 + float(s)
        return out

    def _clip_features(self, keys: Sequence[tuple[str, int]]) -> list[np.ndarray]:
        """The stored clip features of these (video, segment) moments, in the same order."""
        from sqlalchemy import tuple_

        from core.arrays import unpack_f16_matrix

        with session_scope(self.settings) as session:
            rows = session.execute(
                select(Segment.video_id, Segment.index, Segment.clip_features).where(
                    tuple_(Segment.video_id, Segment.index).in_(list(keys))
                )
            ).all()
        found = {(v, i): unpack_f16_matrix(blob) for v, i, blob in rows}
        return [found[k] for k in keys]


def group_moments(
    fused: Mapping[str, float], payloads: Mapping[str, Mapping[str, Any]], per_video: int
) -> list[VideoResult]:
    """Segments → videos, each scored by its best moment, moments best first."""
    by_video: dict[str, list[tuple[str, float]]] = {}
    for pid, score in top(fused):
        by_video.setdefault(str(payloads[pid]["video_id"]), []).append((pid, score))
    results = []
    for video_id, items in by_video.items():
        first = payloads[items[0][0]]
        moments = [
            Moment(
                start=float(payloads[pid]["start"]),
                end=float(payloads[pid]["end"]),
                score=score,
                text=str(payloads[pid].get("text", "")),
                segment=int(payloads[pid]["index"]),
            )
            for pid, score in items[:per_video]
        ]
        results.append(
            VideoResult(
                video_id=video_id,
                path=str(first.get("path", "")),
                title=str(first.get("title", "")),
                score=items[0][1],
                moments=moments,
            )
        )
    results.sort(key=lambda r: (-r.score, r.video_id))
    return results


def decode_image(data: bytes) -> np.ndarray:
    """Uploaded bytes → (224, 224, 3) uint8, or QueryError saying why not."""
    from PIL import Image, UnidentifiedImageError

    from videobert.frames import INPUT_SIDE

    if not data:
        raise QueryError("the uploaded image is empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            rgb = img.convert("RGB").resize((INPUT_SIDE, INPUT_SIDE), Image.Resampling.BILINEAR)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise QueryError(f"the upload is not a readable image: {exc}") from None
    return np.array(rgb, dtype=np.uint8)  # a writable copy: torch refuses read-only buffers


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v
