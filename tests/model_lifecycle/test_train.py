"""`vidsearch train` on a tiny subtitled library: a checkpoint, a re-embed, one atomic swap
(search stays in the old space until it), resume after an interruption (real shipped weights,
a few steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.arrays import unpack_f32
from core.db import session_scope
from core.models import EmbeddingSpace, Segment, Video
from core.settings import Settings
from indexer.media import Cue, write_video
from indexer.pipeline import run_ingest_job
from services.ingest import create_jobs
from tests.conftest import colour_shots

SUBTITLED = [
    ("a red balloon rises over the town", "a green field of barley at harvest"),
    ("the blue sea at dawn", "a yellow taxi waits at the corner"),
    ("purple flowers in a glass vase", "snow falls on the mountain hut"),
]


def tiny_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        home=tmp_path / "home",
        device="cpu",
        transcribe=False,  # subtitles give the text; Whisper would only cost time
        summaries_at_index=False,
        train_batch_size=4,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def make_library(folder: Path, n: int = 3) -> list[Path]:
    """Two-shot clips whose shots are subtitled, one of them by a sidecar .srt."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (first, second) in enumerate(SUBTITLED[:n]):
        cues = [Cue(0.2, 2.6, first)]
        path = write_video(
            folder / f"clip{i}.mkv",
            colour_shots([3.0, 3.0], seed=i),
            subtitles=cues if i else [*cues, Cue(3.2, 5.6, second)],
        )
        if i:  # the second shot's words come from a sidecar file
            path.with_suffix(".srt").write_text(f"1\n00:00:03,200 --> 00:00:05,600\n{second}\n")
        paths.append(path)
    return paths


def ingest(settings: Settings, paths: list[Path]) -> None:
    for job_id in create_jobs(paths, settings):
        assert run_ingest_job(job_id, settings=settings) == "succeeded"


# ---------------------------------------------------------------------- pure parts


def test_a_small_library_gets_a_shallower_codebook() -> None:
    from model_lifecycle.train import codebook_shape

    assert codebook_shape(100_000, 12, 2) == (12, 2)  # 144 words, ~700 clips each
    assert codebook_shape(209, 12, 2) == (12, 1)  # the dev set: 12 words
    assert codebook_shape(20, 12, 2) == (5, 1)
    assert codebook_shape(3, 12, 4) == (2, 1)


def test_examples_are_speech_segments_and_optionally_silent_stretches_of_16_clips() -> None:
    from transformers import BertTokenizer

    from model_lifecycle.train import LibrarySegment, build_examples
    from videobert.kmeans import fit_codebook

    words = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]", "hello", "world", "cat", "dog", ","]
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(words)})
    rng = np.random.default_rng(0)

    def seg(video: str, index: int, clips: int, transcript: str = "", tags=()):  # type: ignore[no-untyped-def]
        feats = rng.normal(size=(clips, 6)).astype(np.float32)
        return LibrarySegment(video, index, transcript, tuple(tags), feats)

    segments = [
        seg("a", 0, 4, "hello world"),
        seg("a", 1, 8, tags=["cat"]),
        seg("a", 2, 8, tags=["dog"]),
        seg("a", 3, 8, tags=["cat"]),  # 24 silent clips in a row: 16 + 8
        seg("a", 4, 2, "world"),
        seg("b", 0, 3),  # no speech, no tags: nothing to learn from
    ]
    codebook = fit_codebook(np.concatenate([s.clips for s in segments]), k=3, depth=1)
    speech = build_examples(segments, codebook, tokenizer, max_text_tokens=16)
    assert [(len(e.text_ids), e.num_clips, e.group) for e in speech] == [(2, 4, "a"), (1, 2, "a")]
    assert speech[0].visual_ids == codebook.assign(segments[0].clips, exact=True).tolist()

    both = build_examples(segments, codebook, tokenizer, max_text_tokens=16, silent=True)
    texts = [tokenizer.decode(e.text_ids) for e in both]
    assert [e.num_clips for e in both] == [4, 16, 8, 2]
    assert texts == ["hello world", "cat, dog", "cat", "world"]  # each stretch: its own tags


def catalog(settings: Settings) -> dict[tuple[str, int], dict]:
    with session_scope(settings) as s:
        return {
            (v.id, x.index): {
                "model": v.embedding_model,
                "next_model": v.next_embedding_model,
                "revision": v.revision,
                "video": unpack_f32(x.video_vector),
                "text": unpack_f32(x.text_vector),
                "next_video": None
                if x.next_video_vector is None
                else unpack_f32(x.next_video_vector),
                "next_text": None if x.next_text_vector is None else unpack_f32(x.next_text_vector),
                "caption": x.caption,
            }
            for v in s.query(Video)
            for x in v.segments
        }


@pytest.mark.real_models
def test_search_moves_to_the_trained_model_only_when_every_video_is_re_embedded(tmp_path):
    from model_lifecycle.active import load_embedder, relative_to_home
    from model_lifecycle.calibration import calibration_for, save_calibration, threshold_for
    from model_lifecycle.reembed import reembed_library, reembed_video, try_swap
    from model_lifecycle.spaces import ModelRef, begin_transition
    from model_lifecycle.train import train_library
    from search.service import SearchService
    from videobert.checkpoint import checkpoint_name, read_meta

    settings = tiny_settings(tmp_path)
    ingest(settings, make_library(tmp_path / "media"))
    service = SearchService(settings, load_embedder(settings))
    zero_shot = service.embedder.name
    before = catalog(settings)
    assert {row["model"] for row in before.values()} == {zero_shot}
    baseline = service.signals("a yellow taxi waits")

    # The zero-shot model's cut-off, recorded with its calibration, passes to the trained one.
    save_calibration(
        settings.home, zero_shot, calibration_for(settings.home, zero_shot), threshold=0.2
    )
    outcome = train_library(settings, steps=2)
    assert read_meta(outcome.checkpoint)["step"] == 2 and outcome.trained_steps == 2
    assert outcome.examples == 6  # every subtitled shot is a training segment
    ref = ModelRef(
        checkpoint_name(outcome.checkpoint), relative_to_home(settings.home, outcome.checkpoint)
    )
    assert ref.name.startswith("videobert:") and ref.name != zero_shot
    assert threshold_for(settings.home, ref.name) == 0.2
    begin_transition(settings, ref)

    # One video re-embedded, two to go: nothing changes for search.
    first = sorted({vid for vid, _ in before})[0]
    assert reembed_video(settings, first, space=ref.name) == "done"
    assert reembed_video(settings, first, space=ref.name) == "already"
    attempt = try_swap(settings)
    assert not attempt.swapped and attempt.missing == 2
    during = catalog(settings)
    for key, row in during.items():
        assert row["model"] == zero_shot and np.array_equal(row["video"], before[key]["video"])
        assert (row["next_model"] == ref.name) == (key[0] == first)
    assert service.embedder.name == zero_shot
    again = service.signals("a yellow taxi waits")
    assert [(h.id, round(h.score, 5)) for h in again["text"]] == [
        (h.id, round(h.score, 5)) for h in baseline["text"]
    ]

    # A video ingested now is written in both spaces.
    late = write_video(
        tmp_path / "media" / "late.mkv",
        colour_shots([3.0], seed=9),
        subtitles=[Cue(0.2, 2.5, "an orange kite")],
    )
    ingest(settings, [late])
    rows = catalog(settings)
    late_rows = [r for (vid, _), r in rows.items() if vid not in {v for v, _ in before}]
    assert late_rows and all(
        r["model"] == zero_shot and r["next_model"] == ref.name and r["next_video"] is not None
        for r in late_rows
    )

    swap = reembed_library(settings)
    assert swap.swapped and swap.active == ref.name
    after = catalog(settings)
    for key, row in after.items():
        assert row["model"] == ref.name and row["next_video"] is None and row["next_text"] is None
        if key in during and key[0] == first:  # the vectors filled before are the ones swapped in
            np.testing.assert_array_equal(row["video"], during[key]["next_video"])
        if key in before:
            assert row["revision"] == before[key]["revision"] + 1
            assert not np.allclose(row["video"], before[key]["video"])
    with session_scope(settings) as s:
        spaces = {e.role: (e.name, e.checkpoint) for e in s.query(EmbeddingSpace)}
    assert spaces == {"active": (ref.name, ref.checkpoint)}

    # Queries now embed with the trained model, and the index re-synced to the new vectors.
    assert service.embedder.name == ref.name
    hits = service.signals("a yellow taxi waits")["text"]
    query = service.embedder.embed_text(["a yellow taxi waits"])[0]
    best = max(float(r["text"] @ query) for r in after.values() if r["caption"].strip())
    assert hits and hits[0].score == pytest.approx(best, abs=1e-4)


@pytest.mark.real_models
def test_the_cli_trains_swaps_and_a_second_run_finds_nothing_to_do(tmp_path, cli, settings):
    ingest(settings, make_library(tmp_path / "media", 2))
    code, out = cli("train", "--steps", "2", "--device", "cpu", "--json")
    assert code == 0, out
    (report,) = out
    assert report["swapped"] and report["active"] == report["model"]
    assert report["trained_steps"] == 2 and Path(report["checkpoint"]).is_dir()
    with session_scope(settings) as s:
        assert {v.embedding_model for v in s.query(Video)} == {report["model"]}
        assert s.query(Segment).filter(Segment.next_video_vector.is_not(None)).count() == 0

    code, out = cli("train", "--steps", "2", "--json")
    assert code == 0 and out[0]["trained_steps"] == 0 and out[0]["swapped"] is False
    assert out[0]["note"] == "this model is already active"


class _Stop(Exception):
    pass


@pytest.mark.real_models
def test_an_interrupted_training_resumes_from_its_last_checkpoint(tmp_path):
    from model_lifecycle.train import train_library
    from videobert.checkpoint import latest_checkpoint, read_meta

    settings = tiny_settings(tmp_path, train_checkpoint_every=1, train_mix=1.0)
    ingest(settings, make_library(tmp_path / "media", 2))
    seen: list[int] = []

    def stop_after_two(step: int, steps: int, losses: dict[str, float]) -> None:
        seen.append(step)
        assert np.isfinite(losses["loss"])
        if step == 2:
            raise _Stop

    with pytest.raises(_Stop):
        train_library(settings, steps=3, progress=stop_after_two)
    (run,) = (settings.home / "models" / "videobert").iterdir()
    assert latest_checkpoint(run) == run / "step-00000002"

    resumed: list[int] = []
    outcome = train_library(settings, steps=3, progress=lambda s, n, _: resumed.append(s))
    assert seen == [1, 2] and resumed == [3]
    assert outcome.trained_steps == 1 and outcome.checkpoint == run / "step-00000003"
    assert read_meta(outcome.checkpoint)["step"] == 3
    assert not (run / "step-00000002").exists()  # a finished run keeps its last step only


@pytest.mark.real_models
def test_training_needs_speech_and_a_videobert_embedder(cli, settings, make_clip, monkeypatch):
    ingest(settings, [make_clip("silent.mp4", [3.0])])
    code, _ = cli("train", "--steps", "1")
    assert code == 2  # no speech: nothing to train on (the reason goes to stderr)
    monkeypatch.setenv("VIDSEARCH_EMBEDDER", "bridge")
    code, _ = cli("train", "--steps", "1")
    assert code == 2
