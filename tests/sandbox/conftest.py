"""A whole sandbox with its Slack page served, for the tests that play the page in Chromium."""

from __future__ import annotations

import pytest

from sandbox.environment import SandboxEnv
from sandbox.page import start_page


@pytest.fixture
def sandbox():
    with SandboxEnv() as env:
        page_server = start_page(env)
        env.page_url = page_server.url
        yield env
        page_server.stop()
