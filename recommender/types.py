"""What the recommender answers: the one definition the CLI, the API (its schema too) and the web
page share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field


@dataclass(frozen=True)
class Recommendation:
    """One recommended video, as the CLI, the API (its schema too) and the web page show it."""

    video_id: str
    path: str
    title: str
    score: float
    reason: Annotated[
        str, Field(description='Why, for people: "because you watched X", "new", ...')
    ]
    reason_kind: Annotated[str, Field(description="content, co-watch, popular, new or library")]
    because_video_id: Annotated[
        str | None, Field(description="The user's own video the reason names.")
    ]

    def as_dict(self) -> dict[str, Any]:
        """The contract of `vidsearch recommend --json` and `GET /users/{id}/recommendations`."""
        return {
            "video_id": self.video_id,
            "path": self.path,
            "title": self.title,
            "score": round(self.score, 4),
            "reason": self.reason,
            "reason_kind": self.reason_kind,
            "because_video_id": self.because_video_id,
        }
