"""The support lead's report: outcomes, resolution, deflection, handoffs, agents, voicemail, gaps.

Definitions (over calls that have ended, started at or after ``since``):

- resolution rate: ``resolved`` calls / ended calls.
- deflection rate: ``resolved`` / (``resolved`` + escalated calls), where a call is
  escalated if a handoff started or it ended in ``handed_off`` or ``voicemail``: of
  the callers whose need was met one way or another, the share met without people.
- handoff rate by reason: calls whose handoff started for that reason / ended calls.
- agent answer rate: handed-off calls a person answered (``handed_off``) / calls with a
  handoff;
  per agent: calls answered / calls on which the agent was rung (``agent_ring`` events
  with ``{"agent": NAME}``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ari_app.store.models import Outcome, iso
from ari_app.store.reader import StoreReader

EVENT_AGENT_RING = "agent_ring"
"""Event kind a call session records each time it rings an agent (data: ``{"agent": name}``)."""


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@dataclass(frozen=True)
class HandoffLine:
    """Handoffs for one reason."""

    reason: str
    calls: int
    rate: float | None


@dataclass(frozen=True)
class AgentLine:
    """How one agent answered."""

    agent: str
    rung: int
    answered: int
    answer_rate: float | None


@dataclass(frozen=True)
class GapLine:
    """A question the front desk could not answer, and how often it was asked."""

    question: str
    count: int


@dataclass(frozen=True)
class Report:
    """Everything ``ari-app report`` and the dashboard show."""

    since: float | None
    ended_calls: int
    live_calls: int
    outcomes: dict[str, int]
    resolution_rate: float | None
    deflection_rate: float | None
    handoff_calls: int
    handoffs: list[HandoffLine]
    agent_answer_rate: float | None
    agents: list[AgentLine]
    voicemails: int
    voicemails_pending: int
    voicemails_failed: int
    voicemail_seconds: float
    mean_turn_latency_ms: float | None
    knowledge_gaps: list[GapLine]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["since"] = iso(self.since)
        return data


def build_report(reader: StoreReader, since: float | None = None, top_gaps: int = 10) -> Report:
    """Compute the report from the store (sync: call via ``reader.run`` from async code)."""
    cond, params = ("AND started_at >= ?", (since,)) if since is not None else ("", ())
    outcomes = {o.value: 0 for o in Outcome}
    for outcome, count in reader.query(
        f"SELECT outcome, COUNT(*) FROM calls WHERE outcome IS NOT NULL {cond} GROUP BY outcome",
        params,
    ):
        outcomes[str(outcome)] = int(count)
    ended = sum(outcomes.values())
    live = int(
        reader.query(f"SELECT COUNT(*) FROM calls WHERE outcome IS NULL {cond}", params)[0][0]
    )
    resolved = outcomes[Outcome.RESOLVED.value]
    escalated = int(
        reader.query(
            "SELECT COUNT(*) FROM calls WHERE outcome IS NOT NULL "
            f"AND (handoff_reason IS NOT NULL OR outcome IN ('handed_off', 'voicemail')) {cond}",
            params,
        )[0][0]
    )
    reasons = reader.query(
        "SELECT handoff_reason, COUNT(*) FROM calls WHERE outcome IS NOT NULL "
        f"AND handoff_reason IS NOT NULL {cond} GROUP BY handoff_reason ORDER BY 2 DESC, 1",
        params,
    )
    handoff_calls = sum(int(n) for _, n in reasons)
    answered_handoffs = int(
        reader.query(
            "SELECT COUNT(*) FROM calls WHERE outcome = 'handed_off' "
            f"AND handoff_reason IS NOT NULL {cond}",
            params,
        )[0][0]
    )
    handoffs = [HandoffLine(str(r), int(n), _rate(int(n), ended)) for r, n in reasons]

    answered = dict(
        reader.query(
            "SELECT agent, COUNT(*) FROM calls WHERE outcome = 'handed_off' "
            f"AND agent IS NOT NULL {cond} GROUP BY agent",
            params,
        )
    )
    rung_agent = reader.json_text("e.data", "agent")
    rung = dict(
        reader.query(
            f"SELECT {rung_agent}, COUNT(DISTINCT e.call_id) "
            "FROM events e JOIN calls c ON c.id = e.call_id "
            f"WHERE e.kind = ? AND c.outcome IS NOT NULL "
            f"{cond.replace('started_at', 'c.started_at')} "
            f"AND {rung_agent} IS NOT NULL GROUP BY 1",
            (EVENT_AGENT_RING, *params),
        )
    )
    agents = []
    for agent in sorted(set(answered) | set(rung)):
        took = int(answered.get(agent, 0))
        tried = max(int(rung.get(agent, 0)), took)
        agents.append(AgentLine(str(agent), tried, took, _rate(took, tried)))

    vm_cond, vm_params = ("WHERE recorded_at >= ?", (since,)) if since is not None else ("", ())
    vm_states = dict(
        reader.query(f"SELECT state, COUNT(*) FROM voicemails {vm_cond} GROUP BY state", vm_params)
    )
    vm_seconds = reader.query(
        f"SELECT COALESCE(SUM(duration_s), 0) FROM voicemails {vm_cond}", vm_params
    )[0][0]
    latency = reader.query(
        "SELECT AVG(t.latency_ms) FROM turns t JOIN calls c ON c.id = t.call_id "
        f"WHERE t.latency_ms IS NOT NULL {cond.replace('started_at', 'c.started_at')}",
        params,
    )[0][0]
    gap_cond, gap_params = ("WHERE at >= ?", (since,)) if since is not None else ("", ())
    gaps = [
        GapLine(str(question), int(count))
        for _, question, count in reader.query(
            "SELECT normalized, MAX(question), COUNT(*) FROM knowledge_gaps "
            f"{gap_cond} GROUP BY normalized ORDER BY 3 DESC, 1 LIMIT ?",
            (*gap_params, top_gaps),
        )
    ]
    return Report(
        since=since,
        ended_calls=ended,
        live_calls=live,
        outcomes=outcomes,
        resolution_rate=_rate(resolved, ended),
        deflection_rate=_rate(resolved, resolved + escalated),
        handoff_calls=handoff_calls,
        handoffs=handoffs,
        agent_answer_rate=_rate(answered_handoffs, handoff_calls),
        agents=agents,
        voicemails=sum(int(v) for v in vm_states.values()),
        voicemails_pending=sum(
            int(v) for k, v in vm_states.items() if k not in ("done", "failed", "empty")
        ),
        voicemails_failed=int(vm_states.get("failed", 0)),
        voicemail_seconds=float(vm_seconds),
        mean_turn_latency_ms=None if latency is None else float(latency),
        knowledge_gaps=gaps,
    )
