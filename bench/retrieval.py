"""Retrieval benchmark: the class-name bridge, transcript-only MiniLM and VideoBERT (zero-shot in
both video input modes, then trained on the set itself) on the development set, in one run.

The set is indexed once through the real pipeline (decode, frame features, transcripts) into a
temporary VIDSEARCH_HOME; every method then computes its vectors from the stored clip features,
transcripts and captions, so all of them see exactly the same segments. A segment's score for a
query is the cosine of the query's vector with the segment's video vector ("video"), with its
caption's text vector ("text"), or the larger of the two ("fused"); a video's score is the best
of its segments. R@1 and R@5: the share of queries with a relevant video first / in the top 5;
MRR: the mean reciprocal rank of the first relevant video. Absent queries have no relevant
video and are left out.

The zero-shot temperature and top-k are tuned for the bridge and for VideoBERT on the same grid,
by R@1 (then MRR) of the video signal on the visual queries of the dev set's tune part only;
every figure is printed for the tune part and the test part side by side, and the test part is
the one to quote (bench/devset.py: PARTS). "naive baseline" is the class-name bridge with the
product's untuned defaults. Training is self-supervised: transcripts and visual tags of the
set's own segments, never the queries.

    .venv/bin/python bench/retrieval.py [--devset DIR] [--home DIR] [--steps N]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.devset import PARTS, DevSet, Query, build_devset  # noqa: E402
from core.db import session_scope  # noqa: E402
from core.models import Job, Video  # noqa: E402
from core.settings import Settings  # noqa: E402
from indexer.pipeline import run_ingest_job  # noqa: E402
from model_lifecycle.train import LibrarySegment, library_segments, train_library  # noqa: E402
from services.ingest import create_jobs  # noqa: E402
from videobert.options import model_options  # noqa: E402

DEFAULT_DEVSET = Path.home() / ".cache" / "vidsearch-devset"
TEMPERATURES = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0)
TOP_KS = (1, 3, 5, 10, 20, 50, 100)
KINDS = ("visual", "speech")


# --- the library ------------------------------------------------------------------------------
@dataclass
class Library:
    segments: list[LibrarySegment]
    files: list[str]  # per segment: its video's file name
    captions: list[str]  # per segment: what its text vector embeds

    @property
    def clips(self) -> list[np.ndarray]:
        return [s.clips for s in self.segments]


def index_devset(devset: DevSet, settings: Settings) -> None:
    """Index every video of the set through the real pipeline (skipping what is indexed)."""
    with session_scope(settings) as s:
        done = {Path(v.source_path).name for v in s.query(Video).filter(Video.status == "ready")}
    todo = [p for p in devset.videos if p.name not in done]
    for job_id in create_jobs(todo, settings) if todo else []:
        status = run_ingest_job(job_id, settings=settings)
        if status != "succeeded":
            with session_scope(settings) as s:
                job = s.get(Job, job_id)
                raise SystemExit(f"indexing failed: {job.path if job else job_id}: {status}")


def load_library(settings: Settings) -> Library:
    segments = library_segments(settings)
    with session_scope(settings) as s:
        names = {v.id: Path(v.source_path).name for v in s.query(Video)}
        captions = {(v.id, x.index): x.caption for v in s.query(Video) for x in v.segments}
    return Library(
        segments=segments,
        files=[names[x.video_id] for x in segments],
        captions=[captions[(x.video_id, x.index)] for x in segments],
    )


# --- metrics ----------------------------------------------------------------------------------
def _ranked_files(seg_scores: np.ndarray, files: Sequence[str]) -> list[str]:
    best: dict[str, float] = {}
    for f, score in zip(files, seg_scores, strict=True):
        if np.isfinite(score) and score > best.get(f, -np.inf):
            best[f] = float(score)
    return [f for f, _ in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))]


def metrics(
    queries: Sequence[Query], scores: np.ndarray, files: Sequence[str]
) -> dict[str, dict[str, float]]:
    """scores: (queries, segments). Per kind (and "all"): R@1, R@5, MRR."""
    per: dict[str, list[tuple[float, float, float]]] = {"all": []}
    for q, row in zip(queries, scores, strict=True):
        if not q.relevant:
            continue
        ranked = _ranked_files(row, files)
        first = next((i for i, f in enumerate(ranked) if f in q.relevant), None)
        hit = (
            float(first == 0),
            float(first is not None and first < 5),
            0.0 if first is None else 1.0 / (first + 1),
        )
        per["all"].append(hit)
        per.setdefault(q.kind, []).append(hit)
    return {
        kind: dict(zip(("R@1", "R@5", "MRR"), np.mean(hits, axis=0).tolist(), strict=True))
        for kind, hits in per.items()
    }


def signal_scores(
    query_vecs: np.ndarray,
    video_vecs: np.ndarray | None,
    text_vecs: np.ndarray | None,
    has_text: np.ndarray,
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if video_vecs is not None:
        out["video"] = query_vecs @ video_vecs.T
    if text_vecs is not None:
        text = query_vecs @ text_vecs.T
        out["text"] = np.where(has_text[None, :], text, -np.inf)
    if len(out) == 2:
        out["fused"] = np.maximum(out["video"], out["text"])
    return out


# --- methods ----------------------------------------------------------------------------------
@dataclass
class Result:
    method: str
    scores: dict[str, dict[str, dict[str, dict[str, float]]]]  # part -> signal -> kind -> metric


def by_part(
    queries: Sequence[Query], signals: dict[str, np.ndarray], files: Sequence[str]
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """Metrics of every signal on each part of the set; rows of ``signals`` follow ``queries``."""
    out = {}
    for part in PARTS:
        rows = [i for i, q in enumerate(queries) if q.part == part]
        subset = [queries[i] for i in rows]
        out[part] = {s: metrics(subset, v[rows], files) for s, v in signals.items()}
    return out


def evaluate_method(
    name: str,
    devset: DevSet,
    lib: Library,
    embed_text: Callable[[list[str]], np.ndarray],
    video_vecs: np.ndarray | None,
    texts: Sequence[str] | None,
) -> Result:
    queries = devset.queries
    q = embed_text([x.text for x in queries])
    text_vecs = embed_text(list(texts)) if texts is not None else None
    has_text = np.array([bool(t.strip()) for t in (texts or lib.captions)])
    sig = signal_scores(q, video_vecs, text_vecs, has_text)
    return Result(name, by_part(queries, sig, lib.files))


def tune(
    label: str,
    devset: DevSet,
    lib: Library,
    query_vecs: np.ndarray,
    video_vectors: Callable[[float, int], np.ndarray],
) -> tuple[tuple[float, int], dict[tuple[float, int], dict[str, float]]]:
    """R@1 / MRR of the video signal on the tune part's visual queries over the grid; the best
    (T, k). ``query_vecs`` rows follow ``devset.queries``; the test part is never looked at."""
    grid: dict[tuple[float, int], dict[str, float]] = {}
    rows = [i for i, q in enumerate(devset.queries) if q.part == "tune"]
    tune_queries = [devset.queries[i] for i in rows]
    for t, k in itertools.product(TEMPERATURES, TOP_KS):
        v = video_vectors(t, k)
        m = metrics(tune_queries, query_vecs[rows] @ v.T, lib.files)["visual"]
        grid[(t, k)] = m
    # ties (to 3 decimals) go to the flatter, sparser setting: lower T, then fewer classes
    best = max(
        grid,
        key=lambda key: (round(grid[key]["R@1"], 3), round(grid[key]["MRR"], 3), -key[0], -key[1]),
    )
    return best, grid


def print_grid(label: str, grid: dict[tuple[float, int], dict[str, float]]) -> None:
    print(
        f"\n{label}: tune part's visual queries, video signal, R@1 / MRR  (rows T, columns top-k)"
    )
    print("   T \\ k " + "".join(f"{k:>13}" for k in TOP_KS))
    for t in TEMPERATURES:
        cells = "".join(f"  {grid[(t, k)]['R@1']:.3f}/{grid[(t, k)]['MRR']:.3f}" for k in TOP_KS)
        print(f"{t:8g} {cells}")


def print_table(results: Sequence[Result]) -> None:
    """One row per method and signal; each cell is tune / test."""
    cols = [("all", "R@1"), ("all", "R@5"), ("all", "MRR"), ("visual", "R@1"), ("speech", "R@1")]
    head = f"{'method':52} {'signal':6}"
    for kind, metric in cols:
        head += f" | {kind + ' ' + metric:>13}"
    print("each cell: tune / test part (quote the test part)")
    print(head)
    print("-" * len(head))
    nan = {"R@1": np.nan, "R@5": np.nan, "MRR": np.nan}
    for r in results:
        for signal in r.scores[PARTS[0]]:
            line = f"{r.method:52} {signal:6}"
            for kind, metric in cols:
                a, b = (r.scores[p][signal].get(kind, nan)[metric] for p in PARTS)
                line += f" | {a:6.3f}/{b:6.3f}"
            print(line)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--devset", type=Path, default=DEFAULT_DEVSET, help="dev set cache folder")
    ap.add_argument(
        "--home",
        type=Path,
        default=None,
        help="VIDSEARCH_HOME to index into and reuse (default: a temporary folder)",
    )
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: epochs)")
    ap.add_argument("--epochs", type=float, default=None, help="training epochs")
    ap.add_argument("--no-train", action="store_true", help="zero-shot methods only")
    args = ap.parse_args()
    started = time.perf_counter()

    devset = build_devset(args.devset)
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp) / "home"
        settings = Settings(home=home, device="cpu", summaries_at_index=False)
        t = time.perf_counter()
        index_devset(devset, settings)
        lib = load_library(settings)
        n_clips = sum(len(c) for c in lib.clips)
        kinds = {
            part: {k: sum(q.kind == k for q in devset.part(part)) for k in ("visual", "speech")}
            for part in PARTS
        }
        print(
            f"dev set: {len(devset.videos)} videos, {len(lib.segments)} segments, {n_clips} clips;"
            f" queries {kinds}; indexed in {time.perf_counter() - t:.0f} s"
        )
        run(devset, lib, settings, args, cache_dir=args.devset.parent / "vidsearch-model-cache")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


def naive_baseline(  # type: ignore[no-untyped-def]
    devset: DevSet, lib: Library, settings: Settings, minilm, probs, class_vectors
) -> Result:
    """ImageNet class names weighting MiniLM (the class-name bridge) with the product's untuned
    defaults, and the captions' MiniLM vectors: what any new method must beat."""
    from videobert.bridge import bridge_vectors

    return evaluate_method(
        f"naive baseline: bridge untuned (T={settings.bridge_temperature:g}, "
        f"k={settings.bridge_top_k})",
        devset,
        lib,
        minilm.encode,
        bridge_vectors(
            probs,
            class_vectors,
            top_k=settings.bridge_top_k,
            temperature=settings.bridge_temperature,
        ),
        lib.captions,
    )


def class_name_bridge(settings: Settings, cache_dir: Path):  # type: ignore[no-untyped-def]
    """The product's class-name bridge, its class-name vectors cached in ``cache_dir`` (kept
    between runs, unlike the temporary library)."""
    from videobert.embedder import BridgeEmbedder, shared_encoders

    frames, minilm = shared_encoders(model_options(settings))
    return BridgeEmbedder(
        frame_encoder=frames,
        text_encoder=minilm,
        cache_dir=cache_dir,
        top_k=settings.bridge_top_k,
        temperature=settings.bridge_temperature,
        tags_per_segment=settings.tags_per_segment,
        tag_min_probability=settings.tag_min_probability,
    )


def baseline_for(devset: DevSet, settings: Settings, cache_dir: Path) -> Result:
    """naive_baseline() on a library already indexed under ``settings``."""
    from videobert.picture_words import segment_probs

    lib = load_library(settings)
    bridge = class_name_bridge(settings, cache_dir)
    probs = segment_probs(bridge.frames, lib.clips)
    return naive_baseline(devset, lib, settings, bridge.text, probs, bridge.class_vectors())


def run(devset: DevSet, lib: Library, settings: Settings, args, cache_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from videobert.bridge import bridge_vectors
    from videobert.embedder import zero_shot_embedder
    from videobert.picture_words import segment_probs
    from videobert.zero_shot import retune

    bridge = class_name_bridge(settings, cache_dir)
    frames, minilm = bridge.frames, bridge.text
    queries = [q.text for q in devset.queries]
    minilm_q = minilm.encode(queries)
    results: list[Result] = []

    # The naive baseline: the class-name bridge with the product's untuned defaults.
    t = time.perf_counter()
    probs = segment_probs(frames, lib.clips)
    class_vectors = bridge.class_vectors()
    results.append(naive_baseline(devset, lib, settings, minilm, probs, class_vectors))
    # The class-name bridge, tuned on the tune part.
    (bt, bk), bgrid = tune(
        "bridge",
        devset,
        lib,
        minilm_q,
        lambda t, k: bridge_vectors(probs, class_vectors, top_k=k, temperature=t),
    )
    print_grid("class-name bridge", bgrid)
    results.append(
        evaluate_method(
            f"class-name bridge (T={bt:g}, k={bk})",
            devset,
            lib,
            minilm.encode,
            bridge_vectors(probs, class_vectors, top_k=bk, temperature=bt),
            lib.captions,
        )
    )
    # Transcript-only MiniLM: what is said, nothing seen.
    results.append(
        evaluate_method(
            "transcript-only MiniLM",
            devset,
            lib,
            minilm.encode,
            None,
            [s.transcript for s in lib.segments],
        )
    )
    print(f"(baselines {time.perf_counter() - t:.0f} s)")

    # VideoBERT zero-shot, both video input modes, tuned on the same grid.
    tuned: dict[str, tuple[float, int]] = {}
    for mode in ("continuous", "tokens"):
        t = time.perf_counter()
        vb = zero_shot_embedder(model_options(settings.model_copy(update={"video_input": mode})))
        vb_q = vb.embed_text(queries)

        def vectors(temp: float, k: int, vb=vb) -> np.ndarray:  # type: ignore[no-untyped-def]
            assert vb.codebook is not None
            retune(vb.model, vb.codebook, temperature=temp, top_k=k)
            return vb.embed_video(lib.clips)

        if mode == settings.video_input:
            results.append(
                evaluate_method(
                    f"VideoBERT zero-shot {mode}, as shipped (T={settings.videobert_temperature:g}"
                    f", k={settings.videobert_top_k})",
                    devset,
                    lib,
                    vb.embed_text,
                    vb.embed_video(lib.clips),
                    lib.captions,
                )
            )
        best, grid = tune(f"VideoBERT {mode}", devset, lib, vb_q, vectors)
        print_grid(f"VideoBERT zero-shot, {mode}", grid)
        tuned[mode] = best
        vectors(*best)
        results.append(
            evaluate_method(
                f"VideoBERT zero-shot {mode} (T={best[0]:g}, k={best[1]})",
                devset,
                lib,
                vb.embed_text,
                vb.embed_video(lib.clips),
                lib.captions,
            )
        )
        print(f"(VideoBERT {mode} {time.perf_counter() - t:.0f} s)")

    # VideoBERT trained on the set (self-supervised), from the tuned continuous start.
    if not args.no_train:
        t_cont, k_cont = tuned["continuous"]
        start = zero_shot_embedder(
            model_options(
                settings.model_copy(
                    update={"videobert_temperature": t_cont, "videobert_top_k": k_cont}
                )
            )
        )
        for silent in (False, True):
            results += trained_methods(devset, lib, settings, args, start, (t_cont, k_cont), silent)

    print()
    print_table(results)


MIXES = (0.25, 0.5, 1.0)


def trained_methods(  # type: ignore[no-untyped-def]
    devset: DevSet,
    lib: Library,
    settings: Settings,
    args,
    zero_shot,
    tuned: tuple[float, int],
    silent: bool,
) -> list[Result]:
    """Train on the set (speech only, or with silent stretches' tags too), then evaluate the
    model averaged with its zero-shot start at each weight of MIXES (WiSE-FT; 1 = as trained).
    Prints which queries the default mix wins and loses against zero-shot, and why."""
    import torch
    from tqdm import tqdm

    from model_lifecycle.train import SEED
    from videobert.checkpoint import load_checkpoint
    from videobert.embedder import VideoBertEmbedder
    from videobert.zero_shot import build_zero_shot, mix_with_start, shipped_parts

    t = time.perf_counter()
    train_settings = settings.model_copy(
        update={
            "videobert_temperature": tuned[0],
            "videobert_top_k": tuned[1],
            "train_mix": 1.0,
            "train_silent": silent,
        }
    )
    label = "speech + silent tags" if silent else "speech"
    bar = tqdm(desc=f"training on {label}", unit="step", file=sys.stderr, leave=False)

    def progress(step: int, steps: int, losses: dict[str, float]) -> None:
        bar.total, bar.n = steps, step
        bar.set_postfix({k: f"{v:.2f}" for k, v in losses.items() if k != "loss"}, refresh=False)
        bar.refresh()

    outcome = train_library(
        train_settings,
        steps=args.steps,
        epochs=args.epochs,
        device="cpu",
        progress=progress,
        segments=lib.segments,
    )
    bar.close()
    print(
        f"\ntrained on {label}: {outcome.steps} steps, {outcome.examples} examples, "
        f"{outcome.visual_words} visual words, {time.perf_counter() - t:.0f} s; last losses "
        + ", ".join(f"{k} {v:.3f}" for k, v in outcome.losses.items())
    )
    trained = load_checkpoint(outcome.checkpoint).model
    parts = shipped_parts(zero_shot.frames, Path(trained.config.backbone or ""))
    torch.manual_seed(SEED)
    start = build_zero_shot(parts, trained.config, load_checkpoint(outcome.checkpoint).codebook)
    trained_state = {k: v.clone() for k, v in trained.state_dict().items()}
    results = []
    flips = None
    for mix in MIXES:
        trained.load_state_dict(trained_state)
        mix_with_start(trained, start, mix)
        emb = VideoBertEmbedder(
            model=trained,
            tokenizer=parts.tokenizer,
            codebook=None,
            frame_encoder=zero_shot.frames,
            name=f"mix{mix}",
            video_input="continuous",
            tags_per_segment=settings.tags_per_segment,
            tag_min_probability=settings.tag_min_probability,
        )
        video = emb.embed_video(lib.clips)
        results.append(
            evaluate_method(
                f"VideoBERT trained, {label} (mix {mix:g})",
                devset,
                lib,
                emb.embed_text,
                video,
                lib.captions,
            )
        )
        if mix == settings.train_mix:
            flips = changed_queries(devset, lib, zero_shot, emb, video)
    if flips:
        print(f"video signal, zero-shot -> trained on {label} (mix {settings.train_mix:g}):")
        for line in flips:
            print("  " + line)
    return results


def changed_queries(devset: DevSet, lib: Library, before, after, after_video) -> list[str]:  # type: ignore[no-untyped-def]
    """Test-part queries whose first relevant video moved into or out of first place."""
    queries = [q for q in devset.queries if q.relevant and q.part == "test"]
    old = before.embed_text([q.text for q in queries]) @ before.embed_video(lib.clips).T
    new = after.embed_text([q.text for q in queries]) @ after_video.T
    out = []
    for q, a, b in zip(queries, old, new, strict=True):
        ra, rb = _ranked_files(a, lib.files), _ranked_files(b, lib.files)
        first_a = next(i for i, f in enumerate(ra) if f in q.relevant)
        first_b = next(i for i, f in enumerate(rb) if f in q.relevant)
        if (first_a == 0) != (first_b == 0):
            sign = "+" if first_b == 0 else "-"
            out.append(
                f"{sign} {q.kind:6} {q.text[:48]:48} rank {first_a + 1} -> {first_b + 1}"
                f"  (now first: {rb[0]})"
            )
    return sorted(out)


if __name__ == "__main__":
    main()
