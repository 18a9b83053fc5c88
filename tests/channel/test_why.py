"""The dashboard's one-line answer to "why did this call go there?"."""

from __future__ import annotations

from ari_app.store.models import CallRecord, Event
from ari_app.web.why import why


def record(reason: str | None, outcome: str | None, *events: tuple[str, str]) -> CallRecord:
    return CallRecord(
        id="c1",
        line="main",
        caller="+15550100",
        did="100",
        started_at=0.0,
        ended_at=None if outcome is None else 30.0,
        outcome=outcome,
        handoff_reason=reason,
        agent=None,
        events=tuple(
            Event(i, "c1", kind, {"agent": agent}, float(i))
            for i, (kind, agent) in enumerate(events)
        ),
    )


def test_routes_in_words() -> None:
    assert why(record(None, "resolved")) == "AI agent → resolved"
    assert (
        why(
            record(
                "asked_for_person", "handed_off", ("agent_ring", "maya"), ("agent_answered", "maya")
            )
        )
        == "AI agent → handed off (asked_for_person) → rang maya → answered by maya"
    )
    assert (
        why(
            record(
                "ai_unavailable: kb_broken",
                "voicemail",
                ("agent_ring", "lena"),
                ("agent_ring", "lena"),
            )
        )
        == "AI agent unavailable (kb_broken) → rang lena → nobody answered → voicemail"
    )
    assert why(record("closed", "voicemail")) == "closed → voicemail"
    assert why(record("people_first", None, ("agent_ring", "omar"))) == (
        "straight to people (people first) → rang omar → in progress"
    )
