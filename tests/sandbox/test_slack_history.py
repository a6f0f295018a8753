"""The Slack stand-in's message metadata, conversations.history and slow answers, as Slack answers them."""

from __future__ import annotations

import time

import httpx
import pytest

META = {"event_type": "quolum_digest", "event_payload": {"id": "7"}}


def call(slack, method: str, token: str, **args) -> dict:
    answer = httpx.post(f"{slack.url}/api/{method}", json=args, headers={"Authorization": f"Bearer {token}"})
    return answer.json()


@pytest.fixture
def ws(slack):
    workspace = slack.workspaces["T0001"]
    workspace.scopes += ",channels:history,groups:history"
    slack.add_channel("C0001", "general", member=True)
    slack.add_channel("G0001", "secret", private=True, member=True)
    return workspace


def test_metadata_is_kept_and_returned_only_when_asked(slack, ws):
    posted = call(slack, "chat.postMessage", ws.bot_token, channel="C0001", text="hi", metadata=META)
    assert posted["ok"]
    plain = call(slack, "conversations.history", ws.bot_token, channel="C0001")
    assert plain["ok"] and "metadata" not in plain["messages"][0]
    full = call(slack, "conversations.history", ws.bot_token, channel="C0001", include_all_metadata=True)
    (message,) = full["messages"]
    assert (message["ts"], message["metadata"], message["bot_id"]) == (posted["ts"], META, ws.bot_id)


@pytest.mark.parametrize(
    "metadata, error",
    [
        ("not json", "invalid_metadata_format"),
        ({"event_payload": {}}, "invalid_metadata_format"),
        ({"event_type": 5, "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "x", "event_payload": "text"}, "invalid_metadata_schema"),
    ],
)
def test_malformed_metadata_is_refused_and_nothing_is_posted(slack, ws, metadata, error):
    answer = call(slack, "chat.postMessage", ws.bot_token, channel="C0001", text="hi", metadata=metadata)
    assert answer == {"ok": False, "error": error}
    assert slack.posts_to("C0001") == []


@pytest.mark.parametrize(
    "channel, scopes, member, private, error, needed",
    [
        ("C0002", "chat:write", True, False, "missing_scope", "channels:history"),
        ("G0002", "chat:write,channels:history", True, True, "missing_scope", "groups:history"),
        ("C0002", "chat:write,channels:history", False, False, "not_in_channel", None),
        ("G0002", "chat:write,groups:history", False, True, "channel_not_found", None),
        ("C9999", "chat:write,channels:history", True, False, "channel_not_found", None),
    ],
)
def test_history_is_scope_checked_and_needs_membership(
    slack, channel, scopes, member, private, error, needed
):
    ws = slack.workspaces["T0001"]
    ws.scopes = scopes
    if channel != "C9999":
        slack.add_channel(channel, private=private, member=member)
    answer = call(slack, "conversations.history", ws.bot_token, channel=channel)
    assert (answer["ok"], answer["error"], answer.get("needed")) == (False, error, needed)
    if needed:
        assert answer["provided"] == scopes


def test_history_window_order_and_pages(slack, ws):
    slack.rate = None  # five posts in a row: not a test of chat.postMessage's per-channel limit
    stamps = [
        call(slack, "chat.postMessage", ws.bot_token, channel="G0001", text=str(n))["ts"] for n in range(5)
    ]
    newest_first = list(reversed(stamps))
    everything = call(slack, "conversations.history", ws.bot_token, channel="G0001")
    assert [m["ts"] for m in everything["messages"]] == newest_first and not everything["has_more"]
    after = call(slack, "conversations.history", ws.bot_token, channel="G0001", oldest=stamps[1])
    assert [m["ts"] for m in after["messages"]] == newest_first[:3]  # oldest is exclusive...
    inclusive = call(
        slack, "conversations.history", ws.bot_token, channel="G0001", oldest=stamps[1], inclusive=True
    )
    assert [m["ts"] for m in inclusive["messages"]] == newest_first[:4]  # ...unless inclusive
    before = call(slack, "conversations.history", ws.bot_token, channel="G0001", latest=stamps[2])
    assert [m["ts"] for m in before["messages"]] == newest_first[3:]
    first = call(slack, "conversations.history", ws.bot_token, channel="G0001", limit=2)
    assert first["has_more"] and first["response_metadata"]["next_cursor"]
    rest = call(
        slack,
        "conversations.history",
        ws.bot_token,
        channel="G0001",
        cursor=first["response_metadata"]["next_cursor"],
    )
    assert [m["ts"] for m in first["messages"] + rest["messages"]] == newest_first


async def test_a_slow_answer_posts_at_once_and_answers_late(slack, ws):
    slack.answer_slowly("chat.postMessage", 1.5)
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=slack.url, timeout=0.5) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(
                "/api/chat.postMessage",
                json={"channel": "C0001", "text": "hi"},
                headers={"Authorization": f"Bearer {ws.bot_token}"},
            )
        assert len(slack.posts_to("C0001")) == 1  # Slack took it; the client never heard
        answer = await http.post(
            "/api/chat.postMessage",
            json={"channel": "C0001", "text": "again"},
            headers={"Authorization": f"Bearer {ws.bot_token}"},
        )
    assert answer.json()["ok"] and time.monotonic() - started < 1.5  # only the first call was slow
