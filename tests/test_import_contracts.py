"""The import contracts of pyproject.toml ([tool.importlinter], run by `make lint`) hold for the code,
and break when someone adds an upward import, a provider cross-import or a cycle: each case below
copies the packages into a temporary directory, adds one import to one module and runs `lint-imports`.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "services", "messages", "providers", "storage", "core")
# `lint-imports`, run by this interpreter (the venv the tests run in)
LINT_IMPORTS = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as m; m()"]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LAYERS = "Imports point down"
CYCLES = "No import cycle"
NO_STORAGE = "Handlers never import storage"
TYPE_CHECKING_ONLY = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import {module}\n"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # the copy, ahead of the editable install
    return subprocess.run(
        [*LINT_IMPORTS, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_line(tree: Path, path: str, line: str) -> None:
    with (tree / path).open("a") as module:
        module.write(f"\n{line}\n")


def test_the_code_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "path,line,contract,importer",
    [
        ("core/clock.py", "import storage.db", LAYERS, "core.clock"),
        ("storage/db.py", "import providers.http", LAYERS, "storage.db"),
        ("providers/http.py", "import storage.db", LAYERS, "providers.http"),
        ("providers/hubspot/client.py", "import messages.cards", LAYERS, "providers.hubspot"),
        ("messages/cards.py", "import services.connections", LAYERS, "messages.cards"),
        ("messages/cards.py", "import storage.connections", LAYERS, "messages.cards"),
        ("messages/digest.py", "import providers.plugin", LAYERS, "messages.digest"),
        ("storage/connections.py", "import messages.blocks", LAYERS, "storage.connections"),
        ("messages/blocks.py", "import handlers.commands", LAYERS, "messages.blocks"),
        ("services/usage.py", "import bot.container", LAYERS, "services.usage"),
        ("services/invites.py", "import handlers.invites", LAYERS, "services.invites"),
        ("handlers/events.py", "import bot.web", LAYERS, "handlers.events"),
        ("handlers/oauth.py", "import bot.container", LAYERS, "handlers.oauth"),
        (
            "providers/hubspot/usage.py",
            "import providers.sendgrid",
            "no provider package imports another",
            "providers.hubspot.usage",
        ),
        (
            "providers/sendgrid/client.py",
            "from providers.hubspot.client import HubSpotClient",
            "no provider package imports another",
            "providers.sendgrid",
        ),
        ("handlers/digest.py", "import storage.digests", NO_STORAGE, "handlers.digest"),
        (
            "handlers/connections.py",
            "from storage.connections import AdminStore",
            NO_STORAGE,
            "handlers.connections",
        ),
        ("storage/db.py", "import storage.store", CYCLES, "storage"),
        ("services/credentials.py", "import services.usage", CYCLES, "services"),
    ],
)
def test_an_import_against_the_layout_breaks_lint(tree, path, line, contract, importer):
    assert lint_imports(tree).returncode == 0  # the copy is clean before the change
    add_line(tree, path, line)
    result = lint_imports(tree)
    assert result.returncode != 0, f"{line!r} in {path} was accepted:\n{result.stdout}"
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken
    assert importer in broken


def test_a_cycle_between_stand_in_modules_breaks_lint(tree):
    shutil.copytree(ROOT / "sandbox", tree / "sandbox", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    assert lint_imports(tree).returncode == 0
    add_line(tree, "sandbox/standins/hubspot_errors.py", "import sandbox.standins.hubspot_api")
    result = lint_imports(tree)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert CYCLES in broken and "hubspot_errors -> .hubspot_api" in broken


def test_a_type_checking_only_import_is_allowed(tree):
    add_line(tree, "services/usage.py", TYPE_CHECKING_ONLY.format(module="bot.container"))
    add_line(tree, "handlers/oauth.py", TYPE_CHECKING_ONLY.format(module="bot.container"))
    add_line(tree, "handlers/alerts.py", TYPE_CHECKING_ONLY.format(module="storage.incidents"))
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout


def test_every_package_is_one_layer_folder():
    """The folders are the layers: every package the project installs is named in the layers contract."""
    layers = next(c for c in CONFIG["contracts"] if c["type"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    assert all("." not in name for name in placed), "a layer is a whole folder, not modules of one"
    installed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {pattern.rstrip("*") for pattern in installed["include"]}
    assert packages == placed == set(CONFIG["root_packages"])
    assert set(PACKAGES) <= packages
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks", "scripts"}
    assert on_disk == packages, "a new top-level package must be a layer in [tool.importlinter]"


def test_every_provider_package_is_independent():
    independence = next(c for c in CONFIG["contracts"] if c["type"] == "independence")
    packages = {f"providers.{p.parent.name}" for p in (ROOT / "providers").glob("*/__init__.py")}
    assert packages == set(independence["modules"]), "list every provider package in pyproject.toml"


# The container hands handlers every service, and storage with them (bot/container.py): an import
# contract cannot see `services.storage.<store>`, so this reads the handlers' code for it.
def storage_reads(source: str) -> list[int]:
    """Lines where the code takes `.storage` of anything (the container's Storage facade)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr == "storage"
    ]


@pytest.mark.parametrize(
    "source,lines",
    [
        ("x = request.services.storage.admins", [1]),
        ("async def f(services):\n    return await services.storage.claims.first_delivery(1)", [2]),
        ("store = services.digests\nstorage = 1", []),  # a name, not the container's attribute
        ("x = request.services.admins.granted('T')", []),
    ],
)
def test_storage_reads_are_found(source, lines):
    assert storage_reads(source) == lines


def test_handlers_never_reach_storage_through_the_container():
    found = {
        path.name: lines
        for path in sorted((ROOT / "handlers").glob("*.py"))
        if (lines := storage_reads(path.read_text()))
    }
    assert found == {}, f"handlers reading storage themselves (call a service instead): {found}"
