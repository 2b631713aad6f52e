"""Per-video summaries citing timestamps: BART when a checkpoint is on disk, else an honest
extractive summary (MMR over MiniLM sentence embeddings) that says so. Cached per
(video, model, content hash) in the catalog and rebuilt when either changes."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core import summaries as repo
from core.catalog import get_video, segments_at
from core.looks import looks_from_text
from core.models import Segment, VideoStatus
from core.people import people_from_text, screen_lines
from core.settings import Settings
from core.timecode import clock
from search import describe
from search.types import SummaryResult
from videobert.model_files import locate_checkpoint
from videobert.registry import MODELS, HubCheckpoint, ModelMissing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

EXTRACTIVE = "extractive"
# The extractive method's name in the cache: bump the version when the method changes.
EXTRACTIVE_MODEL = "mmr-minilm-v3"  # v3: spans per sentence, silent stretches described
ABSTRACTIVE = "bart"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class TimedSentence:
    start: float
    text: str
    end: float | None = None  # the stretch it covers; None: a point in time
    spoken: bool = True  # said in the video, as opposed to what is seen in a silent stretch


def span(start: float, end: float | None) -> str:
    """ "0:07" for a moment, "0:00–0:24" for a stretch."""
    if end is None or clock(end) == clock(start):
        return clock(start)
    return f"{clock(start)}–{clock(end)}"


def _spoken(seg: Segment) -> list[TimedSentence]:
    """The segment's sentences, each given the share of the segment's time its characters take:
    the catalog keeps a segment's words, not their times, and speech runs at an even pace to
    within a few seconds, which is what a summary line needs."""
    parts = [p.strip() for p in _SENTENCE_END.split(seg.transcript.strip()) if p.strip()]
    total = sum(len(p) for p in parts) or 1
    length = max(0.0, seg.end - seg.start)
    out, done = [], 0
    for part in parts:
        start = seg.start + length * done / total
        done += len(part)
        out.append(TimedSentence(start, part, seg.start + length * done / total))
    return out


def timeline(segments: Sequence[Segment]) -> list[TimedSentence]:
    """What the video says, sentence by sentence with the stretch each covers, and what it shows
    where nothing is said: consecutive silent segments that look alike are one stretch."""
    out: list[TimedSentence] = []
    last_shown = ""  # the on-screen line last said beside speech: said again only when it changes
    for seg in segments:
        on_screen = screen_lines(seg.screen_text)
        if seg.transcript.strip():
            out += _spoken(seg)
            shown = describe.screen_sentence(on_screen)
            if shown and shown != last_shown:
                out.append(TimedSentence(seg.start, shown, seg.end, spoken=False))
            last_shown = shown
            continue
        last_shown = ""
        said = describe.sentence(
            seg.tags, looks_from_text(seg.looks), people_from_text(seg.people), on_screen
        )
        last = out[-1] if out else None
        if last is not None and not last.spoken and last.text == said:
            out[-1] = TimedSentence(last.start, said, seg.end, spoken=False)
        else:
            out.append(TimedSentence(seg.start, said, seg.end, spoken=False))
    return out


def content_hash(sentences: Sequence[TimedSentence]) -> str:
    return hashlib.sha256(
        "\n".join(f"{s.start:.2f}-{s.end or 0:.2f} {s.text}" for s in sentences).encode()
    ).hexdigest()


def mmr(relevance: np.ndarray, similarity: np.ndarray, k: int, diversity: float = 0.3) -> list[int]:
    """Maximal marginal relevance: relevant items that do not repeat each other."""
    chosen: list[int] = []
    candidates = list(range(len(relevance)))
    while candidates and len(chosen) < k:

        def gain(i: int) -> float:
            redundancy = max((similarity[i, j] for j in chosen), default=0.0)
            return (1 - diversity) * relevance[i] - diversity * redundancy

        best = max(candidates, key=gain)
        chosen.append(best)
        candidates.remove(best)
    return chosen


def extractive_summary(
    sentences: Sequence[TimedSentence],
    embed: Any,
    *,
    k: int,
    focus: str | None = None,
    max_chars: int = 900,
) -> str:
    """k sentences chosen by MMR (central to the video, or to ``focus``), in time order, timestamped."""
    if not sentences:
        return ""
    vectors = embed([s.text for s in sentences])  # unit vectors
    target = embed([focus])[0] if focus else vectors.mean(axis=0)
    relevance = vectors @ target
    picked = sorted(mmr(relevance, vectors @ vectors.T, k))  # sentences are in time order already
    lines: list[str] = []
    for i in picked:
        line = f"{span(sentences[i].start, sentences[i].end)} – {sentences[i].text}"
        if lines and sum(len(x) + 1 for x in lines) + len(line) > max_chars:
            break
        lines.append(line)
    return "\n".join(lines)


class BartSummarizer(HubCheckpoint):
    """The summarizer slot: BART or another seq2seq summarizer from a local checkpoint (a
    folder, or a name in the local Hugging Face cache; ``vidsearch models pull`` fetches one).

    ``available()`` is False when nothing usable is on disk: summaries are then extractive, and
    nothing is ever downloaded.
    """

    slot = "summarizer"
    setting = "VIDSEARCH_SUMMARY_MODEL"

    def __init__(self, model: str, max_summary_tokens: int = 120) -> None:
        super().__init__(model)
        self.max_summary_tokens = max_summary_tokens
        self._missing = False

    def problem(self, folder: Path) -> str | None:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if not config.get("is_encoder_decoder"):
            return f"its model type {config.get('model_type')!r} is not a seq2seq summarizer"
        return None

    def _load(self, path: Path) -> tuple[Any, Any]:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForSeq2SeqLM.from_pretrained(path, local_files_only=True)
        return tok, model.eval()

    def load(self) -> tuple[Any, Any] | None:  # type: ignore[override]
        """The tokenizer and model, or None where there is no usable checkpoint (a summary is
        then extractive: the summarizer is the one slot with a fallback)."""
        if self._missing:
            return None
        try:
            return super().load()  # type: ignore[no-any-return]
        except (ModelMissing, OSError, ValueError) as exc:
            log.info("no local summarizer %r (%s): summaries are extractive", self.value, exc)
            self._missing = True
            return None

    def on_disk(self) -> bool:
        """Whether a checkpoint of this name is on disk, found without importing transformers
        (a summary that is cached already must not pay for that import)."""
        if self.loaded:
            return True
        if self._missing:
            return False
        return locate_checkpoint(self.value).folder is not None

    def available(self) -> bool:
        return self.on_disk() and self.load() is not None

    def input_limit(self) -> int:
        loaded = self.load()
        assert loaded is not None
        tok, model = loaded
        return int(
            min(model.config.max_position_embeddings, getattr(tok, "model_max_length", 10**9))
        )

    def chunks(self, sentences: Sequence[TimedSentence]) -> list[list[TimedSentence]]:
        """Consecutive sentences packed into pieces that fit BART's input (1024 tokens for bart-large)."""
        loaded = self.load()
        assert loaded is not None
        tok, _ = loaded
        budget = self.input_limit() - 8  # room for special tokens
        pieces: list[list[TimedSentence]] = [[]]
        used = 0
        for s in sentences:
            n = len(tok(s.text, add_special_tokens=False)["input_ids"])
            if n > budget:  # one over-long sentence: cut it to fit rather than drop it
                ids = tok(s.text, add_special_tokens=False)["input_ids"][:budget]
                s = TimedSentence(s.start, tok.decode(ids))
                n = budget
            if used + n > budget and pieces[-1]:
                pieces.append([])
                used = 0
            pieces[-1].append(s)
            used += n
        return [p for p in pieces if p]

    def _generate(self, text: str) -> str:
        loaded = self.load()
        assert loaded is not None
        tok, model = loaded
        import torch

        batch = tok([text], truncation=True, max_length=self.input_limit(), return_tensors="pt")
        with torch.inference_mode():
            # A summary may take at most a quarter of the input window, so at least four fit in one
            # reduce step and map-reduce always converges (and the decoder never runs out of positions).
            limit = max(4, min(self.max_summary_tokens, self.input_limit() // 4))
            out = model.generate(**batch, max_new_tokens=limit, num_beams=2, do_sample=False)
        return " ".join(tok.decode(out[0], skip_special_tokens=True).split())

    def summarize(self, sentences: Sequence[TimedSentence], focus: str | None = None) -> str:
        """Map: one summary per chunk, stamped with the chunk's start. Reduce: an overview of those."""
        pieces = self.chunks(sentences)
        prefix = f"{focus}: " if focus else ""
        partials = [
            (p[0].start, self._generate(prefix + " ".join(s.text for s in p))) for p in pieces
        ]
        if len(partials) == 1:
            return f"{clock(partials[0][0])} – {partials[0][1]}"
        reduce_input = [TimedSentence(start, text) for start, text in partials]
        for _round in range(8):  # summaries of summaries until one fits (each round shrinks ~4x)
            if len(self.chunks(reduce_input)) == 1:
                break
            reduce_input = [
                TimedSentence(p[0].start, self._generate(" ".join(s.text for s in p)))
                for p in self.chunks(reduce_input)
            ]
        overview = self._generate(" ".join(s.text for s in reduce_input))
        return overview + "\n" + "\n".join(f"{clock(start)} – {text}" for start, text in partials)


class Summaries:
    """The summary service: cache lookups, generation, invalidation."""

    def __init__(self, *, embed_text: EmbedText, bart: BartSummarizer, sentences: int = 5) -> None:
        self.embed_text = embed_text
        self.bart = bart
        self.sentences = sentences

    @property
    def model_name(self) -> str:
        return self.bart.model_name if self.bart.on_disk() else EXTRACTIVE_MODEL

    def _generate(
        self, sentences: Sequence[TimedSentence], focus: str | None = None
    ) -> tuple[str, str]:
        # BART summarizes what is said; a video that says nothing is summarized from what it
        # shows, stretch by stretch, as those stretches describe themselves.
        if self.bart.available() and any(s.spoken for s in sentences):
            return self.bart.summarize(sentences, focus), ABSTRACTIVE
        return extractive_summary(
            sentences, self.embed_text, k=self.sentences, focus=focus
        ), EXTRACTIVE

    def for_video(self, *, session: Session, video_id: str) -> SummaryResult:
        """The cached summary for the video's current content and model, made if missing."""
        video = get_video(session=session, video_id=video_id)
        if video is None:
            raise LookupError(f"no video {video_id}")
        if video.status != VideoStatus.READY:
            raise LookupError(f"video {video_id} is {video.status}, not ready")
        sentences = timeline(video.segments)
        digest = content_hash(sentences)
        model = self.model_name
        cached = repo.cached_summary(
            session=session, video_id=video_id, model=model, content_hash=digest
        )
        if cached is not None:
            return SummaryResult(
                video_id, cached.text, cached.method, made_by(cached.method, model)
            )
        text, method = self._generate(sentences)
        repo.replace_summary(
            session=session,
            video_id=video_id,
            model=model,
            method=method,
            content_hash=digest,
            text=text,
        )
        return SummaryResult(video_id, text, method, made_by(method, model))

    def for_moments(
        self, *, session: Session, video_id: str, query: str, segments: Sequence[int]
    ) -> SummaryResult:
        """A query-focused summary of a search hit's matched moments (not cached: queries vary)."""
        rows = segments_at(session=session, video_id=video_id, indexes=segments)
        if not rows:
            raise LookupError(f"video {video_id} has none of the segments {list(segments)}")
        text, method = self._generate(timeline(rows), focus=query)
        return SummaryResult(video_id, text, method, made_by(method, self.model_name))


def made_by(method: str, configured: str) -> str:
    """The model a summary names: the summarizer's for an abstractive one; the extractive
    method's for one made without it (a silent video, with a summarizer on disk or not). The
    catalog keys its cache by the configured model, so a new summarizer makes them again."""
    return configured if method == ABSTRACTIVE else EXTRACTIVE_MODEL


EmbedText = Callable[[list[str]], np.ndarray]  # sentences -> unit vectors


def summaries_for(settings: Settings, embed_text: EmbedText) -> Summaries:
    model = settings.summary_model
    # A folder path wins; a bare name is looked up in the local Hugging Face cache only.
    if Path(model).expanduser().is_dir():
        model = str(Path(model).expanduser())
    return Summaries(embed_text=embed_text, bart=_bart(model), sentences=settings.summary_sentences)


def _bart(model: str) -> BartSummarizer:
    return MODELS.get("summarizers", model, lambda: BartSummarizer(model))
