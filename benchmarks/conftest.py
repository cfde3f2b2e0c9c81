"""Shared set-up of the speed measurements (run ``pytest benchmarks/``).

pytest-benchmark's fixture is called ``benchmark``, like this project's core
package; the measurements take it as ``bench`` so the package name stays free.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))


@pytest.fixture
def bench(benchmark):
    """pytest-benchmark's ``benchmark`` fixture under a name that does not shadow the package."""
    return benchmark
