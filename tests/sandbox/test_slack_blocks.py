"""The Slack stand-in checks the data visualization block as Slack's reference describes it, and
answers `invalid_blocks` with its `response_metadata.messages` (and for a workspace without the block)."""

from __future__ import annotations

import copy

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from sandbox.standins.slack_blocks import block_errors

LINE = {
    "type": "data_visualization",
    "title": "HubSpot: paid seats and active people",
    "chart": {
        "type": "line",
        "series": [
            {
                "name": "Paid seats",
                "data": [{"label": "9 Nov", "value": 40}, {"label": "16 Nov", "value": 41}],
            },
            {
                "name": "Active paid users",
                "data": [{"label": "9 Nov", "value": 30}, {"label": "16 Nov", "value": 28}],
            },
        ],
        "axis_config": {"categories": ["9 Nov", "16 Nov"], "y_label": "Seats"},
    },
}
PIE = {
    "type": "data_visualization",
    "title": "Seats",
    "chart": {"type": "pie", "segments": [{"label": "Used", "value": 30}, {"label": "Idle", "value": 10}]},
}


def changed(block: dict, path: str, value) -> dict:
    """`block` with the field at `path` ("chart/series/0/name") set to `value` (or removed if None)."""
    out = copy.deepcopy(block)
    *parents, last = path.split("/")
    node = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is None:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


@pytest.mark.parametrize(
    ("block", "pointer"),
    [
        (changed(LINE, "title", "t" * 51), "/blocks/0/title"),
        (changed(LINE, "title", None), "/blocks/0/title"),
        (changed(LINE, "chart/type", "scatter"), "/blocks/0/chart/type"),
        (changed(LINE, "chart/series/1/name", "Paid seats"), "/blocks/0/chart/series/1/name"),
        (changed(LINE, "chart/series/0/name", "n" * 21), "/blocks/0/chart/series/0/name"),
        (changed(LINE, "chart/series", []), "/blocks/0/chart/series"),
        (changed(LINE, "chart/series/0/data/1/label", "17 Nov"), "/blocks/0/chart/series/0/data"),
        (changed(LINE, "chart/series/0/data/1/value", "41"), "/blocks/0/chart/series/0/data/1/value"),
        (
            changed(LINE, "chart/axis_config/categories/0", "c" * 21),
            "/blocks/0/chart/axis_config/categories/0",
        ),
        (changed(LINE, "chart/axis_config/y_label", "y" * 51), "/blocks/0/chart/axis_config/y_label"),
        (changed(PIE, "chart/segments/0/value", 0), "/blocks/0/chart/segments/0/value"),
        (changed(PIE, "chart/segments/1/label", "l" * 21), "/blocks/0/chart/segments/1/label"),
    ],
)
def test_a_block_breaking_the_reference_is_named_by_its_pointer(block, pointer):
    errors = block_errors([block])
    assert errors and any(e.endswith(f"[json-pointer:{pointer}]") for e in errors), errors


def test_good_charts_pass_and_a_third_is_one_too_many():
    assert block_errors([LINE, {"type": "divider"}, PIE]) == []
    seven = changed(
        LINE, "chart/series", [dict(s, name=f"s{i}") for i, s in enumerate(LINE["chart"]["series"] * 4)][:7]
    )
    assert any("/chart/series]" in e for e in block_errors([seven]))
    assert block_errors([LINE, LINE, LINE]) == [
        "[ERROR] no more than 2 data_visualization blocks allowed [json-pointer:/blocks/2]"
    ]


def test_a_workspace_without_the_block_refuses_it():
    assert block_errors([LINE], unsupported={"data_visualization"}) == [
        "[ERROR] unsupported type: data_visualization [json-pointer:/blocks/0/type]"
    ]
    assert block_errors([{"type": "divider"}], unsupported={"data_visualization"}) == []


async def test_chat_post_message_answers_invalid_blocks_with_slacks_messages(slack):
    web = AsyncWebClient(token=slack.workspaces["T0001"].bot_token, base_url=f"{slack.url}/api/")
    assert (await web.chat_postMessage(channel="C0001", text="trend", blocks=[LINE]))["ok"]
    with pytest.raises(SlackApiError) as refused:
        await web.chat_postMessage(channel="C0001", text="trend", blocks=[changed(LINE, "title", "t" * 51)])
    assert refused.value.response["error"] == "invalid_blocks"
    assert refused.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 51 characters [json-pointer:/blocks/0/title]"
    ]
    slack.without_blocks["T0001"] = {"data_visualization"}
    with pytest.raises(SlackApiError) as unsupported:
        await web.chat_postMessage(channel="C0001", text="trend", blocks=[LINE])
    assert unsupported.value.response["error"] == "invalid_blocks"
    assert len(slack.posts_to("C0001")) == 1


async def test_a_response_url_answers_a_refused_block_like_slack_400_and_the_bare_code(slack):
    """Slack answers a response_url post with HTTP status and a plain-text body, not Web API JSON:
    a refused block is a 400 `invalid_blocks` (no detail), and nothing is shown."""
    hook = AsyncWebhookClient(slack.response_url("T0001"))
    assert (await hook.send(text="trend", blocks=[LINE])).status_code == 200
    bad = await hook.send(text="trend", blocks=[changed(LINE, "title", "t" * 51)])
    assert (bad.status_code, bad.body) == (400, "invalid_blocks")
    slack.without_blocks["T0001"] = {"data_visualization"}
    refused = await hook.send(text="trend", blocks=[LINE])
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    other = await AsyncWebhookClient(slack.response_url("T0002")).send(text="trend", blocks=[LINE])
    assert other.status_code == 200  # another workspace's Slack takes the chart
    assert [len(r["blocks"]) for r in slack.responses] == [1, 1]
