"""Slack's data visualization block drawn for the sandbox: an inline SVG on the page, a sparkline per
series in the terminal. Line, area and bar charts are drawn as lines over their categories, a pie as
its shares (the page is a stand-in for Slack's client, not a chart library)."""

from __future__ import annotations

from html import escape

SPARK = "▁▂▃▄▅▆▇█"
COLOURS = ("#1264a3", "#2bac76", "#e8912d", "#cd2553", "#7c3085", "#616061")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 480, 200, 36, 12, 12, 40


def _plain(text: object) -> str:
    """The block's text as a person reads it: Slack shows its entities as the characters."""
    return str(text or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _series(block: dict) -> tuple[list[str], list[tuple[str, list[float]]]]:
    chart = block.get("chart") or {}
    if chart.get("type") == "pie":
        segments = chart.get("segments") or []
        return [_plain(s.get("label")) for s in segments], [("", [_number(s.get("value")) for s in segments])]
    categories = [_plain(c) for c in (chart.get("axis_config") or {}).get("categories") or []]
    series = [
        (_plain(s.get("name")), [_number(p.get("value")) for p in s.get("data") or []])
        for s in chart.get("series") or []
    ]
    return categories, series


def chart_svg(block: dict) -> str:
    """The chart as an inline SVG with its title, axes, one polyline per series and a legend."""
    title = _plain(block.get("title"))
    categories, series = _series(block)
    top = max([v for _, values in series for v in values] + [1.0])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(categories) - 1)

    def x(i: int) -> float:
        return LEFT + i * step if len(categories) > 1 else LEFT + plot_w / 2

    def y(v: float) -> float:
        return TOP + plot_h - v / top * plot_h

    parts = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#ccc"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end" font-size="10">{top:g}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end" font-size="10">0</text>',
    ]
    shown = {0, len(categories) - 1, (len(categories) - 1) // 2}  # three labels: never crowded
    for i, label in enumerate(categories):
        if i in shown:
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" font-size="10">'
                f"{escape(label)}</text>"
            )
    legend = []
    for n, (name, values) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
        if name:
            legend.append(f'<span class="legend" style="color:{colour}">■ {escape(name)}</span>')
    svg = (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}">{"".join(parts)}</svg>'
    )
    return (
        f'<div class="block chart"><div class="chart-title"><b>{escape(title)}</b></div>{svg}'
        f'<div class="chart-legend">{" ".join(legend)}</div></div>'
    )


def sparkline(values: list[float], top: float) -> str:
    """`values` as bars of one scale (`top` the highest of every series, so they compare)."""
    return "".join(SPARK[round(max(v, 0.0) / top * (len(SPARK) - 1))] if top else SPARK[0] for v in values)


def chart_lines(block: dict) -> list[str]:
    """The chart in a terminal: its title, then each series as a sparkline with its last value."""
    categories, series = _series(block)
    span = f" ({categories[0]} – {categories[-1]})" if len(categories) > 1 else ""
    lines = [f"📈 {_plain(block.get('title'))}{span}"]
    top = max([v for _, values in series for v in values] + [0.0])
    for name, values in series:
        last = f"{values[-1]:g}" if values else "—"
        lines.append(f"   {name or 'shares'}: {sparkline(values, top)} {last}")
    return lines
