"""A metric plotted per registered version, as inline SVG rendered on the server (no script, no CDN)."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 260, 120
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 20, 24


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def metric_chart(metric: str, points: list[tuple[int, float]]) -> Markup:
    """One small line chart: x = version number, y = the metric's value; every point labelled."""
    versions = [v for v, _ in points]
    values = [float(y) for _, y in points]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - (abs(low) or 1) * 0.05, high + (abs(high) or 1) * 0.05
    span_x = max(versions) - min(versions) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(version: int, value: float) -> tuple[float, float]:
        x = LEFT + (plot_w / 2 if len(points) == 1 else (version - min(versions)) / span_x * plot_w)
        y = TOP + (high - value) / (high - low) * plot_h
        return round(x, 1), round(y, 1)

    coords = [xy(v, y) for v, y in points]
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(metric)} per version" '
        f'data-metric="{escape(metric)}">',
        f'<text x="{LEFT}" y="13" font-size="12" font-weight="bold" fill="#333">{escape(metric)}</text>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#999"/>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" font-size="10" text-anchor="end" fill="#555">{_fmt(high)}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" font-size="10" text-anchor="end" fill="#555">{_fmt(low)}</text>',
    ]
    if len(coords) > 1:
        path = " ".join(f"{x},{y}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f6feb" stroke-width="2"/>')
    for (version, value), (x, y) in zip(points, coords, strict=True):
        parts += [
            f'<circle cx="{x}" cy="{y}" r="4" fill="#1f6feb"><title>v{version}: {_fmt(value)}</title></circle>',
            f'<text x="{x}" y="{HEIGHT - 8}" font-size="10" text-anchor="middle" fill="#555">v{version}</text>',
            f'<text x="{x + 6}" y="{y - 6}" font-size="10" fill="#1f3d7a">{_fmt(value)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
