"""`quolum-bot demo`: the whole story passes, every step is checked, and it never talks to a real Slack."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys

import pytest
from rich.console import Console
from slack_sdk.models.blocks import Block

from bot import cli
from sandbox import demo, render_terminal
from sandbox.clock import StepFailed
from sandbox.environment import SandboxEnv
from sandbox.standins.slack_blocks import block_errors
from sandbox.workspace import SLACK_CREDENTIALS, refuse_real_slack


@pytest.fixture(autouse=True, scope="module")
def quiet_logs():
    """The in-process server logs through the root logger, which an earlier test may have pointed at a
    stream that is closed by now: keep this module's servers quiet, then put things back."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers[:] = [logging.NullHandler()]
    yield
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])


def clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "QUOLUM_", "HUBSPOT_", "SENDGRID_"))
    }


def test_the_demo_passes_as_a_command():
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for step in demo.STEPS:
        assert f"✓ {step.title}" in run.stdout
    assert f"{len(demo.STEPS)}/{len(demo.STEPS)} steps passed" in run.stdout
    assert "Traceback" not in run.stderr and "xoxb-" not in run.stdout + run.stderr


@pytest.fixture(scope="module")
def story():
    """The story run once in-process, its output captured as plain text (not a terminal)."""
    out = io.StringIO()
    with SandboxEnv() as env:
        played = demo.run(env, Console(file=out, force_terminal=False, width=100))
        played.output = out.getvalue()
        yield played


def test_every_step_passed_and_showed_something(story):
    assert [o.title for o in story.outcomes] == [s.title for s in demo.STEPS]
    assert all(o.ok for o in story.outcomes), [o.failure for o in story.outcomes if not o.ok]
    assert len(story.shown) >= len(demo.STEPS)


def test_people_read_names_not_ids_and_no_raw_mrkdwn(story):
    assert "@Ada" in story.output and "@Max" in story.output and "<@U" not in story.output
    assert "<!date^" not in story.output and "&gt;" not in story.output


def test_every_block_the_bot_sent_is_slack_valid_and_rendered(story):
    kinds = set()
    for shown in story.shown:
        blocks = shown.message.get("blocks", [])
        assert block_errors(blocks) == []  # the charts, checked as the Slack stand-in checks them
        for block in blocks:
            kinds.add(block["type"])
            if block["type"] != "data_visualization":
                parsed = Block.parse(block)
                assert parsed is not None, f"slack_sdk does not know a {block['type']} block"
                parsed.validate_json()
            assert not any("[unsupported" in line.plain for line in render_terminal.block_lines(block))
    assert {"header", "section", "actions", "context", "divider", "input", "data_visualization"} <= kinds


def test_the_consent_page_is_shown_once_and_whole(story):
    from sandbox.workspace import PORTAL_DOMAIN

    heading = f"Connect Quolum Bot to {PORTAL_DOMAIN}"
    shown = story.output.split("--- browser · HubSpot consent page (stand-in)\n", 1)[1].split("\n---", 1)[0]
    assert shown.count(heading) == 1  # the page's title is not drawn a second time
    assert shown.splitlines()[0] == heading and shown.rstrip().endswith("Cancel")  # not cut short


def test_page_text_draws_a_page_as_lines():
    from sandbox.environment import page_text

    html = (
        "<html><head><title>Same</title><style>p{}</style></head><body><h1>Same</h1>"
        "<p>One &amp; <b>two</b></p><ul><li>a</li><li>b</li></ul><script>x()</script></body></html>"
    )
    assert page_text(html) == "Same\nOne & two\na\nb"


def test_an_unknown_block_is_shown_not_dropped():
    text = render_terminal.plain({"blocks": [{"type": "teleporter"}, {"type": "divider"}]})
    assert "[unsupported block: teleporter]" in text


def test_mrkdwn_as_a_person_reads_it():
    assert render_terminal.mrkdwn_plain("<https://x.example|the docs> and <@U1|dana>") == "the docs and @dana"
    assert (
        render_terminal.mrkdwn_plain("since <!date^1700000000^{date_short}|2023-11-14>") == "since 2023-11-14"
    )
    assert (
        render_terminal.mrkdwn_plain("`/quolum help` &amp; <#C1|saas-usage>") == "/quolum help & #saas-usage"
    )


def test_channels_and_people_read_by_name():
    names = {"UADA00001": "Ada", "CSAASUSE1": "saas-usage"}
    text = render_terminal.mrkdwn_plain(render_terminal.with_names("<#CSAASUSE1> from <@UADA00001>", names))
    assert text == "#saas-usage from @Ada"
    assert render_terminal.mrkdwn_plain(render_terminal.with_names("<#CUNKNOWN1>", names)) == "#CUNKNOWN1"


def test_the_story_ends_with_two_weekly_digests_and_a_resolved_alert(story):
    from sandbox.workspace import ADA, SAAS_USAGE, SEAT_PRICE

    first, second = story.env.slack.messages_in(SAAS_USAGE)  # one a week, each once
    assert "Saved" not in first["text"] and f"Saved ${SEAT_PRICE * 12:,} a year" in second["text"]
    alert = story.facts["alert"]
    [now] = [m for m in story.env.slack.messages_in(ADA.user_id) if m["ts"] == alert["ts"]]
    assert "Resolved" in now["text"] and now["edits"] >= 1


def test_a_failing_step_fails_the_demo_and_stops_it():
    ran = []

    def broken(story):
        raise StepFailed("the card says nothing")

    steps = [demo.Step("fails", broken), demo.Step("never runs", lambda story: ran.append(1))]
    out = io.StringIO()
    assert demo.main(console=Console(file=out, force_terminal=False), steps=steps) == 1
    assert "✗ fails: the card says nothing" in out.getvalue() and "0/2 steps passed" in out.getvalue()
    assert ran == []


@pytest.mark.parametrize(
    "environ,refused",
    [
        ({}, False),
        ({"SLACK_API_URL": "http://127.0.0.1:9999/api/"}, False),
        ({"SLACK_API_URL": "https://slack.com/api/"}, True),
        ({"SLACK_BOT_TOKEN": ""}, False),
        *[({name: "x"}, True) for name in SLACK_CREDENTIALS],
    ],
)
def test_refuses_real_slack_settings(environ, refused):
    assert (refuse_real_slack(environ) is not None) is refused


def test_the_command_refuses_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "real-secret")
    assert cli.main(["demo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("quolum-bot: demo: SLACK_SIGNING_SECRET is set") and err.count("\n") == 1


def test_every_block_the_bot_sent_renders_on_the_sandbox_page(story):
    from sandbox import render_html

    for shown in story.shown:
        for block in shown.message.get("blocks", []):
            assert block["type"] in render_html.KNOWN_BLOCKS
            assert "[unsupported" not in render_html.block_html(block), block


@pytest.mark.parametrize("inherited", ["default", "ignored"])
def test_open_keeps_a_sandbox_page_running_until_ctrl_c(inherited):
    """`ignored`: started with SIGINT ignored (a shell's background job, a test runner's worker), which
    Python then leaves without KeyboardInterrupt: Ctrl-C must stop the page all the same."""
    import re
    import signal

    import httpx

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--open"],
        preexec_fn=ignore_sigint if inherited == "ignored" else None,  # noqa: PLW1509 - no threads here
        env={**clean_env(), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        for line in process.stdout:  # the story first, then the page's address
            found = re.search(r"The sandbox Slack is at (http://127\.0\.0\.1:\d+)/", line)
            if found:
                url = found.group(1)
                break
        assert url is not None, process.stderr.read()
        page = httpx.get(f"{url}/", timeout=10)
        assert page.status_code == 200 and "Sandbox Slack" in page.text
        state = httpx.get(f"{url}/api/state", params={"user": "UADA00001"}, timeout=10).json()
        assert state["messages"] == [] and state["modal"] is None  # a fresh sandbox: the story is theirs
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0  # it stops in seconds; the margin is for a loaded CI machine
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
