"""Recommender benchmark: simulated users with topic preferences over a library with topic labels,
leave-some-out; hit-rate@5 and @10, nDCG@10 and catalogue coverage for our ranker (and its parts)
beside popularity and random baselines; then p50/p95 latency for users with 100 events over a
library of 10k videos on the embedded default (SQLite, in-process vectors), and in served mode
(the content candidates from Qdrant's recommend query over the video-level collection, here
qdrant-client's local engine) at each of --served-sizes. Prints figures; it does not pass or
fail.

    .venv/bin/python bench/recommend.py [--videos 2000] [--users 400] [--devset DIR]
                                        [--latency-videos 10000] [--skip-devset]
                                        [--served-sizes 10000,100000] [--skip-served]

Served mode reads no segment and holds no video vector, so its catalog has the videos' rows and
the events only, and its video points are written straight from the simulated vectors (what
core.vectors.sync would write from the segments): 100k videos' segments would be 0.9 GB of
SQLite for nothing the served path reads.

How the simulation works. Each topic is a random direction; a video belongs to one topic and its
segments' vectors lie around that direction (two videos of a topic have a cosine of about 0.5,
of different topics about 0). Videos have an appeal drawn from a heavy-tailed distribution, so
some are watched by many. Each user likes one to three topics (weights from a Dirichlet) and
watches, in time order over the last 90 days, videos of a liked topic (80%) or of any topic
(20%), picked in proportion to appeal. A video of a liked topic is finished (and sometimes
liked) or abandoned part way; one of another topic is mostly skipped or disliked. Each user's
last HOLD_OUT finished or liked videos are held out: their events are never written, for anyone,
so neither co-watching nor popularity sees them. Hits are held-out videos in the top K.

The same users are then simulated over the development set (bench/devset.py), indexed with the
shipped models and labelled by what each video shows (DEVSET_TOPICS): there the content signal
is the real embedder's, not a made-up direction.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402

from core.arrays import pack_f16_matrix, pack_f32  # noqa: E402
from core.db import session_scope  # noqa: E402
from core.models import Event, Segment, User, Video, VideoStatus, utcnow  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.users import popularity_counts, touched_videos  # noqa: E402
from core.vectors.sync import VIDEO_PAYLOAD_VERSION, VideoPoint  # noqa: E402
from recommender.library import VideoLibrary  # noqa: E402
from recommender.rank import RankWeights  # noqa: E402
from recommender.service import Recommender  # noqa: E402

HOLD_OUT = 5
SEGMENTS = 3
SEGMENT_SECONDS = 10.0


# --- the simulated world ---------------------------------------------------------------------------


@dataclass
class World:
    ids: list[str]
    topics: np.ndarray  # (videos,) topic label
    appeal: np.ndarray  # (videos,) how likely a video is picked within its topic
    vectors: np.ndarray | None  # (videos, segments, dim); None: already in the catalog
    indexed_days_ago: np.ndarray  # (videos,)
    durations: np.ndarray  # (videos,) seconds
    # per user: [(video row, kind, position as a fraction of the video, days ago)], in time order
    histories: list[list[tuple[int, str, float | None, float]]] = field(default_factory=list)
    held_out: list[list[int]] = field(default_factory=list)


def make_library(n: int, n_topics: int, dim: int, rng: np.random.Generator) -> World:
    centres = rng.normal(size=(n_topics, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    # Some topics are bigger than others (a library is never balanced).
    sizes = rng.dirichlet(np.full(n_topics, 2.0))
    topics = rng.choice(n_topics, size=n, p=sizes)
    own = rng.normal(size=(n, dim)) / np.sqrt(dim)  # what makes a video itself, norm about 1
    per_segment = 0.5 * rng.normal(size=(n, SEGMENTS, dim)) / np.sqrt(dim)
    vectors = (centres[topics] + own)[:, None, :] + per_segment
    ids = [hashlib.sha256(f"video {i}".encode()).hexdigest()[:16] for i in range(n)]
    return World(
        ids=ids,
        topics=topics,
        appeal=rng.lognormal(mean=0.0, sigma=1.2, size=n),
        vectors=vectors.astype(np.float32),
        indexed_days_ago=rng.uniform(0, 365, size=n),
        durations=np.full(n, SEGMENTS * SEGMENT_SECONDS),
    )


def simulate_users(
    world: World,
    n_users: int,
    rng: np.random.Generator,
    *,
    history: tuple[int, int] = (20, 60),
    hold_out: int = HOLD_OUT,
) -> None:
    n_topics = int(world.topics.max()) + 1
    by_topic = [np.flatnonzero(world.topics == t) for t in range(n_topics)]
    for _ in range(n_users):
        liked_topics = rng.choice(n_topics, size=rng.integers(1, 4), replace=False)
        prefs = dict(
            zip(liked_topics.tolist(), rng.dirichlet(np.ones(len(liked_topics))), strict=True)
        )
        length = int(rng.integers(*history, endpoint=True))
        seen: set[int] = set()
        events: list[tuple[int, str, float | None, float]] = []
        positives: list[int] = []
        for step in range(length):
            days_ago = 90.0 * (1 - step / length)
            if rng.random() < 0.8:
                topic = int(rng.choice(list(prefs), p=list(prefs.values())))
            else:
                topic = int(rng.integers(n_topics))
            pool = np.array([v for v in by_topic[topic] if v not in seen])
            if len(pool) == 0:
                continue
            p = world.appeal[pool] / world.appeal[pool].sum()
            video = int(rng.choice(pool, p=p))
            seen.add(video)
            events.append((video, "started", 0.0, days_ago))
            roll = rng.random()
            if topic in prefs:
                if roll < 0.75:
                    events.append((video, "completed", 1.0, days_ago))
                    positives.append(video)
                    if rng.random() < 0.3:
                        events.append((video, "liked", None, days_ago))
                else:
                    events.append((video, "progress", rng.uniform(0.1, 0.8), days_ago))
            elif roll < 0.6:
                events.append((video, "skipped", rng.uniform(0, 0.2), days_ago))
            elif roll < 0.75:
                events.append((video, "disliked", None, days_ago))
            else:
                events.append((video, "completed", 1.0, days_ago))
                positives.append(video)
        held = positives[len(positives) - hold_out :] if 0 < hold_out < len(positives) else []
        world.held_out.append(held)
        world.histories.append([e for e in events if e[0] not in set(held)])


def video_level_library(n: int, n_topics: int, dim: int, rng: np.random.Generator) -> World:
    """make_library's world with one vector per video, its segments' mean (segments made and
    averaged a chunk at a time: 100k videos' segments at once would be 0.9 GB)."""
    centres = rng.normal(size=(n_topics, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    topics = rng.choice(n_topics, size=n, p=rng.dirichlet(np.full(n_topics, 2.0)))
    means = np.empty((n, 1, dim), np.float32)
    for start in range(0, n, 5000):
        stop = min(n, start + 5000)
        own = rng.normal(size=(stop - start, dim)) / np.sqrt(dim)
        noise = 0.5 * rng.normal(size=(stop - start, SEGMENTS, dim)) / np.sqrt(dim)
        segments = (centres[topics[start:stop]] + own)[:, None, :] + noise
        segments /= np.linalg.norm(segments, axis=2, keepdims=True)
        means[start:stop, 0] = segments.mean(axis=1)
    return World(
        ids=[hashlib.sha256(f"video {i}".encode()).hexdigest()[:16] for i in range(n)],
        topics=topics,
        appeal=rng.lognormal(mean=0.0, sigma=1.2, size=n),
        vectors=means,
        indexed_days_ago=rng.uniform(0, 365, size=n),
        durations=np.full(n, SEGMENTS * SEGMENT_SECONDS),
    )


def write_video_rows(world: World, settings: Settings, now: datetime) -> None:
    """The synthetic library's video rows, in bulk (no segments)."""
    n = len(world.ids)
    with session_scope(settings) as s:
        for start in range(0, n, 5000):
            s.execute(
                insert(Video),
                [
                    {
                        "id": world.ids[i],
                        "content_hash": world.ids[i] * 4,
                        "source_path": f"/library/topic{world.topics[i]:02d}/video{i:05d}.mp4",
                        "title": f"topic {world.topics[i]} video {i}",
                        "duration": SEGMENTS * SEGMENT_SECONDS,
                        "size_bytes": 1000,
                        "status": VideoStatus.READY,
                        "revision": 1,
                        "created_at": now - timedelta(days=float(world.indexed_days_ago[i])),
                        "indexed_at": now - timedelta(days=float(world.indexed_days_ago[i])),
                    }
                    for i in range(start, min(n, start + 5000))
                ],
            )


def write_videos(world: World, settings: Settings, now: datetime) -> None:
    """The synthetic library's videos and segments, in bulk."""
    n = len(world.ids)
    assert world.vectors is not None
    with session_scope(settings) as s:
        s.execute(
            insert(Video),
            [
                {
                    "id": world.ids[i],
                    "content_hash": world.ids[i] * 4,
                    "source_path": f"/library/topic{world.topics[i]:02d}/video{i:05d}.mp4",
                    "title": f"topic {world.topics[i]} video {i}",
                    "duration": SEGMENTS * SEGMENT_SECONDS,
                    "size_bytes": 1000,
                    "status": VideoStatus.READY,
                    "revision": 1,
                    "created_at": now - timedelta(days=float(world.indexed_days_ago[i])),
                    "indexed_at": now - timedelta(days=float(world.indexed_days_ago[i])),
                }
                for i in range(n)
            ],
        )
        features = pack_f16_matrix(np.zeros((1, 4)))
        for start in range(0, n, 2000):
            s.execute(
                insert(Segment),
                [
                    {
                        "video_id": world.ids[i],
                        "index": k,
                        "shot_index": k,
                        "start": k * SEGMENT_SECONDS,
                        "end": (k + 1) * SEGMENT_SECONDS,
                        "n_clips": 1,
                        "video_vector": pack_f32(world.vectors[i, k]),
                        "text_vector": pack_f32(world.vectors[i, k]),
                        "clip_features": features,
                    }
                    for i in range(start, min(n, start + 2000))
                    for k in range(SEGMENTS)
                ],
            )


def write_users(world: World, settings: Settings, now: datetime) -> list[int]:
    """Users and their training events, in bulk; returns the user ids in world order."""
    with session_scope(settings) as s:
        s.execute(
            insert(User),
            [{"name": f"user{u:05d}", "created_at": now} for u in range(len(world.histories))],
        )
        user_ids = list(s.scalars(select(User.id).order_by(User.id)))
        rows = []
        for user_id, history in zip(user_ids, world.histories, strict=True):
            for order, (video, kind, position, days_ago) in enumerate(history):
                rows.append(
                    {
                        "user_id": user_id,
                        "video_id": world.ids[video],
                        "kind": kind,
                        # Positions are fractions of the video until here.
                        "position": None if position is None else position * world.durations[video],
                        # Events of one watch share a day; a few seconds apart keep them in order.
                        "created_at": now - timedelta(days=days_ago) + timedelta(seconds=order),
                    }
                )
        for start in range(0, len(rows), 5000):
            s.execute(insert(Event), rows[start : start + 5000])
    return user_ids


# --- the rankers and the measures ----------------------------------------------------------------

Ranker = Callable[[int, int], list[str]]  # (user id, k) -> video ids, best first


def ours(settings: Settings, library: VideoLibrary, weights: RankWeights) -> Ranker:
    rec = Recommender(settings, weights=weights, library=library)
    return lambda user_id, k: [r.video_id for r in rec.recommend(user_id=user_id, limit=k)]


def popularity_baseline(settings: Settings) -> Ranker:
    with session_scope(settings) as s:
        counts = popularity_counts(session=s)
    order = sorted(counts, key=lambda v: (-counts[v], v))
    # Videos nobody watched follow in a fixed order, as a popularity list would show them.
    with session_scope(settings) as s:
        rest = sorted(set(s.scalars(select(Video.id))) - set(counts))
    order += rest

    def rank(user_id: int, k: int) -> list[str]:
        with session_scope(settings) as s:
            seen = touched_videos(session=s, user_id=user_id)
        return [v for v in order if v not in seen][:k]

    return rank


def random_baseline(settings: Settings, ids: Sequence[str], seed: int) -> Ranker:
    rng = np.random.default_rng(seed)

    def rank(user_id: int, k: int) -> list[str]:
        with session_scope(settings) as s:
            seen = touched_videos(session=s, user_id=user_id)
        picks = []
        for i in rng.permutation(len(ids)):
            if ids[i] not in seen:
                picks.append(ids[i])
                if len(picks) == k:
                    break
        return picks

    return rank


@dataclass
class Scores:
    hit5: float
    hit10: float
    ndcg10: float
    coverage: float
    seen_in_top5: int
    ms_per_user: float


def evaluate(ranker: Ranker, settings: Settings, world: World, user_ids: Sequence[int]) -> Scores:
    hits5, hits10, ndcgs, shown, seen_top5, times = [], [], [], set(), 0, []
    for user_id, held in zip(user_ids, world.held_out, strict=True):
        if not held:
            continue
        truth = {world.ids[v] for v in held}
        t = time.perf_counter()
        top = ranker(user_id, 10)
        times.append(time.perf_counter() - t)
        with session_scope(settings) as s:
            seen = touched_videos(session=s, user_id=user_id)
        seen_top5 += sum(1 for v in top[:5] if v in seen)
        shown.update(top)
        hits5.append(any(v in truth for v in top[:5]))
        hits10.append(any(v in truth for v in top[:10]))
        dcg = sum(1 / np.log2(i + 2) for i, v in enumerate(top[:10]) if v in truth)
        ideal = sum(1 / np.log2(i + 2) for i in range(min(len(truth), 10)))
        ndcgs.append(dcg / ideal)
    return Scores(
        hit5=float(np.mean(hits5)),
        hit10=float(np.mean(hits10)),
        ndcg10=float(np.mean(ndcgs)),
        coverage=len(shown) / len(world.ids),
        seen_in_top5=seen_top5,
        ms_per_user=1e3 * float(np.median(times)),
    )


def compare(settings: Settings, world: World, user_ids: Sequence[int], seed: int) -> None:
    """Every ranker on the same users, one table."""
    library = VideoLibrary(settings)
    base = RankWeights()
    rankers: list[tuple[str, Ranker]] = [
        ("ours", ours(settings, library, base)),
        ("ours, no MMR", ours(settings, library, replace(base, mmr_trade_off=1.0))),
        (
            "content only",
            ours(settings, library, replace(base, co_watch=0.0, popularity=0.0, recency=0.0)),
        ),
        (
            "co-watch only",
            ours(settings, library, replace(base, content=0.0, popularity=0.0, recency=0.0)),
        ),
        ("popularity", popularity_baseline(settings)),
        ("random", random_baseline(settings, world.ids, seed)),
    ]
    print(
        f"{'ranker':16} {'hit@5':>7} {'hit@10':>7} {'nDCG@10':>8} {'coverage':>9} "
        f"{'seen in top 5':>14} {'ms/user':>8}"
    )
    results = {}
    for name, ranker in rankers:
        ranker(user_ids[0], 10)  # fit caches outside the timing
        r = evaluate(ranker, settings, world, user_ids)
        results[name] = r
        print(
            f"{name:16} {r.hit5:7.3f} {r.hit10:7.3f} {r.ndcg10:8.3f} {r.coverage:9.3f} "
            f"{r.seen_in_top5:14d} {r.ms_per_user:8.1f}"
        )
    ratio = results["ours"].hit5 / max(results["popularity"].hit5, 1e-9)
    print(f"hit-rate@5, ours / popularity: {ratio:.1f}x")


def synthetic_quality(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    world = make_library(args.videos, args.topics, args.dim, rng)
    simulate_users(world, args.users, rng)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp))
        now = utcnow()
        write_videos(world, settings, now)
        user_ids = write_users(world, settings, now)
        print(
            f"synthetic library: {args.videos} videos in {args.topics} topics, dim {args.dim}; "
            f"{args.users} users, {sum(len(h) for h in world.histories)} training events; "
            f"{sum(1 for h in world.held_out if h)} users with {HOLD_OUT} held-out videos each"
        )
        compare(settings, world, user_ids, args.seed)


# The development set's videos by what they show (the recommender reads video vectors, so a
# narrated video goes by its picture, not its words).
DEVSET_TOPICS = {
    "animals": ["cat", "butterfly", "mandrill", "animals", "bunny", "cat_mug"],
    "space": ["rocket", "astronaut", "galaxies", "moon"],
    "food": ["espresso", "citrus", "orange", "table", "groceries"],
    "city": ["aerial", "town", "city", "bikes", "pedestrians", "grandmother", "car_rear"],
    "people": ["hopper", "cameraman", "football", "carphone", "basketball", "megamind"],
    "things": ["cards", "coins", "dentist", "sales", "pancakes", "train", "tomatoes", "sudoku"],
    "art and plants": ["starry_night", "graffiti", "aloe", "tree", "shapes", "architects"],
}
DEVSET_HOLD_OUT = 2


def devset_quality(args: argparse.Namespace) -> None:
    """The same comparison over the development set indexed with the real models: do the
    shipped embedder's video vectors carry what people's tastes follow?"""
    from bench.search import index_devset

    topic_of = {key: t for t, (_, keys) in enumerate(DEVSET_TOPICS.items()) for key in keys}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        devset, settings = index_devset(args.devset, Path(tmp) / "home")
        took = time.perf_counter() - t
        with session_scope(settings) as s:
            videos = list(s.scalars(select(Video).where(Video.status == VideoStatus.READY)))
        by_file = {Path(v.source_path).name: v for v in videos}
        labelled = [
            (by_file[name], topic_of[entry.key])
            for name, entry in devset.entries.items()
            if name in by_file and entry.key in topic_of
        ]
        unlabelled = sorted(e.key for n, e in devset.entries.items() if e.key not in topic_of)
        rng = np.random.default_rng(args.seed + 2)
        world = World(
            ids=[v.id for v, _ in labelled],
            topics=np.array([t for _, t in labelled]),
            appeal=rng.lognormal(mean=0.0, sigma=1.2, size=len(labelled)),
            vectors=None,
            indexed_days_ago=np.zeros(len(labelled)),
            durations=np.array([v.duration or 1.0 for v, _ in labelled]),
        )
        simulate_users(world, args.devset_users, rng, history=(6, 14), hold_out=DEVSET_HOLD_OUT)
        user_ids = write_users(world, settings, utcnow())
        print(
            f"\ndevelopment set: {len(labelled)} videos in {len(DEVSET_TOPICS)} topics, indexed "
            f"with the shipped models in {took:.0f} s"
            + (f" (no topic for {', '.join(unlabelled)})" if unlabelled else "")
            + f"; {args.devset_users} users, {sum(len(h) for h in world.histories)} training "
            f"events; {sum(1 for h in world.held_out if h)} users with {DEVSET_HOLD_OUT} held out"
        )
        compare(settings, world, user_ids, args.seed)


# --- latency -------------------------------------------------------------------------------------


@dataclass
class Latency:
    mode: str
    videos: int
    build_s: float  # writing the index the mode reads (served: the video points)
    load_s: float  # the library's first read
    first_ms: float  # the first call (co-watch fit, popularity)
    times: list[float]

    def line(self) -> str:
        p50, p95 = (np.percentile(self.times, q) * 1e3 for q in (50, 95))
        return (
            f"{self.mode:10} {self.videos:>8} {p50:8.1f} {p95:8.1f} "
            f"{statistics.mean(self.times) * 1e3:8.1f} {self.load_s:8.2f} {self.first_ms:9.0f} "
            f"{self.build_s:8.1f}"
        )


def latency_users(world: World, args: argparse.Namespace, rng: np.random.Generator) -> list[int]:
    """Background users so co-watching and popularity have something to say, then the measured
    users: exactly `latency_events` events each. Returns the measured users' world rows."""
    simulate_users(world, args.latency_background, rng, hold_out=0)
    measured = []
    for _ in range(args.latency_users):
        simulate_users(world, 1, rng, history=(60, 60), hold_out=0)
        measured.append(len(world.histories) - 1)
        history = world.histories[-1]
        while len(history) < args.latency_events:  # top up with progress events
            video, _, _, days = history[-1]
            history.append((video, "progress", 0.5, days))
        del history[args.latency_events :]
    return measured


def measure(
    rec: Recommender,
    user_ids: Sequence[int],
    measured: Sequence[int],
    args: argparse.Namespace,
    *,
    mode: str,
    videos: int,
    build_s: float = 0.0,
) -> Latency:
    t = time.perf_counter()
    rec.library.snapshot()
    load = time.perf_counter() - t
    t = time.perf_counter()
    rec.recommend(user_id=user_ids[measured[0]], limit=10)
    first = time.perf_counter() - t
    times = []
    for i in range(args.latency_calls):
        user_id = user_ids[measured[i % len(measured)]]
        t = time.perf_counter()
        rec.recommend(user_id=user_id, limit=10)
        times.append(time.perf_counter() - t)
    return Latency(mode, videos, build_s, load, first * 1e3, times)


def latency(args: argparse.Namespace) -> Latency:
    rng = np.random.default_rng(args.seed + 1)
    world = make_library(args.latency_videos, args.topics * 5, args.dim, rng)
    measured = latency_users(world, args, rng)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp))
        now = utcnow()
        write_videos(world, settings, now)
        user_ids = write_users(world, settings, now)
        events = sum(len(h) for h in world.histories)
        print(
            f"\nlatency: {args.latency_videos} videos ({args.latency_videos * SEGMENTS} segments, "
            f"dim {args.dim}), {len(world.histories)} users, {events} events; users with "
            f"{args.latency_events} events each; SQLite catalog, embedded default"
        )
        return measure(
            Recommender(settings), user_ids, measured, args, mode="embedded", videos=len(world.ids)
        )


def served_latency(args: argparse.Namespace, videos: int) -> Latency:
    """The same users over `videos` videos in served mode: the video-level collection in
    qdrant-client's local engine (in this process, no network: a server adds a round trip a
    call for the recommend query and one for each of the two vector reads)."""
    from qdrant_client import QdrantClient

    from core.vectors import open_video_index

    rng = np.random.default_rng(args.seed + 1)
    world = video_level_library(videos, args.topics * 5, args.dim, rng)
    measured = latency_users(world, args, rng)
    assert world.vectors is not None
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp))
        now = utcnow()
        write_video_rows(world, settings, now)
        user_ids = write_users(world, settings, now)
        index = open_video_index(settings, client=QdrantClient(":memory:"))
        assert index is not None
        t = time.perf_counter()
        for start in range(0, videos, 2000):
            index.upsert(
                [
                    VideoPoint(
                        world.ids[i],
                        world.vectors[i, 0],
                        {
                            "video_id": world.ids[i],
                            "revision": 1,
                            "payload_version": VIDEO_PAYLOAD_VERSION,
                        },
                    )
                    for i in range(start, min(videos, start + 2000))
                ]
            )
        build = time.perf_counter() - t
        rec = Recommender(settings, video_index=index)
        return measure(rec, user_ids, measured, args, mode="served", videos=videos, build_s=build)


def print_latencies(rows: Sequence[Latency], args: argparse.Namespace) -> None:
    print(
        f"\nrecommend(limit=10), users with {args.latency_events} events, {args.latency_calls} "
        "calls each; served: Qdrant local mode (qdrant-client's in-process engine)"
    )
    print(
        f"{'mode':10} {'videos':>8} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'load s':>8} "
        f"{'first ms':>9} {'build s':>8}"
    )
    for row in rows:
        print(row.line())


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--videos", type=int, default=2000)
    ap.add_argument("--topics", type=int, default=20)
    ap.add_argument("--users", type=int, default=400)
    ap.add_argument("--dim", type=int, default=384, help="the shipped embedder's size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--latency-videos", type=int, default=10_000)
    ap.add_argument("--latency-events", type=int, default=100)
    ap.add_argument("--latency-users", type=int, default=20)
    ap.add_argument("--latency-background", type=int, default=1000)
    ap.add_argument("--latency-calls", type=int, default=200)
    ap.add_argument(
        "--served-sizes",
        default="10000,100000",
        help="library sizes (videos) for the served-mode latency, comma-separated",
    )
    ap.add_argument("--skip-served", action="store_true")
    ap.add_argument(
        "--devset",
        type=Path,
        default=Path.home() / ".cache" / "vidsearch-devset",
        help="where the development set is built (reused when built from the same spec)",
    )
    ap.add_argument("--devset-users", type=int, default=300)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-devset", action="store_true", help="no real-model run (minutes)")
    ap.add_argument("--skip-latency", action="store_true")
    args = ap.parse_args()
    if not args.skip_quality:
        synthetic_quality(args)
    if not args.skip_devset:
        devset_quality(args)
    if not args.skip_latency:
        rows = [latency(args)]
        if not args.skip_served:
            rows += [served_latency(args, int(n)) for n in args.served_sizes.split(",") if n]
        print_latencies(rows, args)


if __name__ == "__main__":
    main()
