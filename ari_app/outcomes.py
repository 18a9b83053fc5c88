"""How a call can end: shared by the call (which decides it) and the store (which keeps it).

A leaf module: it imports nothing from ``ari_app``, so both layers can use it.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """How a call ended."""

    RESOLVED = "resolved"
    """The AI agent answered the caller's questions."""
    HANDED_OFF = "handed_off"
    """A person answered the handed-off call."""
    VOICEMAIL = "voicemail"
    """The caller left a voicemail."""
    ABANDONED = "abandoned"
    """The caller hung up before an outcome."""
    FAILED = "failed"
    """The application failed during the call."""
    INTERRUPTED = "interrupted"
    """The application stopped (crash, kill) while the call was open."""
