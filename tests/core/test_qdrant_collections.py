"""How the Qdrant engine makes its collections: the cluster layout from the settings and a payload
index for every field a filter reads, on the segment collection and the video-level one beside
it. Qdrant's local engine accepts and ignores both, so the test reads the client's calls."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from core.settings import Settings
from core.vectors import SearchFilter, open_vector_store, open_video_index
from core.vectors.qdrant_engine import CollectionLayout, QdrantStore, to_qdrant_filter
from core.vectors.sync import VideoPoint
from tests.catalog_helpers import add_ready_video


class RecordingClient(QdrantClient):
    """A real local client that also records how collections and payload indexes are made."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.created: dict[str, dict[str, Any]] = {}
        self.indexed: dict[str, dict[str, Any]] = {}

    def create_collection(self, collection_name: str, **kwargs: Any) -> bool:  # type: ignore[override]
        self.created[collection_name] = kwargs
        return super().create_collection(collection_name, **kwargs)

    def create_payload_index(  # type: ignore[override]
        self, collection_name: str, field_name: str, **kwargs: Any
    ) -> Any:
        self.indexed.setdefault(collection_name, {})[field_name] = kwargs["field_schema"]
        return super().create_payload_index(collection_name, field_name, **kwargs)


def _filtered_fields() -> set[str]:
    """Every payload key the filter translation can produce, read from its output."""
    every = SearchFilter(
        min_duration=1.0,
        max_duration=2.0,
        ingested_after=0.0,
        ingested_before=1.0,
        has_speech=True,
        folder="/videos",
        video_ids=("a",),
        exclude_video_ids=("b",),
    )
    has_text = qm.FieldCondition(key="has_text", match=qm.MatchValue(value=True))
    flt = to_qdrant_filter(every, extra=[has_text])
    assert flt is not None
    conditions = [*(flt.must or []), *(flt.must_not or [])]  # type: ignore[misc]
    return {c.key for c in conditions if isinstance(c, qm.FieldCondition)}


def _fill(store: QdrantStore, settings: Settings) -> None:
    from core.db import session_scope
    from core.vectors import sync_from_catalog

    add_ready_video(settings, "a", ["a cat"], dim=8)
    with session_scope(settings) as s:
        sync_from_catalog(store, s)


def test_the_cluster_settings_reach_both_collections_when_they_are_made(tmp_path):
    settings = Settings(
        home=tmp_path,
        qdrant_shards=6,
        qdrant_replication=2,
        qdrant_write_consistency=2,
        qdrant_collection="clips",
    )
    client = RecordingClient()
    store = open_vector_store(settings, client=client)
    assert isinstance(store, QdrantStore)
    _fill(store, settings)
    assert set(client.created) == {"clips", "clips_videos"}
    for kwargs in client.created.values():
        assert kwargs["shard_number"] == 6
        assert kwargs["replication_factor"] == 2
        assert kwargs["write_consistency_factor"] == 2


def test_the_default_layout_is_one_shard_and_one_copy(tmp_path):
    client = RecordingClient()
    index = open_video_index(Settings(home=tmp_path), client=client)
    assert index is not None
    index.upsert([VideoPoint("a", np.ones(4, np.float32), {"video_id": "a"})])
    (kwargs,) = client.created.values()
    assert (kwargs["shard_number"], kwargs["replication_factor"]) == (1, 1)
    assert kwargs["write_consistency_factor"] == 1


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_every_field_a_filter_reads_is_indexed_on_both_collections(tmp_path):
    settings = Settings(home=tmp_path)
    client = RecordingClient()
    store = QdrantStore("segments", client=client, layout=CollectionLayout(), payload_indexes=True)
    _fill(store, settings)
    fields = _filtered_fields()
    assert fields >= {"video_id", "duration", "ingested_at", "video_has_speech", "folders"}
    assert set(client.indexed["segments"]) == fields
    # A video point has no text vector, so no has_text; every other filter applies to it.
    assert set(client.indexed["segments_videos"]) == fields - {"has_text"}
    assert client.indexed["segments"]["video_id"] == qm.PayloadSchemaType.KEYWORD
    assert client.indexed["segments"]["duration"] == qm.PayloadSchemaType.FLOAT


def test_a_server_store_makes_payload_indexes_and_a_handed_in_local_client_does_not(tmp_path):
    served = Settings(home=tmp_path, qdrant_url="http://127.0.0.1:9")
    store = open_vector_store(served)
    assert isinstance(store, QdrantStore)
    assert store.payload_indexes and store.videos.payload_indexes
    local = open_vector_store(Settings(home=tmp_path), client=QdrantClient(":memory:"))
    assert isinstance(local, QdrantStore) and not local.payload_indexes


def test_the_embedded_default_has_no_video_index(tmp_path):
    assert open_video_index(Settings(home=tmp_path)) is None
