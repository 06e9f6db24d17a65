"""Every benchmark still runs: ``make bench`` in its tiny mode (a few requests each, on scratch
databases it creates and drops). Speed itself is measured by ``make bench``, never by a test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.serial
def test_every_benchmark_runs_in_its_tiny_mode_and_reports_its_figures() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--tiny"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "FAILED" not in result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    assert "figures from 6 benchmarks" in summary, summary
