"""The Qdrant engine, and the only module that imports ``qdrant_client``: a Qdrant server
(``VIDSEARCH_QDRANT_URL``) or any ``QdrantClient`` handed in (the contract tests use
qdrant-client's own in-process engine, ``QdrantClient(":memory:")``).

A server that does not answer is a fault to retry (``TransientError``), never a reason to fail
a job.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
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

BATCH = 256


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


def create_payload_indexes(client: QdrantClient, collection: str) -> None:
    """The one server-only step: payload indexes make filters fast on a Qdrant server (the
    in-process engine scans payloads and ignores them)."""
    for key, schema in (
        ("video_id", qm.PayloadSchemaType.KEYWORD),
        ("duration", qm.PayloadSchemaType.FLOAT),
        ("ingested_at", qm.PayloadSchemaType.FLOAT),
        ("video_has_speech", qm.PayloadSchemaType.BOOL),
        ("has_text", qm.PayloadSchemaType.BOOL),
        ("folders", qm.PayloadSchemaType.KEYWORD),
    ):
        client.create_payload_index(collection, key, field_schema=schema)


class QdrantStore:
    """``VectorStore`` on Qdrant: named dense vectors with cosine distance, and a sparse lexical
    vector whose IDF Qdrant applies at query time."""

    engine = "qdrant"

    def __init__(
        self, collection: str, *, url: str | None = None, client: QdrantClient | None = None
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError("give a Qdrant server url or a client, not both or neither")
        self.collection = collection
        self.remote = client is None
        # No version handshake at construction: an unreachable server is found at first use.
        self.client = (
            client if client is not None else QdrantClient(url=url, check_compatibility=False)
        )

    def _exists(self) -> bool:
        with _unreachable_is_transient():
            return bool(self.client.collection_exists(self.collection))

    def dims(self) -> dict[str, int] | None:
        if not self._exists():
            return None
        with _unreachable_is_transient():
            params = self.client.get_collection(self.collection).config.params.vectors
        if not isinstance(params, dict):
            raise ValueError(f"collection {self.collection!r} has no named vectors")
        return {name: p.size for name, p in params.items()}

    def ensure_collection(self, video_dim: int, text_dim: int) -> None:
        if not check_dims(self.collection, self.dims(), video_dim, text_dim):
            return
        with _unreachable_is_transient():
            try:
                self.client.create_collection(
                    self.collection,
                    vectors_config={
                        "video": qm.VectorParams(size=video_dim, distance=qm.Distance.COSINE),
                        "text": qm.VectorParams(size=text_dim, distance=qm.Distance.COSINE),
                    },
                    sparse_vectors_config={
                        LEXICAL: qm.SparseVectorParams(modifier=qm.Modifier.IDF)
                    },
                )
            except Exception:
                # Another writer (a rebuild, a searcher mending a lost index, another worker)
                # made it between our check and our create: use theirs if its sizes agree.
                if not self._exists():
                    raise
                check_dims(self.collection, self.dims(), video_dim, text_dim)
                return
            if self.remote:
                create_payload_indexes(self.client, self.collection)

    def drop(self) -> None:
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

    def upsert(self, points: Sequence[SegmentPoint]) -> None:
        if not points:
            return
        for _attempt in range(2):  # a collection deleted under us is made again, once
            self.ensure_collection(len(points[0].video_vector), len(points[0].text_vector))
            try:
                with _unreachable_is_transient(), _gone_is_empty():
                    for start in range(0, len(points), BATCH):
                        self.client.upsert(
                            self.collection,
                            points=[
                                qm.PointStruct(
                                    id=p.id,
                                    vector={
                                        "video": p.video_vector.tolist(),
                                        "text": p.text_vector.tolist(),
                                        LEXICAL: qm.SparseVector(
                                            indices=p.lexical.indices, values=p.lexical.values
                                        ),
                                    },
                                    payload=p.payload,
                                )
                                for p in points[start : start + BATCH]
                            ],
                        )
                return
            except _Gone:
                continue
        raise TransientError(f"collection {self.collection!r} kept disappearing during a write")

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
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
        if not ids or not self._exists():
            return {}
        try:
            with _unreachable_is_transient(), _gone_is_empty():
                records = self.client.retrieve(
                    self.collection, ids=list(ids), with_vectors=[using], with_payload=False
                )
        except _Gone:
            return {}
        out = {}
        for r in records:
            vec = r.vector.get(using) if isinstance(r.vector, dict) else None
            if vec is not None:
                out[str(r.id)] = np.asarray(vec, dtype=np.float32)
        return out
