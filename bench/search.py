"""Search benchmark: latency at 1k / 10k / 100k segments on the embedded default (synthetic
vectors, real query encoding) next to a brute-force numpy scan of the same vectors, and retrieval
quality on the development set for each signal alone and fused — all in one run.

Quality is printed for the dev set's tune part and test part side by side (bench/devset.py:
PARTS), with the naive baseline (the class-name bridge, untuned) in the same run; quote the test
part. ``--calibrate`` grid-searches the fusion floors and the cut-off on the tune part only, then
reports both parts with them. Results under the cut-off follow the strong ones, flagged weak, so
the ranks count them. "empty": present queries answered with nothing at all; "1st strong":
present queries whose first result is strong; "absent weak": queries for things not in the set
whose every result is flagged weak. "today's defaults" is d8a89de's behaviour on the same part:
no on-screen text or people, and a strict cut-off (nothing weak shown, so a hidden answer is a miss).

    .venv/bin/python bench/search.py [--sizes 1000,10000,100000] [--devset DIR] [--calibrate]
                                     [--train] [--skip-latency] [--skip-quality] [--json]

Sizes of 100k and up are measured on the large engine too (a base with HNSW graphs, memory-
mapped: bench/large_index.py), past 300k on it alone.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qdrant_client import QdrantClient  # noqa: E402

from bench.devset import KINDS, PARTS  # noqa: E402
from core.lexical import sparse_vector  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.vectors import SegmentPoint, open_vector_store  # noqa: E402
from model_lifecycle.active import load_embedder, load_query_embedder  # noqa: E402
from model_lifecycle.calibration import ZERO_SHOT  # noqa: E402
from search.fusion import Calibration, calibrations  # noqa: E402
from search.service import SIGNALS, LiveIndex, SearchService  # noqa: E402

QUERIES = [
    "a cat sleeping on a sofa",
    "espresso",
    "people walking across a square",
    "a city at night",
    "a rocket launch",
    "cyclists in traffic",
    "a butterfly",
    "a man talking on the phone",
    "a red car",
    "grandmother born in Lisbon",
    "trees in the wind",
    "a cartoon rabbit",
    "fruit on a table",
    "a football match",
    "the night sky",
    "a pet",
    "a hot drink",
    "boats in a harbour",
    "a train station",
    "cooking pancakes",
]


# --- latency -------------------------------------------------------------------------------------
def synthetic_index(n: int, dim: int, settings: Settings, rng: np.random.Generator, engine: str):  # type: ignore[no-untyped-def]
    words = [f"w{i}" for i in range(5000)] + [w for q in QUERIES for w in q.split()]
    video = rng.normal(size=(n, dim)).astype(np.float32)
    text = rng.normal(size=(n, dim)).astype(np.float32)
    video /= np.linalg.norm(video, axis=1, keepdims=True)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    captions = [" ".join(rng.choice(words, size=12)) for _ in range(n)]
    # "numpy": the embedded default's engine; "qdrant-local": qdrant-client's in-process mode.
    index = (
        open_vector_store(settings, client=QdrantClient(":memory:"))
        if engine == "qdrant-local"
        else open_vector_store(settings)
    )
    points = [
        SegmentPoint(
            video_id=f"v{i // 10:07d}",
            index=i % 10,
            video_vector=video[i],
            text_vector=text[i],
            lexical=sparse_vector(captions[i]),
            payload={
                "video_id": f"v{i // 10:07d}",
                "index": i % 10,
                "start": 1.5 * (i % 10),
                "end": 1.5 * (i % 10 + 1),
                "text": captions[i],
                "path": f"/v/{i // 10}.mp4",
                "title": "",
                "has_text": True,
                "revision": 1,
            },
        )
        for i in range(n)
    ]
    index.upsert(points)
    return index, video, text, captions


def numpy_floor(
    embedder, video: np.ndarray, text: np.ndarray, lexical, vocab, queries: list[str], k: int
):  # type: ignore[no-untyped-def]
    """The same three signals as brute force: encode, two matrix-vector products, a sparse product."""
    times = []
    for q in queries:
        t = time.perf_counter()
        qv = embedder.embed_text([q])[0]
        for mat in (video, text):
            scores = mat @ qv
            np.argpartition(-scores, k)[:k]
        qs = np.zeros(lexical.shape[1], np.float32)
        for w in q.lower().split():
            if w in vocab:
                qs[vocab[w]] = 1.0
        lex = lexical @ qs
        np.argpartition(-lex, k)[:k]
        times.append(time.perf_counter() - t)
    return times


EXACT_UP_TO = 300_000  # the in-memory engine needs ~6 GB at 300k: past it only the large one
LARGE_FROM = 100_000  # sizes measured on the large engine too (bench/large_index.py)


def latency(sizes: list[int], settings: Settings, repeats: int, as_json: bool = False) -> None:
    from scipy import sparse

    from bench.large_index import run as run_large

    # The query path of the API, the web UI and the CLI (services/root.py): the exported text
    # tower where the active space has one (made by the first query, as on a new home).
    embedder = load_query_embedder(settings)
    embedder.embed_text(["warm up"])
    rng = np.random.default_rng(0)
    dim = embedder.embed_text(["x"]).shape[1]
    queries = list(itertools.islice(itertools.cycle(QUERIES), repeats))
    print(f"latency, {len(queries)} queries each (query encoding included), embedded default:")
    print(
        f"{'engine':13} {'segments':>9} {'build s':>8} {'p50 ms':>8} {'p95 ms':>8} {'floor p50':>10} "
        f"{'floor p95':>10} {'p50 ratio':>10}"
    )
    runs = [("numpy", n) for n in sizes if n <= EXACT_UP_TO]
    runs += [("qdrant-local", n) for n in sizes if n <= 10_000]
    for engine, n in runs:
        t = time.perf_counter()
        index, video, text, captions = synthetic_index(n, dim, settings, rng, engine)
        build = time.perf_counter() - t
        service = SearchService(settings, embedder, LiveIndex(settings, index, sync=False))
        service.search(queries[0])
        times = []
        for q in queries:
            t = time.perf_counter()
            service.search(q, limit=10)
            times.append(time.perf_counter() - t)
        vocab: dict[str, int] = {}
        rows, cols = [], []
        for i, cap in enumerate(captions):
            for w in cap.split():
                rows.append(i)
                cols.append(vocab.setdefault(w, len(vocab)))
        lexical = sparse.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(n, len(vocab))
        )
        floor = numpy_floor(
            embedder, video, text, lexical, vocab, queries, settings.search_candidates
        )
        p50, p95 = _pct(times, 50), _pct(times, 95)
        f50, f95 = _pct(floor, 50), _pct(floor, 95)
        print(
            f"{engine:13} {n:>9} {build:>8.1f} {p50 * 1e3:>8.1f} {p95 * 1e3:>8.1f} {f50 * 1e3:>10.1f} "
            f"{f95 * 1e3:>10.1f} {p50 / f50:>10.1f}",
            flush=True,
        )
        if as_json:
            # Exact by construction; the memory is this whole benchmark process's peak so far.
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(json.dumps(figures(n, engine, p50, p95, 1.0, peak)), flush=True)
        del index, video, text, captions, service
    large = [n for n in sizes if n >= LARGE_FROM]
    if large:
        print(
            "large engine (base + graphs, bench/large_index.py: clustered synthetic vectors, "
            "searched in a fresh process that maps the snapshot):"
        )
    for row in run_large(large, repeats, [None], [0]):
        print(
            f"{row['engine']:13} {row['segments']:>9} {row['build_s']:>8.1f} {row['p50_ms']:>8.1f} "
            f"{row['p95_ms']:>8.1f}   recall@10 {row['recall_at_10']:.3f}  load {row['load_s']:.2f} s"
            f"  resident {row['rss_mb']:.0f} MB",
            flush=True,
        )
        if as_json:
            print(json.dumps({k: row[k] for k in JSON_KEYS}), flush=True)


JSON_KEYS = ("segments", "engine", "p50_ms", "p95_ms", "recall_at_10", "rss_mb")


def figures(n: int, engine: str, p50: float, p95: float, recall: float, rss_mb: float) -> dict:  # type: ignore[type-arg]
    return dict(
        zip(
            JSON_KEYS,
            (n, engine, round(p50 * 1e3, 1), round(p95 * 1e3, 1), recall, round(rss_mb)),
            strict=True,
        )
    )


def _pct(values: list[float], q: int) -> float:
    return float(np.percentile(values, q))


# --- quality -------------------------------------------------------------------------------------
def index_devset(devset_dir: Path, home: Path, **overrides: object):  # type: ignore[no-untyped-def]
    from bench.devset import build_devset
    from indexer.pipeline import run_ingest_job
    from services.ingest import create_jobs

    devset = build_devset(devset_dir)
    settings = Settings(home=home, summaries_at_index=False, **overrides)  # type: ignore[arg-type]
    for job_id in create_jobs(devset.videos, settings):
        run_ingest_job(job_id, settings=settings)
    return devset, settings


def todays_defaults_row(devset, devset_dir: Path, home: Path) -> None:  # type: ignore[no-untyped-def]
    """d8a89de's search on the same parts: indexed without on-screen text and people, and the
    strict cut-off (no weak results: a hidden answer is a miss, as it was for its users)."""
    t = time.perf_counter()
    _, before = index_devset(devset_dir, home, screen_text=False, people=False, weak_results=0)
    # d8a89de's calibration of the zero-shot model: its floors and cut-off.
    then = {
        "text": Calibration(1.0, 0.30, 0.70),
        "video": Calibration(1.0, 0.25, 0.55),
        "lexical": Calibration(0.6, 0.0, 1.0),
        "concept": Calibration(0.25, 0.05, 0.5),
        "looks": Calibration(0.25, 0.2, 1.0),
    }
    before = before.model_copy(update={"relevance_threshold": 0.05})
    service = SearchService(before, load_embedder(before), calibration=then)
    print(
        _row(
            "today's defaults (d8a89de)",
            {p: evaluate(service, devset.part(p), "fused (d8a89de)") for p in PARTS},
        )
        + f"   (indexed in {time.perf_counter() - t:.0f} s)"
    )


def evaluate(service: SearchService, queries, method: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """R@1, R@5, MRR over present queries (and visual R@1, speech R@1); cut-off rates; moment
    hits inside the labelled range."""
    ranks, cut_absent, empty_present, strong_first = [], [], [], []
    moment_hits = moment_total = 0
    kind_hits: dict[str, list[bool]] = {"visual": [], "speech": []}
    uses = {
        "video only": ("video",),
        "text only": ("text",),
        "lexical only": ("lexical",),
        "concept only": ("concept",),
        "looks only": ("looks",),
        "dense (video+text)": ("video", "text"),
        "fused: video, text, lexical": ("video", "text", "lexical"),
        "fused: + concept": ("video", "text", "lexical", "concept"),
        "fused: + looks": ("video", "text", "lexical", "looks"),
        "fused: + people": ("video", "text", "lexical", "people"),
        "fused (d8a89de)": ("video", "text", "lexical", "concept", "looks"),
        "fused (score)": SIGNALS,
        "fused (rrf)": SIGNALS,
    }
    fusion = "rrf" if method == "fused (rrf)" else "score"
    for query in queries:
        response = service.search(query.text, limit=100, fusion=fusion, use=uses[method])
        names = [Path(r.path).name for r in response.results]
        if query.kind == "absent":
            cut_absent.append(response.cut_off)
            continue
        empty_present.append(not response.results)
        strong_first.append(bool(response.results) and not response.results[0].weak)
        rank = next((i + 1 for i, n in enumerate(names) if n in query.relevant), None)
        ranks.append(rank)
        kind_hits[query.kind].append(rank == 1)
        for name, (start, end) in query.moments.items():
            hit = next((r for r in response.results if Path(r.path).name == name), None)
            moment_total += 1
            if (
                hit
                and hit.moments
                and start - 0.5 <= (hit.moments[0].start + hit.moments[0].end) / 2 <= end + 0.5
            ):
                moment_hits += 1
    n = len(ranks)
    return {
        "R@1": sum(1 for r in ranks if r == 1) / n,
        "R@5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "MRR": sum(1 / r for r in ranks if r) / n,
        "visual R@1": statistics.mean(kind_hits["visual"] or [float("nan")]),
        "speech R@1": statistics.mean(kind_hits["speech"] or [float("nan")]),
        "absent weak": sum(cut_absent) / max(1, len(cut_absent)),
        "empty": sum(empty_present) / max(1, len(empty_present)),
        "1st strong": sum(strong_first) / max(1, len(strong_first)),
        "moment ok": moment_hits / max(1, moment_total),
    }


COLUMNS = ("R@1", "R@5", "MRR", "visual R@1", "speech R@1", "empty", "1st strong", "absent weak")


def _row(label: str, by_part: dict[str, dict[str, float]]) -> str:
    cells = []
    for col in COLUMNS:
        a, b = (by_part[p].get(col, float("nan")) for p in PARTS)
        cells.append(f"{a:5.2f}/{b:5.2f}")
    return f"{label:30} " + " ".join(f"{c:>13}" for c in cells)


def trained_rows(settings: Settings, devset) -> None:  # type: ignore[no-untyped-def]
    """``vidsearch train`` on the indexed set with the product's defaults (self-supervised: the
    set's own speech, never the queries), then the same fused search with the trained model and
    the calibration training recorded for it (deliverable 5 of issue 8: before / after)."""
    from services.training import train_and_swap

    t = time.perf_counter()
    report = train_and_swap(settings)
    print(
        f"vidsearch train: {report.get('steps')} steps on {report.get('examples')} examples, "
        f"swapped {report.get('swapped')}, {time.perf_counter() - t:.0f} s"
    )
    trained = SearchService(settings, load_embedder(settings))
    for method in ("video only", "fused (score)"):
        print(
            _row(
                f"after train: {method}",
                {p: evaluate(trained, devset.part(p), method) for p in PARTS},
            )
        )


def threshold_sweep(service: SearchService, devset) -> None:  # type: ignore[no-untyped-def]
    """What the cut-off trades, with the other settings as they are: present queries whose first
    result is strong against absent queries flagged weak (R@1 does not move: it hides nothing)."""
    kept = service.settings
    print("cut-off sweep (fused): threshold, then 1st strong and absent weak, tune / test")
    for threshold in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8):
        service.settings = kept.model_copy(update={"relevance_threshold": threshold})
        by_part = {p: evaluate(service, devset.part(p), "fused (score)") for p in PARTS}
        print(
            f"  {threshold:4.2f}   1st strong {by_part['tune']['1st strong']:.2f} / "
            f"{by_part['test']['1st strong']:.2f}   absent weak {by_part['tune']['absent weak']:.2f}"
            f" / {by_part['test']['absent weak']:.2f}"
        )
    service.settings = kept


def quality(devset_dir: Path, calibrate: bool, train: bool = False, sweep: bool = False) -> None:
    from bench.retrieval import baseline_for

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        devset, settings = index_devset(devset_dir, Path(tmp) / "home")
        kinds = {
            part: {k: sum(q.kind == k for q in devset.part(part)) for k in KINDS} for part in PARTS
        }
        print(
            f"\ndevelopment set: {len(devset.videos)} videos, queries {kinds}; indexed in "
            f"{time.perf_counter() - t:.0f} s; embedder {load_embedder(settings).name}"
        )
        service = SearchService(settings, load_embedder(settings))
        if calibrate:
            best = calibrate_fusion(service, devset.part("tune"))
            service.calibration, threshold = best
            settings = settings.model_copy(update={"relevance_threshold": threshold})
            service.settings = settings
        print("each cell: tune / test part (quote the test part)")
        print(f"{'method':30} " + " ".join(f"{c:>13}" for c in COLUMNS))
        base = baseline_for(devset, settings, Path(tmp) / "cache")
        print(
            _row(
                "naive baseline (no cut-off)",
                {
                    p: {
                        "R@1": base.scores[p]["fused"]["all"]["R@1"],
                        "R@5": base.scores[p]["fused"]["all"]["R@5"],
                        "MRR": base.scores[p]["fused"]["all"]["MRR"],
                        "visual R@1": base.scores[p]["fused"]["visual"]["R@1"],
                        "speech R@1": base.scores[p]["fused"]["speech"]["R@1"],
                    }
                    for p in PARTS
                },
            )
        )
        for method in (
            "video only",
            "text only",
            "lexical only",
            "concept only",
            "looks only",
            "dense (video+text)",
            "fused (rrf)",
            "fused: video, text, lexical",
            "fused: + concept",
            "fused: + looks",
            "fused: + people",
            "fused (score)",
        ):
            print(_row(method, {p: evaluate(service, devset.part(p), method) for p in PARTS}))
        if sweep:
            threshold_sweep(service, devset)
        todays_defaults_row(devset, devset_dir, Path(tmp) / "home-d8a89de")
        if not hasattr(load_embedder(settings), "align_scores"):
            print("fused + rerank: n/a (the embedder has no alignment head)")
        else:
            service.settings = service.settings.model_copy(update={"rerank": True})
            print(
                _row(
                    "fused + rerank",
                    {p: evaluate(service, devset.part(p), "fused (score)") for p in PARTS},
                )
            )
        if train:  # last: it moves the library to the trained model
            service.settings = service.settings.model_copy(update={"rerank": False})
            trained_rows(service.settings, devset)


def calibrate_fusion(service: SearchService, queries) -> tuple[dict[str, Calibration], float]:  # type: ignore[no-untyped-def]
    """Grid search of floors, the concept, looks and people signals' weights and the cut-off on
    ``queries`` (the tune part); objective: MRR + absent queries flagged weak + present queries
    whose first result is strong (the cut-off only labels now: it hides nothing)."""
    hits = {q.text: service.signals(q.text) for q in queries}
    best: tuple[float, dict[str, Calibration], float] | None = None
    grid = itertools.product(
        (0.25, 0.3, 0.35),
        (0.15, 0.2, 0.25, 0.3),
        (0.25, 0.5),
        (0.0, 0.25),
        (0.0, 0.25, 0.5, 1.0),
        (0.05, 0.1, 0.15, 0.2, 0.3, 0.4),
    )
    for text_floor, video_floor, concept_weight, looks_weight, people_weight, threshold in grid:
        shipped = calibrations(ZERO_SHOT)
        cal = {
            "text": Calibration(1.0, text_floor, text_floor + 0.4),
            "video": Calibration(1.0, video_floor, video_floor + 0.3),
            "lexical": shipped["lexical"],
            "concept": Calibration(
                concept_weight, shipped["concept"].floor, shipped["concept"].ceiling
            ),
            "looks": Calibration(looks_weight, shipped["looks"].floor, shipped["looks"].ceiling),
            "people": Calibration(
                people_weight, shipped["people"].floor, shipped["people"].ceiling
            ),
        }
        service.calibration = cal
        service.settings = service.settings.model_copy(update={"relevance_threshold": threshold})
        rr, absent_weak, first_strong = [], [], []
        for q in queries:
            resp = service.rank(hits[q.text], limit=100, offset=0, fusion="score")
            names = [Path(r.path).name for r in resp.results]
            if q.kind == "absent":
                absent_weak.append(resp.cut_off)
                continue
            first_strong.append(bool(resp.results) and not resp.results[0].weak)
            rank = next((i + 1 for i, n in enumerate(names) if n in q.relevant), None)
            rr.append(1 / rank if rank else 0.0)
        score = (
            statistics.mean(rr)
            + 0.5 * statistics.mean(absent_weak)
            + 0.5 * statistics.mean(first_strong)
        )
        if best is None or score > best[0]:
            best = (score, cal, threshold)
    assert best is not None
    _, cal, threshold = best
    print(
        "calibrated on the tune part: "
        + ", ".join(
            f"{k} weight {c.weight:.2f} floor {c.floor:.2f} ceiling {c.ceiling:.2f}"
            for k, c in cal.items()
        )
        + f"; threshold {threshold}"
    )
    return cal, threshold


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--devset", type=Path, default=Path.home() / ".cache" / "vidsearch-devset")
    ap.add_argument(
        "--calibrate", action="store_true", help="grid-search fusion floors on the dev set first"
    )
    ap.add_argument(
        "--train", action="store_true", help="then vidsearch train and measure search again"
    )
    ap.add_argument(
        "--sweep", action="store_true", help="print what each cut-off trades on both parts"
    )
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument(
        "--json", action="store_true", help="also one JSON object a line per size and engine"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp))
        if not args.skip_latency:
            sizes = [int(s) for s in args.sizes.split(",") if s]
            latency(sizes, settings, args.queries, args.json)
    if not args.skip_quality:
        quality(args.devset, args.calibrate, args.train, args.sweep)


if __name__ == "__main__":
    main()
