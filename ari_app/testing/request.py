"""A validated ARI request of the fake Asterisk, and what a handler returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ari_app.testing.model import FakeError, Json


@dataclass(slots=True)
class AriRequest:
    """A validated ARI request: path parameters, query/body parameters, body variables."""

    path: dict[str, str]
    params: dict[str, str]
    variables: dict[str, Any]
    app: str | None = None

    def get(self, name: str, default: str = "") -> str:
        """A parameter's value (``default`` when absent)."""
        return self.params.get(name, default)

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean parameter."""
        value = self.params.get(name)
        if value is None:
            return default
        return value.lower() in ("true", "1", "yes")

    def number(self, name: str, default: int = 0) -> int:
        """An integer parameter (400 when not a number)."""
        value = self.params.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise FakeError(400, f"{name} must be an integer") from None

    def many(self, name: str) -> list[str]:
        """A comma-separated list parameter."""
        return [v for v in self.params.get(name, "").split(",") if v]


@dataclass(frozen=True, slots=True)
class Created:
    """A ``201 Created`` answer (Asterisk's play and record operations)."""

    body: Json


Result = Json | list[Json] | bytes | Created | None


def variables_of(body: dict[str, Any]) -> dict[str, str]:
    """The ``variables`` object of a request body as plain strings."""
    raw = body.get("variables") if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        return {}
    out = {}
    for key, value in raw.items():
        out[str(key)] = str(value.get("value", "")) if isinstance(value, dict) else str(value)
    return out
