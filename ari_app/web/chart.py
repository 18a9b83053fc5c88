"""A horizontal bar chart as inline SVG (no script, no network)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR_H = 22
GAP = 6
LABEL_W = 130
BAR_W = 320


def bar_chart(title: str, bars: Sequence[tuple[str, float]], unit: str = "") -> str:
    """An SVG element drawing ``bars`` (label, value) scaled to the largest value."""
    top = max((v for _, v in bars), default=0.0) or 1.0
    height = len(bars) * (BAR_H + GAP) + 30
    width = LABEL_W + BAR_W + 70
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(bars):
        y = 26 + i * (BAR_H + GAP)
        w = round(BAR_W * value / top, 1)
        text = f"{value:g}{unit}"
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" data-label="{escape(label)}" data-value="{value:g}" '
            f'x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H}" fill="#3b7dd8"/>'
            f'<text x="{LABEL_W + w + 6}" y="{y + 16}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
