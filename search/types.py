"""What a search returns, and the checks a query must pass (shared by CLI and API)."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_QUERY_CHARS = 1000
MAX_LIMIT = 100
MAX_OFFSET = 10_000


class QueryError(ValueError):
    """The query itself is unusable; the message says why (an HTTP 422, a CLI usage error)."""


@dataclass(frozen=True)
class Moment:
    start: float
    end: float
    score: float
    text: str
    segment: int


@dataclass(frozen=True)
class VideoResult:
    video_id: str
    path: str
    title: str
    score: float
    moments: list[Moment]
    # Below the relevance cut-off: the closest the library has, shown after every strong result
    # and labelled, so a search with candidates never comes back empty.
    weak: bool = False


@dataclass(frozen=True)
class SearchResponse:
    results: list[VideoResult]
    cut_off: bool  # no candidate was a confident match: every result (if any) is weak
    total: int = 0  # videos in the answer, strong and weak (before paging)
    strong: int = 0  # of which above the cut-off
    signals: dict[str, int] = field(default_factory=dict)  # candidates per signal, for diagnosis

    def to_json(self) -> dict[str, Any]:
        return {
            "results": [
                {
                    "video_id": r.video_id,
                    "path": r.path,
                    "title": r.title,
                    "score": round(r.score, 4),
                    "moments": [
                        {
                            "start": m.start,
                            "end": m.end,
                            "score": round(m.score, 4),
                            "text": m.text,
                            "segment": m.segment,
                        }
                        for m in r.moments
                    ],
                    "weak": r.weak,
                }
                for r in self.results
            ],
            "cut_off": self.cut_off,
            "total": self.total,
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def clean_query(text: str | None) -> str:
    """Control characters become spaces, whitespace collapses; empty or huge queries are refused."""
    if text is None:
        raise QueryError("query is missing")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query is {len(text)} characters long; the limit is {MAX_QUERY_CHARS}")
    cleaned = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        if text.strip():
            raise QueryError("query has nothing to search: only control or invisible characters")
        raise QueryError("query is empty")
    if not any(unicodedata.category(c)[0] in "LN" for c in cleaned):
        # Punctuation or symbols alone name nothing any signal can match: every video would be
        # an equally meaningless "closest".
        raise QueryError(f"query has no words to search: {cleaned[:40]!r} has no letter or digit")
    return cleaned


def check_paging(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise QueryError(f"offset must be between 0 and {MAX_OFFSET}, got {offset}")
