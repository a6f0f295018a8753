"""Slack's data visualization block (Block Kit, changelog of 16 June 2026): a line chart. Pure.

The block's limits, from Slack's reference (docs.slack.dev/reference/block-kit/blocks/
data-visualization-block): `title` at most 50 characters; a line chart has 1 to 6 series with unique
names of at most 20 characters, each with one data point (`label`, `value`) per category, 1 to 20 of
them; categories at most 20 characters; `x_label` / `y_label` at most 50; at most two such blocks in a
message. slack_sdk has no model for this block yet, so the dict is built here, fitted to those limits
by construction (the Slack stand-in checks them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from messages import blocks

BLOCK_TYPE = "data_visualization"
TITLE_MAX = 50
NAME_MAX = 20
CATEGORY_MAX = 20
AXIS_LABEL_MAX = 50
SERIES_MAX = 6
POINTS_MAX = 20
PER_MESSAGE = 2


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]  # one per category, in the categories' order


def fitted(text: str, limit: int) -> str:
    """`text` escaped (it may be a provider's) and, when too long, cut to end with "…" so that the
    escaped form fits `limit` characters, never in the middle of an entity."""
    if len(blocks.escape(text)) <= limit:
        return blocks.escape(text)
    cut = text[: limit - 1]  # escaping only lengthens: start from the longest cut that could fit
    while cut and len(blocks.escape(cut)) > limit - 1:
        cut = cut[:-1]
    return blocks.escape(cut) + "…"


def line_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    x_label: str | None = None,
    y_label: str | None = None,
) -> dict:
    """A line chart block of the last POINTS_MAX categories and the first SERIES_MAX series.

    Raises ValueError when there is nothing to draw (no category or no series) or when the
    categories are not unique once fitted, or a series does not have one value per category:
    a caller's bug, never the provider's data."""
    if not categories or not series:
        raise ValueError("a chart needs at least one category and one series")
    keep = len(categories) - min(len(categories), POINTS_MAX)
    labels = [fitted(c, CATEGORY_MAX) for c in categories[keep:]]
    if len(set(labels)) != len(labels):
        raise ValueError(f"chart categories must be unique: {labels}")
    drawn, names = [], set()
    for s in series[:SERIES_MAX]:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(categories)} categories")
        name = fitted(s.name, NAME_MAX)
        if name in names:
            raise ValueError(f"chart series names must be unique: {name!r}")
        names.add(name)
        points = [
            {"label": label, "value": value} for label, value in zip(labels, s.values[keep:], strict=True)
        ]
        drawn.append({"name": name, "data": points})
    axis: dict = {"categories": labels}
    if x_label:
        axis["x_label"] = fitted(x_label, AXIS_LABEL_MAX)
    if y_label:
        axis["y_label"] = fitted(y_label, AXIS_LABEL_MAX)
    return {
        "type": BLOCK_TYPE,
        "title": fitted(title, TITLE_MAX),
        "chart": {"type": "line", "series": drawn, "axis_config": axis},
    }


def without_charts(message: dict) -> dict:
    """The same message with its chart blocks left out (for a Slack that refused them)."""
    if "blocks" not in message:
        return message
    return {**message, "blocks": [b for b in message["blocks"] if b.get("type") != BLOCK_TYPE]}


def has_charts(message: dict) -> bool:
    return any(b.get("type") == BLOCK_TYPE for b in message.get("blocks") or ())
