"""Knowledge gaps: questions the agent could not answer, kept for the people who write answers.

Each unanswered question becomes a :class:`Gap` (what was said, what the engine thought was
closest, how sure it was, why it gave up, when). Gaps are kept in memory for the dashboard
and, when a file is given, appended to a JSON-lines file in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from ari_app.answer.text import normalize

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gap:
    """One question the agent could not answer."""

    line: str
    question: str
    closest_entry: str | None
    confidence: float
    reason: str
    at: datetime

    def to_json(self) -> str:
        """One JSON line."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Gap:
        """Parse a line written by :meth:`to_json`."""
        data = json.loads(text)
        data["at"] = datetime.fromisoformat(data["at"])
        return cls(**data)


class KnowledgeGaps:
    """The most recent gaps in memory, optionally appended to a JSON-lines file."""

    def __init__(self, path: Path | None = None, keep: int = 1000) -> None:
        self.path = path
        self._recent: deque[Gap] = deque(maxlen=keep)
        self._file_lock = threading.Lock()

    def add(self, gap: Gap) -> None:
        """Keep ``gap`` in memory only."""
        self._recent.append(gap)
        log.info("knowledge gap on %s (%s): %r", gap.line, gap.reason, gap.question)

    def _append(self, gap: Gap) -> None:
        assert self.path is not None
        with self._file_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(gap.to_json() + "\n")

    async def record(self, gap: Gap) -> None:
        """Keep ``gap`` and append it to the file (in a worker thread) if there is one."""
        self.add(gap)
        if self.path is not None:
            try:
                await asyncio.to_thread(self._append, gap)
            except OSError:
                log.exception("could not append knowledge gap to %s", self.path)

    def recent(self, limit: int = 50) -> list[Gap]:
        """The newest gaps first."""
        return list(reversed(self._recent))[:limit]

    def most_asked(self, limit: int = 20) -> list[tuple[str, int]]:
        """Unanswered questions (normalised) by how often they were asked."""
        return Counter(normalize(g.question) for g in self._recent).most_common(limit)

    @staticmethod
    def read(path: Path) -> list[Gap]:
        """Every gap in a JSON-lines file; unreadable lines are logged and skipped."""
        gaps: list[Gap] = []
        if not path.exists():
            return gaps
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                gaps.append(Gap.from_json(line))
            except (ValueError, TypeError, KeyError):
                log.warning("%s:%d: not a knowledge gap record, skipped", path, number)
        return gaps
