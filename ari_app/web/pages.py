"""The dashboard's HTML, rendered on the server from store records (every value escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ari_app.store.models import CallRecord, VoicemailRecord, iso
from ari_app.store.report import Report
from ari_app.web.chart import bar_chart
from ari_app.web.why import why

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f5f8}.muted{color:#777}.turn-caller{color:#06c}.turn-assistant{color:#393}
section{margin-bottom:2em}.num{font-size:1.4em;font-weight:bold}
"""

LIVE_SCRIPT = """
async function refreshLive(){
  const r = await fetch('/api/live', {credentials: 'same-origin'});
  if (!r.ok) return;
  const calls = await r.json();
  const body = document.querySelector('#live tbody');
  body.replaceChildren(...calls.map(c => {
    const tr = document.createElement('tr');
    for (const v of [c.started_at, c.line, c.caller || '', c.handoff_reason || '',
                     String(c.turns.length)]) {
      const td = document.createElement('td'); td.textContent = v; tr.append(td);
    }
    return tr;
  }));
  document.querySelector('#live-count').textContent = String(calls.length);
}
setInterval(refreshLive, 3000);
"""


def _e(value: object) -> str:
    return "" if value is None else escape(str(value))


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} s"


def transcript_html(call: CallRecord) -> str:
    """The turns of a call as a list."""
    if not call.turns:
        return '<p class="muted">no turns</p>'
    items = "".join(
        f'<li class="turn-{_e(t.speaker)}"><b>{_e(t.speaker)}</b>: {_e(t.text)}'
        + (f' <span class="muted">({t.confidence:.2f})</span>' if t.confidence else "")
        + "</li>"
        for t in call.turns
    )
    return f'<ol class="transcript">{items}</ol>'


def _live_rows(calls: Sequence[CallRecord]) -> str:
    return "".join(
        f"<tr><td>{_e(iso(c.started_at))}</td><td>{_e(c.line)}</td><td>{_e(c.caller)}</td>"
        f"<td>{_e(c.handoff_reason)}</td><td>{len(c.turns)}</td></tr>"
        for c in calls
    )


def _call_rows(calls: Sequence[CallRecord]) -> str:
    rows = []
    for c in calls:
        rows.append(
            f'<tr class="call" data-call-id="{_e(c.id)}"><td>{_e(iso(c.started_at))}</td>'
            f"<td>{_e(c.line)}</td><td>{_e(c.caller)}</td><td>{_e(c.outcome)}</td>"
            f"<td>{_e(c.handoff_reason)}</td><td>{_e(c.agent)}</td>"
            f'<td class="why">{_e(why(c))}</td>'
            f"<td>{_seconds(c.duration_s)}</td>"
            f"<td><details><summary>{len(c.turns)} turns</summary>{transcript_html(c)}"
            f'</details> <a href="/calls/{_e(c.id)}">open</a></td></tr>'
        )
    return "".join(rows)


def _voicemail_rows(voicemails: Sequence[VoicemailRecord]) -> str:
    rows = []
    for v in voicemails:
        playable = v.state in ("stored", "saved", "done")
        audio = (
            f'<audio controls preload="metadata" data-voicemail-id="{v.id}" '
            f'src="/voicemails/{v.id}/audio"></audio>'
            if playable
            else f'<span class="muted">{_e(v.state)}</span>'
        )
        rows.append(
            f'<tr class="voicemail"><td>{_e(iso(v.recorded_at))}</td><td>{_e(v.caller)}</td>'
            f"<td>{_e(v.line)}</td><td>{_seconds(v.duration_s)}</td>"
            f"<td>{_e(v.transcript) or '<span class=muted>(no transcript)</span>'}</td>"
            f"<td>{audio}</td></tr>"
        )
    return "".join(rows)


def _report_html(report: Report) -> str:
    outcome_chart = bar_chart(
        "Calls by outcome", [(k.replace("_", " "), float(v)) for k, v in report.outcomes.items()]
    )
    reasons_chart = bar_chart(
        "Handoffs by reason", [(h.reason, float(h.calls)) for h in report.handoffs]
    )
    gaps = (
        "".join(
            f"<li>{_e(g.question)} <span class=muted>×{g.count}</span></li>"
            for g in report.knowledge_gaps
        )
        or "<li class=muted>none</li>"
    )
    agents = "".join(
        f"<tr><td>{_e(a.agent)}</td><td>{a.answered}/{a.rung}</td>"
        f"<td>{_pct(a.answer_rate)}</td></tr>"
        for a in report.agents
    )
    return (
        '<table class="figures"><tr>'
        f'<td>ended calls<div class="num" id="ended-calls">{report.ended_calls}</div></td>'
        f'<td>resolution<div class="num">{_pct(report.resolution_rate)}</div></td>'
        f'<td>deflection<div class="num">{_pct(report.deflection_rate)}</div></td>'
        f'<td>agent answer<div class="num">{_pct(report.agent_answer_rate)}</div></td>'
        f'<td>voicemails<div class="num">{report.voicemails}</div></td>'
        "</tr></table>"
        f"{outcome_chart} {reasons_chart}"
        "<h3>Agents</h3><table><tr><th>agent</th><th>answered/rung</th><th>rate</th></tr>"
        f"{agents}</table>"
        f'<h3>Questions we could not answer</h3><ol id="gaps">{gaps}</ol>'
    )


def page(title: str, body: str, script: str = "") -> str:
    """A whole HTML document."""
    js = f"<script>{script}</script>" if script else ""
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}{js}</body></html>"
    )


def dashboard_html(
    live: Sequence[CallRecord],
    recent: Sequence[CallRecord],
    voicemails: Sequence[VoicemailRecord],
    report: Report,
) -> str:
    """The dashboard: live calls, recent calls, voicemails, report."""
    head = "<tr><th>started</th><th>line</th><th>caller</th><th>handoff</th><th>turns</th></tr>"
    body = (
        "<h1>ari_app front desk</h1>"
        f'<section><h2>Live calls (<span id="live-count">{len(live)}</span>)</h2>'
        f'<table id="live"><thead>{head}</thead><tbody>{_live_rows(live)}</tbody></table></section>'
        '<section><h2>Recent calls</h2><table id="calls"><tr><th>started</th><th>line</th>'
        "<th>caller</th><th>outcome</th><th>handoff</th><th>agent</th><th>why</th><th>length</th>"
        f"<th>transcript</th></tr>{_call_rows(recent)}</table></section>"
        '<section><h2>Voicemails</h2><table id="voicemails"><tr><th>time</th><th>caller</th>'
        "<th>line</th><th>length</th><th>transcript</th><th>audio</th></tr>"
        f"{_voicemail_rows(voicemails)}</table></section>"
        f'<section id="report"><h2>Report</h2>{_report_html(report)}</section>'
    )
    return page("ari_app dashboard", body, LIVE_SCRIPT)


def call_html(call: CallRecord) -> str:
    """One call's page: its facts, transcript and events."""
    events = "".join(
        f"<tr><td>{_e(iso(e.at))}</td><td>{_e(e.kind)}</td><td>{_e(e.data)}</td></tr>"
        for e in call.events
    )
    body = (
        f'<p><a href="/">dashboard</a></p><h1>Call {_e(call.id)}</h1>'
        f"<p>{_e(call.caller)} on {_e(call.line)} at {_e(iso(call.started_at))}: "
        f"<b>{_e(call.outcome or 'live')}</b> {_e(call.handoff_reason)} {_e(call.agent)}</p>"
        f'<p class="why">{_e(why(call))}</p>'
        f"<h2>Transcript</h2>{transcript_html(call)}"
        f"<h2>Events</h2><table>{events}</table>"
    )
    return page(f"call {call.id}", body)
