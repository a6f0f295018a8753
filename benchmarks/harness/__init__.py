"""Pieces the benchmarks share. Importing this package puts the repository on sys.path, so a benchmark
run as `python benchmarks/<name>.py` can import the project (and sandbox/standins) after it."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
