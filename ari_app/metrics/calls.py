"""Call metrics fed by the call event stream: active calls, outcomes, reply latency.

A :class:`CallMetrics` is one more listener on every call's events, so a call counts
whether or not there is a store, and the store knows nothing of metrics.
"""

from __future__ import annotations

from ari_app.call.events import AgentSaid, CallEvent, Ended, Started
from ari_app.metrics.registry import ACTIVE_CALLS, CALLS, TURN_LATENCY, Counter, Gauge, Histogram


class CallMetrics:
    """Updates the call metrics from call events (a :data:`CallEventListener`)."""

    def __init__(
        self,
        calls: Counter = CALLS,
        active: Gauge = ACTIVE_CALLS,
        latency: Histogram = TURN_LATENCY,
    ) -> None:
        self.calls = calls
        self.active = active
        self.latency = latency

    def __call__(self, event: CallEvent) -> None:
        """Count one event."""
        if isinstance(event, Started):
            self.active.inc()
        elif isinstance(event, Ended):
            self.active.dec()
            self.calls.inc(outcome=event.outcome)
        elif isinstance(event, AgentSaid) and event.latency_ms is not None:
            self.latency.observe(event.latency_ms / 1000.0)

    def interrupted(self, count: int) -> None:
        """Count calls a previous run left open (closed as ``interrupted`` at start)."""
        if count:
            self.calls.inc(count, outcome="interrupted")
