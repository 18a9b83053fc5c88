"""The process-wide counters reach ``/metrics`` (issue 14 #16)."""

from __future__ import annotations

import pytest

from ari_app import counters
from ari_app.web import metrics


def test_every_shared_counter_is_rendered_on_metrics() -> None:
    """Fault #16: reconnects, malformed events, dropped and foreign RTP never reached /metrics."""
    counters.ARI_MALFORMED_EVENTS.inc(reason="json", type="StasisStart")
    counters.RTP_FOREIGN_PACKETS.inc()
    text = metrics.REGISTRY.render()
    for c in counters.all_counters():
        assert f"# TYPE {c.name} counter" in text
    assert 'ari_app_ari_malformed_events_total{reason="json",type="StasisStart"}' in text
    assert "ari_app_rtp_foreign_packets_total " in text
    assert text.count("# TYPE ari_app_ari_reconnects_total") == 1


def test_counters_refuse_to_go_down_and_bound_their_series() -> None:
    c = counters.Counter("t_total", "test", labels=("kind",))
    with pytest.raises(ValueError, match="cannot go down"):
        c.inc(-1, kind="a")
    with pytest.raises(ValueError, match="cannot go down"):
        c.inc(float("nan"), kind="a")
    for i in range(1500):
        c.inc(kind=str(i))
    assert len(c.samples()) <= 1001
    assert c.value(kind="overflow") == 500
    assert c.total() == 1500


def test_counter_lookup_is_idempotent() -> None:
    a = counters.counter("t_same_total", "x")
    assert counters.counter("t_same_total", "x") is a
    with pytest.raises(ValueError, match="exists with labels"):
        counters.counter("t_same_total", "x", labels=("other",))
