"""Why a call went where it went, in a few words, from its record (for the dashboard).

``AI agent unavailable (capacity) → rang lena, maya, omar → nobody answered → voicemail``;
``AI agent → handed off (asked_for_person) → rang maya → answered by maya``;
``AI agent → resolved``. Built only from what the store recorded: the handoff reason, the
agents rung and who answered, and the outcome.
"""

from __future__ import annotations

from ari_app.store.models import CallRecord

UNAVAILABLE = "ai_unavailable: "


def _start(reason: str | None) -> list[str]:
    if reason is None:
        return ["AI agent"]
    if reason.startswith(UNAVAILABLE):
        return [f"AI agent unavailable ({reason.removeprefix(UNAVAILABLE)})"]
    if reason == "people_first":
        return ["straight to people (people first)"]
    if reason == "closed":
        return ["closed"]
    return ["AI agent", f"handed off ({reason})"]


def why(call: CallRecord) -> str:
    """The call's route and the reasons for it, steps joined by arrows."""
    steps = _start(call.handoff_reason)
    rung = list(
        dict.fromkeys(str(e.data.get("agent")) for e in call.events if e.kind == "agent_ring")
    )
    answered = [str(e.data.get("agent")) for e in call.events if e.kind == "agent_answered"]
    if rung:
        steps.append("rang " + ", ".join(rung))
        if answered:
            steps.append(f"answered by {answered[0]}")
        elif call.outcome is not None:
            steps.append("nobody answered")
    elif answered:
        steps.append(f"answered by {answered[0]}")
    outcome = call.outcome
    if outcome is None:
        steps.append("in progress")
    elif outcome == "voicemail":
        steps.append("voicemail")
    elif outcome == "resolved":
        steps.append("resolved")
    elif outcome in ("abandoned", "failed"):
        steps.append(outcome)
    return " → ".join(steps)
