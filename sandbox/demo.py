"""`quolum-bot demo`: the whole story against the sandbox, printed as people in Slack would read it.

The story is a list of `Step`s (sandbox/steps.py) run in order against one `SandboxEnv`. Each step acts
as a person would, shows what Slack displayed, and checks it; a step that does not do what it should
raises `StepFailed`, and the demo exits 1. This module runs the steps and prints what each showed
(render_terminal) and whether it passed; `--open` then serves the sandbox page on a fresh sandbox.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from sandbox import render_terminal
from sandbox.clock import StepFailed
from sandbox.environment import SandboxEnv
from sandbox.steps import STEPS
from sandbox.story import Step, StepOutcome, Story

__all__ = ["STEPS", "Step", "main", "run"]


def run(env: SandboxEnv, console: Console, steps: Sequence[Step] = STEPS) -> Story:
    """Run `steps` in order, printing what each showed and whether it passed; stop at the first failure."""
    story = Story(env)
    outcomes = story.outcomes
    for number, step in enumerate(steps, 1):
        if console.is_terminal:
            console.rule(Text(f"{number}. {step.title}", style="bold"))
        else:
            console.print(f"\n== {number}. {step.title}", markup=False, highlight=False)
        shown_before, started = len(story.shown), time.monotonic()
        try:
            step.run(story)
            outcome = StepOutcome(step.title, True, time.monotonic() - started)
        except StepFailed as error:
            outcome = StepOutcome(step.title, False, time.monotonic() - started, str(error))
        except Exception as error:  # a crash in a step is a failed step, said in one line
            outcome = StepOutcome(
                step.title, False, time.monotonic() - started, f"{type(error).__name__}: {error}"
            )
        for shown in story.shown[shown_before:]:
            render_terminal.show(console, shown.where, shown.message, env.names)
        outcomes.append(outcome)
        mark = "✓" if outcome.ok else "✗"
        console.print(
            f"{mark} {step.title}" + ("" if outcome.ok else f": {outcome.failure}"),
            markup=False,
            highlight=False,
        )
        if not outcome.ok:
            break
    return story


def main(
    *,
    open_page: bool = False,
    page_port: int = 0,
    console: Console | None = None,
    steps: Sequence[Step] | None = None,
) -> int:
    console = console or Console()
    started = time.monotonic()
    console.print(
        "Quolum Bot demo: the real server with Slack, HubSpot and SendGrid stand-ins on 127.0.0.1",
        markup=False,
        highlight=False,
    )
    with SandboxEnv() as env:
        steps = STEPS if steps is None else steps
        outcomes = run(env, console, steps).outcomes
        passed = sum(o.ok for o in outcomes)
        elapsed = time.monotonic() - started
        ok = passed == len(steps)
        console.print(
            f"\n{passed}/{len(steps)} steps passed in {elapsed:.1f} s" + ("" if ok else " — the demo FAILED"),
            markup=False,
            highlight=False,
        )
    if open_page:  # a fresh sandbox, so the person plays the story from the start
        from sandbox.page import serve_page

        with SandboxEnv() as fresh:
            serve_page(fresh, console, port=page_port)
    return 0 if ok else 1
