"""The Slack stand-in's check of the data visualization block (Block Kit reference,
docs.slack.dev/reference/block-kit/blocks/data-visualization-block; changelog of 16 June 2026).

Slack refuses a message whose blocks break the schema with `invalid_blocks` and names each problem in
`response_metadata.messages` as `[ERROR] <what> [json-pointer:/blocks/<i>/<field>]`. Checked here:
`title` (required, at most 50 characters); `chart.type` one of pie, bar, area, line; pie: 1 to 6
`segments`, each a `label` of at most 20 characters and a `value` above 0; bar, area and line: 1 to 6
`series` with unique `name`s of at most 20 characters, each 1 to 20 `data` points (`label`, numeric
`value`) whose labels are the `axis_config.categories` (each at most 20 characters), `x_label` and
`y_label` at most 50; at most two such blocks in a message. A workspace whose clients lack the block
(`unsupported`) refuses any of them, as Slack does for a block type it does not know.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

BLOCK = "data_visualization"
PER_MESSAGE = 2
SERIES_CHARTS = {"bar", "area", "line"}


def _text(value, limit: int) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    return f"must be less than {limit + 1} characters" if len(value) > limit else None


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _chart_errors(chart, at: str) -> Iterable[tuple[str, str]]:
    if not isinstance(chart, dict):
        yield "must be an object", at
        return
    kind = chart.get("type")
    if kind == "pie":
        segments = chart.get("segments")
        if not isinstance(segments, list) or not 1 <= len(segments) <= 6:
            yield "must provide between 1 and 6 items", f"{at}/segments"
            return
        for i, seg in enumerate(segments):
            if (bad := _text(seg.get("label") if isinstance(seg, dict) else None, 20)) is not None:
                yield bad, f"{at}/segments/{i}/label"
            if not isinstance(seg, dict) or not _number(seg.get("value")) or seg["value"] <= 0:
                yield "must be a number greater than 0", f"{at}/segments/{i}/value"
        return
    if kind not in SERIES_CHARTS:
        yield "must be one of pie, bar, area, line", f"{at}/type"
        return
    axis = chart.get("axis_config")
    categories = axis.get("categories") if isinstance(axis, dict) else None
    if not isinstance(categories, list) or not categories:
        yield "must provide at least 1 item", f"{at}/axis_config/categories"
        return
    for i, category in enumerate(categories):
        if (bad := _text(category, 20)) is not None:
            yield bad, f"{at}/axis_config/categories/{i}"
    for key in ("x_label", "y_label"):
        if key in axis and (bad := _text(axis[key], 50)) is not None:
            yield bad, f"{at}/axis_config/{key}"
    series = chart.get("series")
    if not isinstance(series, list) or not 1 <= len(series) <= 6:
        yield "must provide between 1 and 6 items", f"{at}/series"
        return
    names: set[str] = set()
    for i, s in enumerate(series):
        where = f"{at}/series/{i}"
        if not isinstance(s, dict):
            yield "must be an object", where
            continue
        if (bad := _text(s.get("name"), 20)) is not None:
            yield bad, f"{where}/name"
        elif s["name"] in names:
            yield "series names must be unique", f"{where}/name"
        else:
            names.add(s["name"])
        data = s.get("data")
        if not isinstance(data, list) or not 1 <= len(data) <= 20:
            yield "must provide between 1 and 20 items", f"{where}/data"
            continue
        labels = [p.get("label") if isinstance(p, dict) else None for p in data]
        if labels != categories:
            yield "data point labels must match axis_config.categories", f"{where}/data"
        for j, p in enumerate(data):
            if not isinstance(p, dict) or not _number(p.get("value")):
                yield "must be a number", f"{where}/data/{j}/value"


def block_errors(blocks: Sequence, unsupported: Iterable[str] = ()) -> list[str]:
    """Slack's `response_metadata.messages` for the data visualization blocks of a message; [] when
    they pass."""
    errors: list[str] = []
    seen = 0
    refused = set(unsupported)
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or block.get("type") != BLOCK:
            continue
        at = f"/blocks/{i}"
        if BLOCK in refused:
            errors.append(f"[ERROR] unsupported type: {BLOCK} [json-pointer:{at}/type]")
            continue
        seen += 1
        if seen > PER_MESSAGE:
            errors.append(f"[ERROR] no more than {PER_MESSAGE} {BLOCK} blocks allowed [json-pointer:{at}]")
        if (bad := _text(block.get("title"), 50)) is not None:
            errors.append(f"[ERROR] {bad} [json-pointer:{at}/title]")
        errors += [
            f"[ERROR] {what} [json-pointer:{where}]"
            for what, where in _chart_errors(block.get("chart"), f"{at}/chart")
        ]
    return errors
