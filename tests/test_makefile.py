"""The Makefile's venv rule (issue 27, item 7): a Python that does not satisfy pyproject's requires-python makes
no venv and one line says what to run; a venv made by such a Python is made again instead of sticking."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "scripts" / "check-python"
REQUIRES = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def old_python(tmp_path: Path, version: str = "3.10.13") -> Path:
    """This interpreter pretending to be another version: what scripts/check-python sees of an old one."""
    fake = tmp_path / f"python-{version}"
    numbers = ", ".join(version.split("."))
    fake.write_text(
        "#!/bin/sh\n"
        f'exec {sys.executable} -c \'import runpy, sys; sys.version_info = ({numbers}, "final", 0); '
        'sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")\' "$@"\n'
    )
    fake.chmod(0o755)
    return fake


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "spec,version,ok",
    [
        (">=3.11", (3, 11, 0), True),
        (">=3.11", (3, 13, 1), True),
        (">=3.11", (3, 10, 13), False),
        (">=3.11, <3.14", (3, 14, 0), False),
        (">=3.8,!=3.9.*", (3, 8, 2), True),
        (">3.11", (3, 11, 0), False),
    ],
)
def test_check_python_reads_requires_python(tmp_path, spec, version, ok):
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\nrequires-python = "{spec}"\n')
    script = f"import runpy, sys; sys.version_info = {version}; runpy.run_path({str(CHECK)!r}, run_name='__main__')"
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "pyproject.toml")], capture_output=True, text=True
    )
    assert (result.returncode == 0) is ok, result.stderr
    assert (result.stderr == "") is ok
    if not ok:
        assert f"is Python {'.'.join(map(str, version))}; Quolum Bot needs Python {spec}" in result.stderr


def test_this_python_satisfies_it():
    assert subprocess.run([sys.executable, str(CHECK)]).returncode == 0, REQUIRES


def test_a_python_too_old_makes_no_venv_and_says_what_to_run(tmp_path):
    venv = tmp_path / "venv"
    result = make(f"{venv}/bin/.installed", f"VENV={venv}", f"PYTHON={old_python(tmp_path)}")
    assert result.returncode == 2
    assert "is Python 3.10.13; Quolum Bot needs Python >=3.11" in result.stderr
    minimum = REQUIRES.removeprefix(">=")
    assert result.stdout.splitlines() == [
        f"make: run `make {venv}/bin/.installed PYTHON=python{minimum}` (or any Python {minimum} or newer)"
    ]
    assert not venv.exists()


def test_a_venv_made_by_a_python_too_old_is_made_again(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    os.symlink(old_python(tmp_path), venv / "bin" / "python")
    (venv / "bin" / ".installed").touch()  # newer than pyproject.toml: only its Python says it is stale
    plan = make("-n", f"{venv}/bin/.installed", f"VENV={venv}")
    assert plan.returncode == 0, plan.stderr
    assert "is up to date" not in plan.stdout
    assert f"rm -rf {venv}" in plan.stdout and f"-m venv {venv}" in plan.stdout


def test_a_good_venv_is_left_alone(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    os.symlink(sys.executable, venv / "bin" / "python")
    (venv / "bin" / ".installed").touch()
    assert "is up to date" in make("-n", f"{venv}/bin/.installed", f"VENV={venv}").stdout
