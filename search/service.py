"""Hybrid moment retrieval: one query embedding, six signals (video, text, lexical, concept, looks,
people), fused, grouped into videos with their best moments; what falls under the relevance
cut-off follows the strong results, flagged weak."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from core.arrays import unpack_f32
from core.catalog import clip_features, video_segments
from core.db import session_scope
from core.lexical import sparse_vector
from core.settings import MAX_FRAME_PIXELS, Settings
from core.vectors import Hit, SearchFilter, VectorStore
from model_lifecycle.calibration import EXAMPLE, calibration_for, threshold_for
from search import describe
from search.fusion import (
    Calibration,
    calibrations,
    fuse_scores,
    reciprocal_rank_fusion,
    saturate,
    top,
)
from search.live import LiveIndex
from search.looks import looks_hits, query_looks
from search.people import people_hits, query_people
from search.rescoring import rescore
from search.types import Moment, QueryError, SearchResponse, VideoResult, check_paging, clean_query
from videobert.vocabulary import Concept, concept_belief, query_concepts

if TYPE_CHECKING:
    from videobert.embedder import Embedder

# (query, moment texts) -> one relevance score per moment, e.g. VideoBERT's alignment head.
Reranker = Callable[[str, Sequence[str]], Sequence[float]]
RERANK_TOP = 20
SIGNALS = ("video", "text", "lexical", "concept", "looks", "people")
EXAMPLE_CALIBRATION = calibrations(EXAMPLE)
EXAMPLE_THRESHOLD = 0.10  # like-with-like evidence: the cut-off example queries always had


class SearchService:
    """Text, image and example queries over the segment index, for one embedder.

    Fusion uses the calibration stored with the model that embeds the queries (see
    model_lifecycle/calibration.py), looked up again when the active model changes;
    ``calibration`` fixes one instead (benchmarks and tests).
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        live: LiveIndex | None = None,
        calibration: Mapping[str, Calibration] | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.live = live or LiveIndex(settings)
        self.calibration = dict(calibration) if calibration is not None else None
        self.reranker = reranker
        self._model_calibration: tuple[str, dict[str, Calibration], float] | None = None

    @property
    def index(self) -> VectorStore:
        return self.live.store

    def current_calibration(self) -> Mapping[str, Calibration]:
        if self.calibration is not None:
            return self.calibration
        return self._model()[1]

    def current_threshold(self) -> float:
        """The cut-off: the setting where one is set, else the one calibrated with the model."""
        if self.settings.relevance_threshold is not None:
            return self.settings.relevance_threshold
        return self._model()[2]

    def _model(self) -> tuple[str, dict[str, Calibration], float]:
        name = self.embedder.name
        if self._model_calibration is None or self._model_calibration[0] != name:
            home = self.settings.home
            data = calibration_for(home, name)
            self._model_calibration = (name, calibrations(data), threshold_for(home, name))
        return self._model_calibration

    def _in_index_space(self, embed: Callable[[], np.ndarray]) -> np.ndarray:
        """A query vector of the width the index holds. A swap into a model of another width
        (a switch of vision model) commits the catalog, then rewrites the readers' record: a
        query between the two, or one whose index synced just before the swap, would meet
        vectors of the other model. Then the index syncs again, the record is brought in line
        with the catalog (the truth), and the query is embedded again."""
        vec = embed()
        if self.settings.qdrant_url:
            return vec  # a server's sizes cost a request: its sync after the swap is per video
        for _ in range(2):
            dims = self.index.dims()
            if not dims or dims.get("video") == len(vec):
                return vec
            from model_lifecycle.active import reconcile_active_file

            self.live.ensure_fresh()
            reconcile_active_file(self.settings)
            vec = embed()
        return vec

    # --- text queries --------------------------------------------------------------------------
    def signals(self, query: str, flt: SearchFilter | None = None) -> dict[str, list[Hit]]:
        """Each signal's candidates for an already-cleaned query (for search and for benchmarks).

        The concept signal rescores the other signals' candidates: how likely each shows a thing
        the query names, by the classes under that name (videobert/vocabulary.py); the looks
        signal, how fully each shows the looks the query asks for (search/looks.py); the people
        signal, the people, faces and talking the query asks for (search/people.py)."""
        self.live.ensure_fresh()
        qvec = self._in_index_space(lambda: self.embedder.embed_text([query])[0])
        n = self.settings.search_candidates
        hits = {
            "video": self.index.search_dense("video", qvec, n, flt),
            "text": self.index.search_dense("text", qvec, n, flt),
            "lexical": self.index.search_lexical(sparse_vector(query), n, flt),
        }
        candidates = list(hits.values())
        hits["concept"] = concept_hits(query_concepts(query), candidates)
        hits["looks"] = looks_hits(query_looks(query), candidates)
        hits["people"] = people_hits(query_people(query), candidates)
        return hits

    def search(
        self,
        text: str | None,
        *,
        limit: int = 10,
        offset: int = 0,
        flt: SearchFilter | None = None,
        fusion: str | None = None,
        use: Sequence[str] = SIGNALS,
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
            rows = video_segments(session=session, video_id=video_id, index=segment)
        if not rows:
            what = f"video {video_id}" + (
                f" has no segment {segment}" if segment is not None else " is not indexed"
            )
            raise LookupError(what)
        video_vec = _unit(np.mean([unpack_f32(r.video_vector) for r in rows], axis=0))
        text_vec = _unit(np.mean([unpack_f32(r.text_vector) for r in rows], axis=0))
        flt = (flt or SearchFilter()).excluding(video_id)
        self.live.ensure_fresh()
        n = self.settings.search_candidates
        hits = {
            "video": self.index.search_dense("video", video_vec, n, flt),
            "text": self.index.search_dense("text", text_vec, n, flt),
        }
        return self._rank_example(hits, limit)

    def search_image(
        self, image: bytes, *, limit: int = 10, flt: SearchFilter | None = None
    ) -> SearchResponse:
        """An uploaded picture as the query: frame encoder, then the video vectors."""
        check_paging(limit, 0)
        rgb = decode_image(image, self.settings.max_frame_pixels)
        self.live.ensure_fresh()
        vec = self._in_index_space(
            lambda: self.embedder.embed_video([self.embedder.encode_frames(rgb[None]).features])[0]
        )
        hits = {
            "video": self.index.search_dense("video", vec, self.settings.search_candidates, flt)
        }
        return self._rank_example(hits, limit)

    def _rank_example(self, hits: Mapping[str, list[Hit]], limit: int) -> SearchResponse:
        """Like compared with like: the example calibration and its cut-off."""
        return self.rank(
            hits,
            limit=limit,
            offset=0,
            fusion="score",
            calibration=EXAMPLE_CALIBRATION,
            threshold=EXAMPLE_THRESHOLD,
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
        threshold: float | None = None,
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
            fused = fuse_scores(raw, calibration or self.current_calibration())
            threshold = self.current_threshold() if threshold is None else threshold
        else:
            raise QueryError(f"fusion must be 'score' or 'rrf', got {fusion!r}")
        kept = {pid: s for pid, s in fused.items() if s >= threshold and s > 0}
        if rerank and kept:
            kept = self._rerank(query, kept, payloads)
        per_video = self.settings.moments_per_video
        strong = group_moments(kept, payloads, per_video)
        weak = weak_results(hits, fused, payloads, strong, per_video, self.settings.weak_results)
        results = strong + weak
        return SearchResponse(
            results=results[offset : offset + limit],
            cut_off=not strong,
            total=len(results),
            strong=len(strong),
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
        from core.arrays import unpack_f16_matrix

        with session_scope(self.settings) as session:
            found = clip_features(session=session, moments=keys)
        return [unpack_f16_matrix(found[k]) for k in keys]


def concept_hits(concepts: Sequence[Concept], candidates: Iterable[Sequence[Hit]]) -> list[Hit]:
    """The candidates that show something the query names, scored by the belief that they do."""
    if not concepts:
        return []

    def belief(payload: Mapping[str, Any]) -> float:
        beliefs = {int(c): float(p) for c, p in (payload.get("beliefs") or {}).items()}
        return concept_belief(concepts, beliefs)

    return rescore(candidates, belief)


def moment_caption(payload: Mapping[str, Any]) -> str:
    """A moment's words as people see them: what is said, then ``[seen: ...]`` with the people,
    the hedged tags, the looks and the text on screen (search/describe.py); the classifier's raw
    top classes stay in the caption search reads, never on a result."""
    said = str(payload.get("said") or "").strip()
    seen = describe.seen_text(
        payload.get("tags"), payload.get("looks"), payload.get("people"), payload.get("on_screen")
    )
    return "\n".join(part for part in (said, f"[seen: {seen}]" if seen else "") if part)


def weak_results(
    hits: Mapping[str, Sequence[Hit]],
    fused: Mapping[str, float],
    payloads: Mapping[str, Mapping[str, Any]],
    strong: Sequence[VideoResult],
    per_video: int,
    limit: int,
) -> list[VideoResult]:
    """The closest of what the cut-off hid, flagged weak: the videos no strong moment named,
    ordered by their fused evidence and, where that is none (every signal under its floor), by
    their ranks across the signals (RRF), which always has an order to give."""
    if limit <= 0:
        return []
    shown = {r.video_id for r in strong}
    ranks = reciprocal_rank_fusion({name: [h.id for h in hs] for name, hs in hits.items()})
    rest = [pid for pid in ranks if str(payloads[pid]["video_id"]) not in shown]
    # (evidence, rank score): evidence decides, the rank only breaks its ties (mostly zeros).
    order = {pid: (fused.get(pid, 0.0), ranks[pid]) for pid in rest}
    best: dict[str, tuple[float, float]] = {}
    for pid in rest:
        video = str(payloads[pid]["video_id"])
        best[video] = max(best.get(video, order[pid]), order[pid])
    # Moments are made only for the videos that will be shown.
    keep = set(sorted(best, key=lambda v: (-best[v][0], -best[v][1], v))[:limit])
    rest = [pid for pid in rest if str(payloads[pid]["video_id"]) in keep]
    results = group_moments(
        {pid: fused.get(pid, 0.0) for pid in rest}, payloads, per_video, order=order
    )
    return [replace(r, weak=True) for r in results]


def group_moments(
    fused: Mapping[str, float],
    payloads: Mapping[str, Mapping[str, Any]],
    per_video: int,
    order: Mapping[str, tuple[float, float]] | None = None,
) -> list[VideoResult]:
    """Segments → videos, each scored by its best moment, moments best first. ``order`` ranks
    by another key than the score shown (weak results: evidence, then rank)."""
    key = order or {pid: (s, 0.0) for pid, s in fused.items()}
    by_video: dict[str, list[tuple[str, float]]] = {}
    for pid in sorted(fused, key=lambda p: (-key[p][0], -key[p][1], p)):
        by_video.setdefault(str(payloads[pid]["video_id"]), []).append((pid, fused[pid]))
    results = []
    for video_id, items in by_video.items():
        first = payloads[items[0][0]]
        moments = [
            Moment(
                start=float(payloads[pid]["start"]),
                end=float(payloads[pid]["end"]),
                score=score,
                text=moment_caption(payloads[pid]),
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
    best = {r.video_id: key[by_video[r.video_id][0][0]] for r in results}
    results.sort(key=lambda r: (-best[r.video_id][0], -best[r.video_id][1], r.video_id))
    return results


def decode_image(data: bytes, max_pixels: int = MAX_FRAME_PIXELS) -> np.ndarray:
    """Uploaded bytes → (224, 224, 3) uint8, or QueryError saying why not. A picture over
    ``max_pixels`` (the limit a video's frames have: ``max_frame_pixels``) is refused unread."""
    from PIL import Image, UnidentifiedImageError

    from videobert.frames import INPUT_SIDE

    if not data:
        raise QueryError("the uploaded image is empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            # The header says how big the picture is: refuse a bomb before decoding it.
            if img.width * img.height > max_pixels:
                raise QueryError(
                    f"the uploaded image is {img.width} x {img.height} pixels, over the limit of "
                    f"{max_pixels:,} pixels"
                )
            img.load()
            rgb = img.convert("RGB").resize((INPUT_SIDE, INPUT_SIDE), Image.Resampling.BILINEAR)
    except UnidentifiedImageError:
        # PIL's own message names an in-memory buffer object, which tells a person nothing.
        raise QueryError(
            f"the upload is not a readable image ({len(data)} bytes in no picture format this "
            "server reads: JPEG, PNG, GIF, WebP, BMP, TIFF)"
        ) from None
    except Image.DecompressionBombError:
        raise QueryError(
            "the upload is not a readable image: its pixel size is over the limit"
        ) from None
    except (OSError, ValueError) as exc:
        raise QueryError(f"the upload is not a readable image: {exc}") from None
    return np.array(rgb, dtype=np.uint8)  # a writable copy: torch refuses read-only buffers


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v
