"""The Qdrant engine, and the only module that imports ``qdrant_client``: a Qdrant server
(``VIDSEARCH_QDRANT_URL``) or any ``QdrantClient`` handed in (the contract tests use
qdrant-client's own in-process engine, ``QdrantClient(":memory:")``).

A server that does not answer is a fault to retry (``TransientError``), never a reason to fail
a job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from core.errors import TransientError
from core.lexical import SparseVector
from core.vectors.store import (
    LEXICAL,
    Hit,
    SearchFilter,
    SegmentPoint,
    check_dims,
    normal_folder,
    payload_revision,
)
from core.vectors.sync import VideoPoint, video_payload_revision, video_point_id

BATCH = 256
VIDEO = "video"  # the video-level collection's one named vector


@contextmanager
def _unreachable_is_transient() -> Iterator[None]:
    try:
        yield
    except (ResponseHandlingException, UnexpectedResponse, OSError) as exc:
        raise TransientError(f"vector index unreachable: {exc}") from exc


class _Gone(Exception):
    """The collection was deleted between our look and our read."""


@contextmanager
def _gone_is_empty() -> Iterator[None]:
    # A collection deleted under a reader (a lost volume, someone's delete) reads as empty, as
    # one that never existed does: search answers with what is left while it is rebuilt.
    try:
        yield
    except UnexpectedResponse as exc:
        if exc.status_code == 404:
            raise _Gone() from exc
        raise
    except ValueError as exc:  # qdrant-client's in-process engine
        if "not found" in str(exc):
            raise _Gone() from exc
        raise


def to_qdrant_filter(
    flt: SearchFilter | None, *, extra: Sequence[qm.Condition] = ()
) -> qm.Filter | None:
    """A SearchFilter in Qdrant's terms (plus any extra conditions that must hold)."""
    must: list[qm.Condition] = list(extra)
    must_not: list[qm.Condition] = []
    if flt is not None:
        if flt.min_duration is not None or flt.max_duration is not None:
            rng = qm.Range(gte=flt.min_duration, lte=flt.max_duration)
            must.append(qm.FieldCondition(key="duration", range=rng))
        if flt.ingested_after is not None or flt.ingested_before is not None:
            rng = qm.Range(gte=flt.ingested_after, lte=flt.ingested_before)
            must.append(qm.FieldCondition(key="ingested_at", range=rng))
        if flt.has_speech is not None:
            match = qm.MatchValue(value=flt.has_speech)
            must.append(qm.FieldCondition(key="video_has_speech", match=match))
        if flt.folder:
            match = qm.MatchValue(value=normal_folder(flt.folder))
            must.append(qm.FieldCondition(key="folders", match=match))
        if flt.video_ids is not None:
            must.append(
                qm.FieldCondition(key="video_id", match=qm.MatchAny(any=list(flt.video_ids)))
            )
        if flt.exclude_video_ids:
            anyof = qm.MatchAny(any=list(flt.exclude_video_ids))
            must_not.append(qm.FieldCondition(key="video_id", match=anyof))
    if not must and not must_not:
        return None
    return qm.Filter(must=must or None, must_not=must_not or None)


# Every payload field a filter reads (to_qdrant_filter, search_dense's has_text), with its type.
# A field left out here is still filtered, by a scan of every payload on a server.
SEGMENT_INDEXES: tuple[tuple[str, qm.PayloadSchemaType], ...] = (
    ("video_id", qm.PayloadSchemaType.KEYWORD),
    ("duration", qm.PayloadSchemaType.FLOAT),
    ("ingested_at", qm.PayloadSchemaType.FLOAT),
    ("video_has_speech", qm.PayloadSchemaType.BOOL),
    ("has_text", qm.PayloadSchemaType.BOOL),
    ("folders", qm.PayloadSchemaType.KEYWORD),
)
# A video point has no text vector, so no has_text; the rest of a SearchFilter applies to it.
VIDEO_INDEXES = tuple((k, t) for k, t in SEGMENT_INDEXES if k != "has_text")


def create_payload_indexes(
    client: QdrantClient,
    collection: str,
    fields: Sequence[tuple[str, qm.PayloadSchemaType]] = SEGMENT_INDEXES,
) -> None:
    """Payload indexes make filters fast on a Qdrant server (the in-process engine scans
    payloads and ignores them)."""
    for key, schema in fields:
        client.create_payload_index(collection, key, field_schema=schema)


@dataclass(frozen=True)
class CollectionLayout:
    """How a collection is spread over a Qdrant cluster (VIDSEARCH_QDRANT_SHARDS,
    _REPLICATION, _WRITE_CONSISTENCY). Fixed when a collection is made; the in-process engine
    accepts and ignores it."""

    shards: int = 1
    replication: int = 1
    write_consistency: int = 1


class _Collection:
    """What every collection of ours does alike: look, make (with its layout and payload
    indexes, tolerating a writer that made it first), count, write in batches (making it again,
    once, when it is deleted under us), delete by id, read it page by page, and drop it."""

    client: QdrantClient
    collection: str
    layout: CollectionLayout
    payload_indexes: bool

    def _exists(self) -> bool:
        with _unreachable_is_transient():
            return bool(self.client.collection_exists(self.collection))

    def _vector_sizes(self) -> dict[str, int] | None:
        if not self._exists():
            return None
        with _unreachable_is_transient():
            params = self.client.get_collection(self.collection).config.params.vectors
        if not isinstance(params, dict):
            raise ValueError(f"collection {self.collection!r} has no named vectors")
        return {name: p.size for name, p in params.items()}

    def _create(
        self,
        sizes: dict[str, int],
        indexes: Sequence[tuple[str, qm.PayloadSchemaType]],
        sparse: dict[str, qm.SparseVectorParams] | None = None,
    ) -> None:
        with _unreachable_is_transient():
            try:
                self.client.create_collection(
                    self.collection,
                    vectors_config={
                        name: qm.VectorParams(size=size, distance=qm.Distance.COSINE)
                        for name, size in sizes.items()
                    },
                    sparse_vectors_config=sparse,
                    shard_number=self.layout.shards,
                    replication_factor=self.layout.replication,
                    write_consistency_factor=self.layout.write_consistency,
                )
            except Exception:
                # Another writer (a rebuild, a searcher mending a lost index, another worker)
                # made it between our look and our create: use theirs if its sizes agree.
                have = self._vector_sizes()
                if have is None:
                    raise
                if have != sizes:
                    raise ValueError(
                        f"collection {self.collection!r} holds vectors of sizes {have}, not "
                        f"{sizes}; rebuild the index from the catalog (vidsearch reindex --rebuild)"
                    ) from None
                return
            if self.payload_indexes:
                create_payload_indexes(self.client, self.collection, indexes)

    def _drop_collection(self) -> None:
        if self._exists():
            with _unreachable_is_transient():
                self.client.delete_collection(self.collection)

    def count(self) -> int:
        if not self._exists():
            return 0
        try:
            with _unreachable_is_transient(), _gone_is_empty():
                return int(self.client.count(self.collection, exact=True).count)
        except _Gone:
            return 0

    def _write(self, structs: list[qm.PointStruct], ensure: Callable[[], None]) -> None:
        """Upsert in batches, after ``ensure`` made the collection if it is missing."""
        if not structs:
            return
        for _attempt in range(2):  # a collection deleted under us is made again, once
            ensure()
            try:
                with _unreachable_is_transient(), _gone_is_empty():
                    for start in range(0, len(structs), BATCH):
                        self.client.upsert(self.collection, points=structs[start : start + BATCH])
                return
            except _Gone:
                continue
        raise TransientError(f"collection {self.collection!r} kept disappearing during a write")

    def _delete_ids(self, ids: list[str]) -> None:
        if not ids or not self._exists():
            return
        with _unreachable_is_transient():
            for start in range(0, len(ids), BATCH):
                selector = qm.PointIdsList(points=list(ids[start : start + BATCH]))
                self.client.delete(self.collection, points_selector=selector)

    def _scroll(self, **kwargs: Any) -> Iterator[Any]:
        if not self._exists():
            return
        offset = None
        try:
            with _unreachable_is_transient(), _gone_is_empty():
                while True:
                    records, offset = self.client.scroll(
                        self.collection, limit=1024, offset=offset, **kwargs
                    )
                    yield from records
                    if offset is None:
                        return
        except _Gone:
            return

    def _retrieve(self, ids: list[str], using: str) -> dict[str, np.ndarray]:
        """Point id -> its ``using`` vector, for the ids that have a point."""
        if not ids or not self._exists():
            return {}
        try:
            with _unreachable_is_transient(), _gone_is_empty():
                records = self.client.retrieve(
                    self.collection, ids=ids, with_vectors=[using], with_payload=False
                )
        except _Gone:
            return {}
        out = {}
        for r in records:
            vec = r.vector.get(using) if isinstance(r.vector, dict) else None
            if vec is not None:
                out[str(r.id)] = np.asarray(vec, dtype=np.float32)
        return out


class QdrantStore(_Collection):
    """``VectorStore`` on Qdrant: named dense vectors with cosine distance, and a sparse lexical
    vector whose IDF Qdrant applies at query time."""

    engine = "qdrant"

    def __init__(
        self,
        collection: str,
        *,
        url: str | None = None,
        client: QdrantClient | None = None,
        layout: CollectionLayout = CollectionLayout(),
        payload_indexes: bool | None = None,
    ) -> None:
        """``payload_indexes``: make them when a collection is made; default: on a server
        only (qdrant-client's in-process engine warns that it ignores them)."""
        if (url is None) == (client is None):
            raise ValueError("give a Qdrant server url or a client, not both or neither")
        self.collection = collection
        self.remote = client is None
        # No version handshake at construction: an unreachable server is found at first use.
        self.client = (
            client if client is not None else QdrantClient(url=url, check_compatibility=False)
        )
        self.layout = layout
        self.payload_indexes = self.remote if payload_indexes is None else payload_indexes
        # One point per video beside the segments, kept in step by core/vectors/sync.py: what
        # the recommender's recommend query reads in served mode.
        self.videos = QdrantVideoIndex(
            f"{collection}_videos",
            client=self.client,
            layout=layout,
            payload_indexes=self.payload_indexes,
        )

    def dims(self) -> dict[str, int] | None:
        return self._vector_sizes()

    def ensure_collection(self, video_dim: int, text_dim: int) -> None:
        if not check_dims(self.collection, self.dims(), video_dim, text_dim):
            return
        sparse = {LEXICAL: qm.SparseVectorParams(modifier=qm.Modifier.IDF)}
        self._create({"video": video_dim, "text": text_dim}, SEGMENT_INDEXES, sparse)

    def drop(self) -> None:
        """The segments and the video-level index beside them (both rebuilt from the catalog)."""
        self._drop_collection()
        self.videos.drop()

    def upsert(self, points: Sequence[SegmentPoint]) -> None:
        structs = [
            qm.PointStruct(
                id=p.id,
                vector={
                    "video": p.video_vector.tolist(),
                    "text": p.text_vector.tolist(),
                    LEXICAL: qm.SparseVector(indices=p.lexical.indices, values=p.lexical.values),
                },
                payload=p.payload,
            )
            for p in points
        ]
        if points:
            sizes = (len(points[0].video_vector), len(points[0].text_vector))
            self._write(structs, lambda: self.ensure_collection(*sizes))

    def delete(self, ids: Iterable[str]) -> None:
        self._delete_ids(list(ids))

    def revisions(self) -> dict[str, int]:
        records = self._scroll(with_payload=["revision", "payload_version"], with_vectors=False)
        return {str(r.id): payload_revision(r.payload or {}) for r in records}

    def video_point_ids(self, video_id: str) -> list[str]:
        flt = to_qdrant_filter(SearchFilter(video_ids=(video_id,)))
        records = self._scroll(scroll_filter=flt, with_payload=False, with_vectors=False)
        return [str(r.id) for r in records]

    def points(self) -> dict[str, dict[str, Any]]:
        records = self._scroll(with_payload=True, with_vectors=True)
        return {str(r.id): {"payload": r.payload, "vector": r.vector} for r in records}

    def _query(self, query: Any, using: str, limit: int, flt: qm.Filter | None) -> list[Hit]:
        if not self._exists():
            return []
        try:
            with _unreachable_is_transient(), _gone_is_empty():
                res = self.client.query_points(
                    self.collection,
                    query=query,
                    using=using,
                    limit=limit,
                    with_payload=True,
                    query_filter=flt,
                )
        except _Gone:
            return []
        return [Hit(str(p.id), float(p.score), p.payload or {}) for p in res.points]

    def search_dense(
        self, using: str, vector: np.ndarray, limit: int, flt: SearchFilter | None = None
    ) -> list[Hit]:
        # Segments with no caption have no text vector worth matching.
        extra = (
            [qm.FieldCondition(key="has_text", match=qm.MatchValue(value=True))]
            if using == "text"
            else []
        )
        return self._query(vector.tolist(), using, limit, to_qdrant_filter(flt, extra=extra))

    def search_lexical(
        self, query: SparseVector, limit: int, flt: SearchFilter | None = None
    ) -> list[Hit]:
        if query.is_empty():
            return []
        sparse = qm.SparseVector(indices=query.indices, values=query.values)
        return self._query(sparse, LEXICAL, limit, to_qdrant_filter(flt))

    def vectors(self, ids: Sequence[str], using: str) -> dict[str, np.ndarray]:
        return self._retrieve(list(ids), using)


class QdrantVideoIndex(_Collection):
    """One point per video (its segments' mean video vector, core/vectors/sync.py), cosine
    distance: the recommender's content candidates in served mode come from Qdrant's recommend
    query over it, so no process holds or scans every video's vector."""

    def __init__(
        self,
        collection: str,
        *,
        client: QdrantClient,
        layout: CollectionLayout = CollectionLayout(),
        payload_indexes: bool = False,
    ) -> None:
        self.collection = collection
        self.client = client
        self.layout = layout
        self.payload_indexes = payload_indexes

    def dim(self) -> int | None:
        sizes = self._vector_sizes()
        if sizes is None:
            return None
        if VIDEO not in sizes:
            raise ValueError(f"collection {self.collection!r} has no {VIDEO!r} vector")
        return int(sizes[VIDEO])

    def ensure_collection(self, dim: int) -> None:
        have = self.dim()
        if have == dim:
            return
        if have is not None:
            raise ValueError(
                f"collection {self.collection!r} holds video vectors of size {have}, not {dim}; "
                "rebuild the index from the catalog (vidsearch reindex --rebuild)"
            )
        self._create({VIDEO: dim}, VIDEO_INDEXES)

    def drop(self) -> None:
        self._drop_collection()

    def upsert(self, points: Sequence[VideoPoint]) -> None:
        structs = [
            qm.PointStruct(id=p.id, vector={VIDEO: p.vector.tolist()}, payload=p.payload)
            for p in points
        ]
        if points:
            dim = len(points[0].vector)
            self._write(structs, lambda: self.ensure_collection(dim))

    def delete(self, video_ids: Iterable[str]) -> None:
        self._delete_ids([video_point_id(v) for v in video_ids])

    def revisions(self) -> dict[str, int]:
        """Video id -> the revision its point was written from."""
        records = self._scroll(
            with_payload=["video_id", "revision", "payload_version"], with_vectors=False
        )
        out: dict[str, int] = {}
        for r in records:
            payload = r.payload or {}
            out[str(payload.get("video_id"))] = video_payload_revision(payload)
        return out

    def vectors(self, video_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Video id -> its vector (unit length: Qdrant normalizes cosine vectors on upsert), for
        the videos that have a point."""
        by_point = {video_point_id(v): v for v in video_ids}
        found = self._retrieve(list(by_point), VIDEO)
        return {by_point[pid]: vec for pid, vec in found.items()}

    def recommend(
        self, positive: np.ndarray | None, negative: np.ndarray | None, limit: int
    ) -> dict[str, float]:
        """The `limit` videos whose unit vectors score highest against ``positive - negative``
        (each a vector or None), as {video id: that dot product}: Qdrant's recommend query with
        ``positive`` as the positive example and ``negative`` as the negative one.

        Qdrant's average_vector strategy searches for avg(pos) + (avg(pos) - avg(neg)), so a
        negative example of 2 x ``negative`` makes its query 2 x (positive - negative): the
        direction asked for. Its score is a cosine to that direction; times the direction's
        norm it is the dot product, the scale the in-process scan gives. Examples are raw
        vectors because Qdrant's examples carry no weights: the caller folds its weights into
        them. With no positive at all (average_vector needs one) it is the nearest query."""
        dim = next((len(v) for v in (positive, negative) if v is not None), 0)
        direction = np.zeros(dim, np.float32)
        if positive is not None:
            direction += positive
        if negative is not None:
            direction -= negative
        norm = float(np.linalg.norm(direction))
        if norm < 1e-9 or limit <= 0 or not self._exists():
            return {}
        query: qm.RecommendQuery | qm.NearestQuery
        if positive is not None:
            recommend = qm.RecommendInput(
                positive=[np.asarray(positive, np.float32).tolist()],
                negative=None if negative is None else [(2.0 * negative).tolist()],
                strategy=qm.RecommendStrategy.AVERAGE_VECTOR,
            )
            query = qm.RecommendQuery(recommend=recommend)
        else:
            query = qm.NearestQuery(nearest=direction.tolist())
        try:
            with _unreachable_is_transient(), _gone_is_empty():
                res = self.client.query_points(
                    self.collection,
                    query=query,
                    using=VIDEO,
                    limit=limit,
                    with_payload=["video_id"],
                )
        except _Gone:
            return {}
        return {str((p.payload or {})["video_id"]): float(p.score) * norm for p in res.points}
