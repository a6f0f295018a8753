"""README.md and .env.example say what the code says: the parts `make readme` writes are current."""

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from core.config import VARIABLES
from providers.registry import INSTALLED

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("readme_script", ROOT / "scripts" / "readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated(readme: str, name: str) -> str:
    match = re.search(rf"<!-- generated:{name} -->(.*?)<!-- /generated:{name} -->", readme, re.DOTALL)
    assert match, f"README.md has no generated:{name} part"
    return match.group(1)


def test_readme_and_env_example_are_what_make_readme_writes():
    stale = [
        str(path.relative_to(ROOT))
        for path, text in load_script().outputs().items()
        if not path.exists() or path.read_text() != text
    ]
    assert stale == [], "run `make readme`"


def test_the_quickstart_asks_for_exactly_the_manifests_scopes():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    listed = re.findall(r"`([^`]+)`", generated((ROOT / "README.md").read_text(), "scopes"))
    assert listed == manifest["oauth_config"]["scopes"]["bot"]


def test_every_setting_is_in_the_readme_and_env_example():
    readme = (ROOT / "README.md").read_text()
    env_example = (ROOT / ".env.example").read_text()
    every = [*VARIABLES, *INSTALLED.variables()]  # the bot's and each installed provider's
    assert "HUBSPOT_CLIENT_ID" in every and "SENDGRID_API_URL" in every
    assert [name for name in every if f"| `{name}` |" not in readme] == []
    assert [name for name in every if not re.search(rf"^(# )?{name}=", env_example, re.M)] == []


def test_env_example_sets_no_secret():
    script = load_script()
    values = dict(
        line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line
    )
    assert {name: values[name] for name in script.SECRETS if values.get(name)} == {}


def test_every_contents_link_points_at_a_heading():
    script = load_script()
    readme = (ROOT / "README.md").read_text()
    seen: dict[str, int] = {}
    anchors = {script.github_anchor(text, seen) for _, text in script.headings(readme)}
    links = re.findall(r"\]\(#([^)]+)\)", generated(readme, "toc"))
    assert len(links) >= 20 and set(links) <= anchors


@pytest.mark.parametrize(
    "heading,anchor",
    [
        ("Try it first: `make demo`", "try-it-first-make-demo"),
        ("1. The Slack app, from the manifest", "1-the-slack-app-from-the-manifest"),
        ("Checking a set-up: `quolum-bot doctor`", "checking-a-set-up-quolum-bot-doctor"),
        ("Operators: jobs and digests", "operators-jobs-and-digests"),
        ("Self-hosting: Docker & compose", "self-hosting-docker--compose"),
    ],
)
def test_anchors_are_githubs(heading, anchor):
    assert load_script().github_anchor(heading, {}) == anchor


def test_a_repeated_heading_gets_a_number():
    script = load_script()
    seen: dict[str, int] = {}
    assert [script.github_anchor("Notes", seen) for _ in range(3)] == ["notes", "notes-1", "notes-2"]


def test_headings_in_code_blocks_are_not_headings():
    text = "## One\n```sh\n## not a heading\n```\n### Two\n#### Three\n"
    assert load_script().headings(text) == [(2, "One"), (3, "Two")]


def test_the_doctor_example_shows_the_latest_schema():
    from storage.db import head_revision

    assert f"schema at {head_revision()}\n" in generated((ROOT / "README.md").read_text(), "doctor-example")
