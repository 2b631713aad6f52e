"""What a use case needs from the process's services (services/root.py builds them): a protocol,
so the use-case modules name what they use without importing the root that imports them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.settings import Settings
    from search.service import SearchService
    from search.summary import Summaries


class Handles(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def search(self) -> SearchService: ...

    @property
    def summaries(self) -> Summaries: ...
