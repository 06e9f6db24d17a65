"""Every benchmark still runs: ``make bench`` in its tiny mode (a few requests each, on scratch
databases it creates and drops). Speed itself is measured by ``make bench``, never by a test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.figures import Figure
from benchmarks.run import better_of, compare

ROOT = Path(__file__).resolve().parents[2]


def _run_module(module: str, *arguments: str, timeout: int) -> subprocess.CompletedProcess[str]:
    """``python -m module arguments`` from the repository; it must succeed."""
    result = subprocess.run(  # noqa: S603 - this interpreter running one of the repository's modules
        [sys.executable, "-m", module, *arguments],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


@pytest.mark.serial
def test_every_benchmark_runs_in_its_tiny_mode_and_reports_its_figures() -> None:
    result = _run_module("benchmarks.run", "--tiny", timeout=600)
    assert "FAILED" not in result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    assert "figures from 6 benchmarks" in summary, summary


def test_a_figure_more_than_a_fifth_worse_than_its_baseline_is_a_regression() -> None:
    baseline: dict[str, object] = {"calibration_ms": 10.0, "figures": {"report": {"value": 100.0}}}
    worse, within = Figure("report", 121, "ms", "lower"), Figure("report", 119, "ms", "lower")
    assert [r.regression for r in compare([worse, within], baseline, calibration=10.0)] == [True, False]


def test_a_slower_machine_is_not_mistaken_for_a_regression() -> None:
    # Calibrated 20 % slower: 130 ms against 100 ms accepted is 8 % worse than expected here.
    baseline: dict[str, object] = {"calibration_ms": 10.0, "figures": {"report": {"value": 100.0}}}
    rows = compare([Figure("report", 130, "ms", "lower")], baseline, calibration=12.0)
    assert not rows[0].regression
    assert rows[0].expected == pytest.approx(120)


def test_a_ratio_is_compared_as_it_is_whatever_the_machine() -> None:
    baseline: dict[str, object] = {"calibration_ms": 10.0, "figures": {"ratio": {"value": 0.5}}}
    rows = compare([Figure("ratio", 0.4, "ratio", "higher", cpu_bound=False)], baseline, calibration=20.0)
    assert rows[0].regression


def test_a_tail_latency_is_held_to_its_target_not_to_its_baseline() -> None:
    baseline: dict[str, object] = {"calibration_ms": 10.0, "figures": {"p99": {"value": 40.0}}}
    slower, late = (
        Figure("p99", 60, "ms", "lower", 1000, compared=False),
        Figure("p99", 1200, "ms", "lower", 1000, compared=False),
    )
    rows = compare([slower, late], baseline, calibration=10.0)
    assert [(r.regression, r.missed) for r in rows] == [(False, False), (False, True)]
    assert rows[0].expected == 40.0  # still shown beside it


def test_a_benchmark_run_twice_counts_each_figure_at_its_better_run() -> None:
    # How make bench confirms a regression: the suspect benchmark runs again, and a figure that was only
    # noise in the first run is not reported.
    first = [Figure("median", 9.0, "ms", "lower"), Figure("rate", 300, "1/s", "higher")]
    second = [Figure("median", 7.0, "ms", "lower"), Figure("rate", 280, "1/s", "higher")]
    assert [f.value for f in better_of(first, second)] == [7.0, 300]


def test_the_filing_cpu_aid_reports_both_endpoints() -> None:
    # Not a figure of make bench (README "Profiling one path"): it must still run.
    result = _run_module("benchmarks.filing_cpu", "--requests", "20", "--rounds", "1", timeout=300)
    reported = [line.split(":")[0] for line in result.stdout.splitlines() if "ms main-thread CPU" in line]
    assert reported == ["bare insert", "filing"], result.stdout
