"""Summaries: the BART path on a tiny random BART saved to a folder, the extractive path on MiniLM."""

from __future__ import annotations

import numpy as np
import pytest

from core.db import session_scope
from core.models import Segment, Summary, Video
from search.summary import (
    BartSummarizer,
    Summaries,
    TimedSentence,
    clock,
    extractive_summary,
    mmr,
    summaries_for,
    timeline,
)
from tests.catalog_helpers import add_ready_video

STORY = [
    "The baker wakes at four and lights the oven.",
    "Flour, water and salt are mixed into a stiff dough.",
    "The dough rests under a cloth while the oven heats.",
    "Loaves are shaped by hand and scored with a razor.",
    "The bread bakes for forty minutes until the crust is dark.",
    "Customers queue outside before the shop opens at seven.",
]


def test_clock_formats_minutes_and_hours():
    assert clock(0) == "0:00" and clock(75.9) == "1:15" and clock(3725) == "1:02:05"


def test_timeline_splits_speech_into_sentences_and_describes_silent_segments():
    dark = '{"dark": 0.9, "grey": 0.2, "colourful": 0.1, "blue": 0.05}'
    segs = [
        Segment(index=0, start=0.0, end=3.0, transcript="Hello there. How are you?", tags=""),
        Segment(index=1, start=3.0, end=6.0, transcript="", tags="tabby cat", looks=dark),
        Segment(index=2, start=6.0, end=9.0, transcript="", tags="tabby cat", looks=dark),
        Segment(index=3, start=9.0, end=12.0, transcript="", tags="", looks=dark),
        Segment(index=4, start=12.0, end=15.0, transcript="", tags="", looks=None),
    ]
    got = timeline(segs)
    # Each spoken sentence covers its share of the segment, so no two start at one time.
    assert [(s.text, round(s.start, 2), round(s.end or 0, 2)) for s in got[:2]] == [
        ("Hello there.", 0.0, 1.5),
        ("How are you?", 1.5, 3.0),
    ]
    # Silent stretches say what is seen (hedged tags, looks), one line while it stays the same.
    assert [(s.text, s.start, s.end, s.spoken) for s in got[2:]] == [
        ("Shows tabby cat; dark.", 3.0, 9.0, False),
        ("A dark scene.", 9.0, 12.0, False),
        ("Nothing the picture model can name.", 12.0, 15.0, False),
    ]


def test_every_summary_line_names_the_stretch_it_covers():
    from search.summary import span

    assert span(0, 24.2) == "0:00–0:24" and span(7, 7.4) == "0:07" and span(3, None) == "0:03"
    sentences = [TimedSentence(i * 10.0, f"line {i}", i * 10.0 + 9.0) for i in range(3)]
    text = extractive_summary(sentences, _fake_embed, k=3)
    assert text.splitlines() == ["0:00–0:09 – line 0", "0:10–0:19 – line 1", "0:20–0:29 – line 2"]


def _fake_embed(texts: list[str]) -> np.ndarray:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(texts), 8))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_mmr_prefers_relevant_items_that_do_not_repeat_each_other():
    relevance = np.array([1.0, 0.99, 0.5])
    similarity = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=float)
    assert mmr(relevance, similarity, k=2, diversity=0.5) == [0, 2]


@pytest.mark.real_models
def test_extractive_summary_cites_timestamps_with_sentences_from_the_transcript():
    from videobert.text import TextEncoder

    enc = TextEncoder()
    sentences = [TimedSentence(10.0 * i, s) for i, s in enumerate(STORY)]
    text = extractive_summary(sentences, enc.encode, k=3)
    lines = text.splitlines()
    assert 1 <= len(lines) <= 3 and len(text) <= 900
    for line in lines:
        stamp, sentence = line.split(" – ", 1)
        assert sentence in STORY
        assert stamp == clock(10.0 * STORY.index(sentence))  # each cites its own moment
    stamps = [STORY.index(line.split(" – ", 1)[1]) for line in lines]
    assert stamps == sorted(stamps)  # in the order they happen
    focused = extractive_summary(sentences, enc.encode, k=1, focus="queue of customers at the shop")
    assert "Customers queue" in focused


# --- BART, tiny and random -------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_bart(tmp_path_factory):
    """A random BART with a 64-token input window and a small BPE tokenizer, saved like a checkpoint."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import BartConfig, BartForConditionalGeneration, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bart")
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    bpe.train_from_iterator(STORY * 3, trainers.BpeTrainer(vocab_size=300, special_tokens=specials))
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
        model_max_length=64,
    )
    tok.save_pretrained(folder)
    config = BartConfig(
        vocab_size=len(tok),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=37,
        decoder_ffn_dim=37,
        max_position_embeddings=64,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id,
        forced_eos_token_id=tok.eos_token_id,
    )
    import torch

    torch.manual_seed(0)
    BartForConditionalGeneration(config).save_pretrained(folder)
    return folder


def test_a_missing_checkpoint_means_extractive_never_a_download(tmp_path):
    bart = BartSummarizer(str(tmp_path / "no-such-model"))
    assert not bart.available()
    assert not BartSummarizer("facebook/bart-large-cnn-not-cached").available()


def test_long_input_is_chunked_within_the_window(tiny_bart):
    bart = BartSummarizer(str(tiny_bart), max_summary_tokens=8)
    sentences = [TimedSentence(5.0 * i, s) for i, s in enumerate(STORY * 4)]
    pieces = bart.chunks(sentences)
    assert len(pieces) > 1
    tok, _ = bart.load()
    for piece in pieces:
        n = len(tok(" ".join(s.text for s in piece), add_special_tokens=True)["input_ids"])
        assert n <= bart.input_limit()
    assert [s for p in pieces for s in p] == sentences  # nothing lost, order kept


def test_map_reduce_gives_an_overview_and_a_stamped_line_per_chunk(tiny_bart, monkeypatch):
    bart = BartSummarizer(str(tiny_bart), max_summary_tokens=8)
    calls = []
    real = bart._generate
    monkeypatch.setattr(bart, "_generate", lambda text: calls.append(text) or real(text))
    sentences = [TimedSentence(5.0 * i, s) for i, s in enumerate(STORY * 4)]
    out = bart.summarize(sentences).splitlines()
    chunks = bart.chunks(sentences)
    assert len(out) == 1 + len(chunks)
    assert [line.split(" – ")[0] for line in out[1:]] == [clock(c[0].start) for c in chunks]
    assert len(calls) >= len(chunks) + 1  # map over chunks, then reduce


def _video_with_story(settings, name="bakery.mp4"):
    vid = add_ready_video(settings, name, [" ".join(STORY[:3]), " ".join(STORY[3:])])
    return vid


def test_summaries_are_cached_per_video_model_and_content(settings, tiny_bart, monkeypatch):
    settings = settings.model_copy(update={"summary_model": str(tiny_bart)})
    service = summaries_for(settings, embed_text=None)
    vid = _video_with_story(settings)
    generated = []
    real = service.bart.summarize
    monkeypatch.setattr(
        service.bart, "summarize", lambda s, focus=None: generated.append(1) or real(s, focus)
    )
    with session_scope(settings) as s:
        first = service.for_video(session=s, video_id=vid)
    with session_scope(settings) as s:
        again = service.for_video(session=s, video_id=vid)
    assert first.method == "bart" and first.model == str(tiny_bart)
    assert again == first and len(generated) == 1

    with session_scope(settings) as s:  # re-indexed with other words: the cache is stale
        s.get(Video, vid).segments[0].transcript = "Completely different words now."
    with session_scope(settings) as s:
        service.for_video(session=s, video_id=vid)
        assert s.query(Summary).filter_by(video_id=vid).count() == 1  # the stale one was replaced
    assert len(generated) == 2


@pytest.mark.real_models
def test_a_changed_model_regenerates_and_extractive_says_so(settings, tiny_bart):
    from videobert.text import TextEncoder

    vid = _video_with_story(settings)
    extractive = Summaries(
        embed_text=TextEncoder().encode, bart=BartSummarizer(str(settings.home / "none"))
    )
    with session_scope(settings) as s:
        result = extractive.for_video(session=s, video_id=vid)
    assert result.method == "extractive" and "0:00 – " in result.summary
    bart = Summaries(embed_text=None, bart=BartSummarizer(str(tiny_bart), max_summary_tokens=8))
    with session_scope(settings) as s:
        assert bart.for_video(session=s, video_id=vid).method == "bart"
        assert {x.method for x in s.query(Summary).filter_by(video_id=vid)} == {"bart"}


def test_summary_of_an_unknown_or_unready_video_is_a_lookup_error(settings, tiny_bart):
    service = Summaries(embed_text=None, bart=BartSummarizer(str(tiny_bart)))
    vid = add_ready_video(settings, "busy.mp4", ["x"], status="processing")
    with session_scope(settings) as s:
        with pytest.raises(LookupError, match="no video"):
            service.for_video(session=s, video_id="nope")
        with pytest.raises(LookupError, match="processing"):
            service.for_video(session=s, video_id=vid)
