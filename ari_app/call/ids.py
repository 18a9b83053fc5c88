"""Ids of the Asterisk objects a call creates, and how to tell whose an object is.

Every bridge, media channel, whisper leg and agent leg a call creates is named
``<caller channel id>-<kind>-<tag>``: the caller's id says which call it belongs to (so a
restarted app can find what a dead predecessor left behind), and the tag, new for every
session, means a session never collides with leftovers of an earlier one (Asterisk answers
409 for a bridge id in use and 500 for an externalMedia channel id in use).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

KINDS = ("whisper-bridge", "bridge", "media", "whisper", "agent")
UNIQUEID = r"(?:[A-Za-z0-9_.-]+-)?\d+\.\d+"
"""An Asterisk channel uniqueid: ``<epoch>.<sequence>``, after ``systemname-`` if set."""
_OBJECT = re.compile(rf"^(?P<call>{UNIQUEID})-(?P<kind>{'|'.join(KINDS)})(?:-[0-9A-Za-z]+)*$")


def new_tag() -> str:
    """A short random tag, unique enough among the sessions of one caller channel."""
    return secrets.token_hex(3)


@dataclass(frozen=True, slots=True)
class CallIds:
    """The ids of one session's objects."""

    call_id: str
    tag: str

    @classmethod
    def for_call(cls, call_id: str) -> CallIds:
        """Ids for a new session of ``call_id``."""
        return cls(call_id, new_tag())

    def of(self, kind: str) -> str:
        """The id of this session's object of ``kind`` (one of :data:`KINDS`)."""
        if kind not in KINDS:
            raise ValueError(f"unknown object kind {kind!r}")
        return f"{self.call_id}-{kind}-{self.tag}"

    @property
    def bridge(self) -> str:
        """The caller's mixing bridge."""
        return self.of("bridge")

    @property
    def media(self) -> str:
        """The caller's externalMedia channel."""
        return self.of("media")

    @property
    def whisper(self) -> str:
        """The whisper's externalMedia channel."""
        return self.of("whisper")

    @property
    def whisper_bridge(self) -> str:
        """The bridge of the whisper leg and the agent."""
        return self.of("whisper-bridge")

    @property
    def agent_prefix(self) -> str:
        """Agent legs are ``<agent_prefix>-<n>``."""
        return self.of("agent")


def owner_of(object_id: str) -> str | None:
    """The caller channel id an object of ours belongs to, or None if it is not ours.

    Only ids made of an Asterisk uniqueid and one of our kinds count, so other
    applications' bridges ("sales-bridge") are never taken for ours.
    """
    found = _OBJECT.match(object_id)
    return found.group("call") if found else None
