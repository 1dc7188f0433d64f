"""Server-rendered inline SVG charts. Each is an image with a title and a description that
states the numbers, so screen readers get the data; colours come from the page's CSS."""
from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def _describe(labels: list[str], values: list[float], unit: str) -> str:
    return "; ".join(f"{label}: {value:g}{unit}" for label, value in zip(labels, values, strict=False))


def bar_chart(*, chart_id: str, title: str, labels: list[str], values: list[float], unit: str = "",
              width: int = 480, height: int = 180, top: float | None = None) -> SafeString:
    """Vertical bars, one per label (e.g. one per day or week). With many bars only every n-th
    label is written under the axis (each bar keeps its own tooltip and the description lists all)."""
    top = top or max([v for v in values] + [1])
    every = max(1, -(-len(values) // max(2, width // 60)))
    pad_left, pad_bottom, pad_top = 36, 28, 14
    inner_w, inner_h = width - pad_left - 8, height - pad_bottom - pad_top
    step = inner_w / max(len(values), 1)
    bar_w = max(4.0, step * 0.6)
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(_describe(labels, values, unit))}</desc>',
        f'<line class="chart-axis" x1="{pad_left}" y1="{pad_top + inner_h}" x2="{width - 4}" y2="{pad_top + inner_h}"/>',
        f'<text class="chart-label" x="{pad_left - 6}" y="{pad_top + 4}" text-anchor="end">{top:g}</text>',
        f'<text class="chart-label" x="{pad_left - 6}" y="{pad_top + inner_h}" text-anchor="end">0</text>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=False)):
        h = 0 if top == 0 else inner_h * (max(value, 0) / top)
        x = pad_left + i * step + (step - bar_w) / 2
        y = pad_top + inner_h - h
        parts.append(f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" rx="2">'
                     f'<title>{escape(label)}: {value:g}{escape(unit)}</title></rect>')
        if i % every == 0:
            parts.append(f'<text class="chart-label" x="{x + bar_w / 2:.1f}" y="{height - 10}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic part is escaped above


def hbar_chart(*, chart_id: str, title: str, labels: list[str], values: list[float], scale: float,
               goal: float | None = None, unit: str = "", width: int = 480) -> SafeString:
    """Horizontal bars, one row per person: progress towards a goal (or the leader)."""
    row_h, label_w, pad = 26, 130, 8
    height = max(1, len(values)) * row_h + pad * 2
    inner_w = width - label_w - 56
    scale = max(scale, 1)
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(_describe(labels, values, unit))}'
        f'{escape(f"; goal {goal:g}{unit}") if goal else ""}</desc>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=False)):
        y = pad + i * row_h
        w = inner_w * min(value, scale) / scale
        parts.append(f'<text class="chart-label" x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(label[:18])}</text>')
        parts.append(f'<rect class="chart-track" x="{label_w}" y="{y + 5}" width="{inner_w}" height="14" rx="7"/>')
        parts.append(f'<rect class="chart-bar" x="{label_w}" y="{y + 5}" width="{w:.1f}" height="14" rx="7"/>')
        parts.append(f'<text class="chart-label" x="{label_w + inner_w + 6}" y="{y + 17}">{value:g}{escape(unit)}</text>')
    if goal:
        parts.append(f'<line class="chart-goal" x1="{label_w + inner_w}" y1="{pad}" x2="{label_w + inner_w}" y2="{height - pad}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic part is escaped above
