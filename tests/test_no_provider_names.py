"""Outside a provider's own package no code names a provider: no string literal holding a provider's
id as a word, and no import of a provider's modules (docstrings and comments may name them).

Adding a provider then touches nothing but its package (docs/adding-a-provider.md). Exempt, as the
issue allows: the provider packages themselves, and what is not the bot: sandbox/ (the stand-ins and
the demo), tests/, benchmarks/, scripts/; and storage/migrations/, which is history (a data migration
says what the stored rows of its day looked like, and must not change when a provider does).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from providers.registry import INSTALLED

ROOT = Path(__file__).resolve().parents[1]
EXEMPT = ("sandbox", "tests", "benchmarks", "scripts", "docs", ".venv", "build")
IDS = sorted(INSTALLED)
PACKAGES = {f"providers.{key}" for key in IDS}
NAMED = re.compile(rf"(?<![a-z])({'|'.join(IDS)})(?![a-z])", re.I)  # "hubspot", "HUBSPOT_API_URL", ...


def bot_modules() -> list[Path]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in EXEMPT or parts[0].startswith("."):
            continue
        if parts[0] == "providers" and len(parts) > 2 and parts[1] in IDS:
            continue  # the provider's own package
        if parts[:2] == ("storage", "migrations"):
            continue  # history
        found.append(path)
    return found


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings."""
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, kinds) and node.body and isinstance(node.body[0], ast.Expr):
            value = node.body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                ids.add(id(value))
    return ids


def names_in(source: str) -> list[str]:
    """What in `source` names a provider: `line: text` for each literal or import."""
    tree = ast.parse(source)
    skip = docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if NAMED.search(node.value):
                found.append(f"{node.lineno}: {node.value[:60]!r}")
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if _provider_module(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            if any(_provider_module(m) for m in modules):
                found.append(f"{node.lineno}: from {node.module} import ...")
    return found


def _provider_module(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in PACKAGES)


@pytest.mark.parametrize(
    "source,named",
    [
        ('x = "hubspot"', True),
        ('x = f"{a} via SendGrid"', True),
        ('VARIABLE = "HUBSPOT_CLIENT_ID"', True),
        ("from providers.hubspot.client import HubSpotClient", True),
        ("from providers import sendgrid", True),
        ("import providers.sendgrid.usage", True),
        ('"""A docstring may say HubSpot."""\nx = 1  # and a comment SendGrid', False),
        ('def f():\n    """HubSpot, in a docstring."""\n    return "hubspots-like"', False),
        ('x = "hub spot"; y = "sendgridder"', False),
        ("from providers.registry import INSTALLED", False),
    ],
)
def test_the_scanner(source, named):
    assert bool(names_in(source)) is named


def test_the_scan_looks_at_the_bot():
    scanned = {path.relative_to(ROOT).as_posix() for path in bot_modules()}
    assert {"services/usage.py", "handlers/oauth.py", "bot/container.py", "providers/registry.py"} <= scanned
    assert not [p for p in scanned if p.startswith(("providers/hubspot/", "tests/", "sandbox/"))]


def offenders() -> dict[str, list[str]]:
    return {
        path.relative_to(ROOT).as_posix(): found
        for path in bot_modules()
        if (found := names_in(path.read_text(encoding="utf-8")))
    }


def test_no_code_outside_a_provider_package_names_a_provider():
    assert offenders() == {}
