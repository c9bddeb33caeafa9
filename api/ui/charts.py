"""Small server-rendered SVG bar charts (no JavaScript, no chart library); the page shows the data as a table too."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR = "#1d4f91"  # 8.6:1 on white
AXIS = "#4a4a4a"


def columns(title: str, items: list[tuple[str, float | None, str]], *, max_value: float, height: int = 220) -> Markup:
    """Vertical bars: one (label, value, value text) per column; None draws no bar but keeps the slot."""
    if not items:
        return Markup("")
    slot, top, bottom, left = 56, 20, 44, 40
    width = left + slot * len(items) + 10
    plot = height - top - bottom
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for frac in (0.0, 0.5, 1.0):
        y = top + plot * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - 5}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d0d0"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{AXIS}">'
                     f'{escape(_tick(frac * max_value, max_value))}</text>')
    for i, (label, value, text) in enumerate(items):
        x = left + i * slot + 8
        if value is not None and max_value > 0:
            h = plot * min(value, max_value) / max_value
            parts.append(f'<rect x="{x}" y="{top + plot - h:.1f}" width="{slot - 16}" height="{h:.1f}" fill="{BAR}">'
                         f'<title>{escape(label)}: {escape(text)}</title></rect>')
            parts.append(f'<text x="{x + (slot - 16) / 2:.1f}" y="{top + plot - h - 4:.1f}" text-anchor="middle" '
                         f'font-size="11" fill="{AXIS}">{escape(text)}</text>')
        parts.append(f'<text x="{x + (slot - 16) / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                     f'font-size="11" fill="{AXIS}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def rows(title: str, items: list[tuple[str, float | None, str]], *, max_value: float) -> Markup:
    """Horizontal bars: one (label, value, value text) per row."""
    if not items:
        return Markup("")
    row_h, label_w, width = 30, 150, 560
    plot = width - label_w - 70
    height = row_h * len(items) + 10
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (label, value, text) in enumerate(items):
        y = 5 + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" font-size="13" fill="{AXIS}">'
                     f'{escape(label)}</text>')
        w = plot * min(value, max_value) / max_value if value is not None and max_value > 0 else 0
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" fill="{BAR}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 19}" font-size="13" fill="{AXIS}">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _tick(value: float, max_value: float) -> str:
    return f"{value:.0f}" if max_value >= 10 else f"{value:.1f}"
