"""Write the parts of README.md, and `.env.example`, that are derived from the code, so they cannot drift.

README.md marks each derived part with `<!-- generated:NAME -->` ... `<!-- /generated:NAME -->`; this
script rewrites what lies between from its source:

- `toc`: the table of contents, from the README's own `##` and `###` headings;
- `scopes`, `optional-scopes`, `events`: the bot scopes (required, optional) and events, from `manifest.yml` (itself `bot/manifest.py`'s output);
- `config`: the configuration table, from `VARIABLES` in `core/config.py` and each installed provider's
  settings (its entry's `settings`, providers/registry.py);
- `doctor-example`: `quolum-bot doctor`'s sample output, with the schema's latest revision.

`.env.example` is written whole from the same list. `make readme` runs it; `--check` writes nothing and exits
1 naming the stale files (`tests/test_readme.py` runs the same check).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout: import the bot's own modules

from core.config import VARIABLES  # noqa: E402
from providers.registry import INSTALLED  # noqa: E402

MARKED = re.compile(r"(<!-- generated:([\w-]+) -->)(.*?)(<!-- /generated:\2 -->)", re.DOTALL)
FENCE = re.compile(r"^\s*```")
HEADING = re.compile(r"^(#{2,3}) (.+?)\s*$")
SECRETS = {"SLACK_SIGNING_SECRET", "SLACK_CLIENT_SECRET", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"}
SECRETS |= {"QUOLUM_ENCRYPTION_KEYS", "QUOLUM_METRICS_TOKEN"}
SECRETS |= {setting.name for setting in INSTALLED.settings() if setting.secret}
# the bot's own variables, then each provider's (in the registry's order)
EVERY_VARIABLE = {**VARIABLES, **{s.name: (s.default, s.description) for s in INSTALLED.settings()}}


def github_anchor(heading: str, seen: dict[str, int]) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens, repeats -1, -2."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading).lower()
    slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"


def headings(readme: str) -> list[tuple[int, str]]:
    """(level, text) of every `##` and `###` heading outside fenced code."""
    found, in_code = [], False
    for line in readme.splitlines():
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code and (match := HEADING.match(line)):
            found.append((len(match.group(1)), match.group(2)))
    return found


def toc(readme: str) -> str:
    seen: dict[str, int] = {}
    lines = []
    for level, text in headings(readme):
        anchor = github_anchor(text, seen)
        if text == "Contents":
            continue
        lines.append(f"{'  ' * (level - 2)}- [{text}](#{anchor})")
    return "\n" + "\n".join(lines) + "\n"


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def scopes(_: str) -> str:
    return ", ".join(f"`{scope}`" for scope in manifest()["oauth_config"]["scopes"]["bot"])


def optional_scopes(_: str) -> str:
    names = [f"`{scope}`" for scope in manifest()["oauth_config"]["scopes"].get("bot_optional", [])]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def events(_: str) -> str:
    names = [f"`{event}`" for event in manifest()["settings"]["event_subscriptions"]["bot_events"]]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def config_table(_: str) -> str:
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, (default, meaning) in EVERY_VARIABLE.items():
        shown = f"`{default}`" if default else "—"
        rows.append(f"| `{name}` | {shown} | {meaning} |")
    return "\n" + "\n".join(rows) + "\n"


def doctor_example(_: str) -> str:
    from storage.db import head_revision

    return (
        "\n```\n"
        "ok    config: single-workspace mode\n"
        f"ok    database: postgresql reachable, schema at {head_revision()}\n"
        "FAIL  keys: 2 of 9 stored secrets cannot be decrypted with these keys: add the key they were "
        "encrypted with to QUOLUM_ENCRYPTION_KEYS (after the first).\n"
        "```\n"
    )


SECTIONS: dict[str, Callable[[str], str]] = {
    "toc": toc,
    "scopes": scopes,
    "optional-scopes": optional_scopes,
    "events": events,
    "config": config_table,
    "doctor-example": doctor_example,
}


def render_readme(readme: str) -> str:
    """README.md with every generated part rewritten; an unknown or missing marker is an error."""
    names = [match.group(2) for match in MARKED.finditer(readme)]
    unknown = sorted(set(names) - set(SECTIONS))
    missing = sorted(set(SECTIONS) - set(names))
    if unknown or missing:
        raise SystemExit(f"README.md markers: unknown {unknown}, missing {missing}")
    return MARKED.sub(lambda m: m.group(1) + SECTIONS[m.group(2)](readme) + m.group(4), readme)


def render_env_example() -> str:
    lines = [
        "# Every variable Quolum Bot reads (README.md, Configuration), with its default.",
        "# Copy to .env, fill in what you use, and never commit the copy: it holds secrets.",
        "# Written by `make readme` from core/config.py; edit the descriptions there.",
    ]
    for name, (default, meaning) in EVERY_VARIABLE.items():
        lines += ["", f"# {meaning}" + (" Secret." if name in SECRETS else "")]
        # empty counts as unset, so a blank line is harmless; a default stays commented out
        lines.append(f"# {name}={default}" if default else f"{name}=")
    return "\n".join(lines) + "\n"


def outputs() -> dict[Path, str]:
    readme = ROOT / "README.md"
    return {readme: render_readme(readme.read_text()), ROOT / ".env.example": render_env_example()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    args = parser.parse_args(argv)
    stale = [path for path, text in outputs().items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run `make readme`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
