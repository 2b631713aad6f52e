"""What a search and a summary return, and the checks a query must pass: the one definition the
CLI's ``--json``, the API's responses (and their OpenAPI schema) and the web pages share.

Plain dataclasses, so making one on the search path costs no validation; the ``Annotated``
metadata tells pydantic (the API, ``to_json``) how each is shown: scores to 4 decimals, the
diagnostic fields left out."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, PlainSerializer, TypeAdapter

MAX_QUERY_CHARS = 1000
MAX_LIMIT = 100
MAX_OFFSET = 10_000

# Four decimals tell results apart; more would be noise a client might mistake for meaning.
Score = Annotated[float, PlainSerializer(lambda v: round(v, 4), return_type=float)]


class QueryError(ValueError):
    """The query itself is unusable; the message says why (an HTTP 422, a CLI usage error)."""


@dataclass(frozen=True)
class Moment:
    start: float
    end: float
    score: Score
    text: str
    segment: int


@dataclass(frozen=True)
class VideoResult:
    video_id: str
    path: str
    title: str
    score: Score
    moments: list[Moment]
    # Below the relevance cut-off: the closest the library has, shown after every strong result
    # and labelled, so a search with candidates never comes back empty.
    weak: Annotated[
        bool,
        Field(
            description="Below the relevance cut-off: the closest the library has, after every "
            "strong result."
        ),
    ] = False


@dataclass(frozen=True)
class SearchResponse:
    results: list[VideoResult]
    cut_off: Annotated[
        bool,
        Field(
            description="True when nothing in the library is a confident match: every result "
            "is weak."
        ),
    ]
    total: Annotated[
        int, Field(description="Videos in the answer, strong and weak, before paging.")
    ] = 0
    # Of which above the cut-off (the web page's count); not part of the JSON answer.
    strong: Annotated[int, Field(exclude=True)] = 0
    # Candidates per signal, for diagnosis (benchmarks); not part of the JSON answer.
    signals: Annotated[dict[str, int], Field(exclude=True)] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return _SEARCH_JSON.dump_python(self, mode="json")  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SummaryResult:
    video_id: str
    summary: str
    method: Annotated[
        str, Field(description='"bart", or "extractive" when no BART checkpoint is on disk.')
    ]
    model: str

    def to_json(self) -> dict[str, Any]:
        return _SUMMARY_JSON.dump_python(self, mode="json")  # type: ignore[no-any-return]


_SEARCH_JSON = TypeAdapter(SearchResponse)
_SUMMARY_JSON = TypeAdapter(SummaryResult)


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
