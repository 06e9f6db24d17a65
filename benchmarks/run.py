"""``make bench``: every benchmark on scratch databases, one table, compared with the accepted baseline.

Each benchmark runs as its own process (``python -m benchmarks.<name> --json FILE``) on databases this
runner creates and drops: a SQLite file in a temporary directory, and a PostgreSQL database named
``deskline_bench_<random>`` on the server of ``DESKLINE_TEST_POSTGRES_URL`` (or ``--postgres-url``). So
every run starts empty and any run can be repeated.

The figures are compared with ``benchmarks/baseline.json``: the accepted figures, the machine they were
measured on, and a CPU calibration measured in the same run. A figure that scales with the CPU is first
scaled by this run's calibration over the baseline's (a slower machine is not a regression); a ratio or
a count is compared as it is. A figure more than 20 % worse than its baseline is a regression, and the
run exits 1, once a second run of its benchmark confirms it (each figure of a benchmark run twice is the
better of the two). Tail latencies are held to their targets only (``Figure.compared``). Targets are
shown beside them (MISSED when not met; ``--strict`` makes that fail too).

    make bench                                  # everything, compared with the baseline
    .venv/bin/python -m benchmarks.run --only availability --only outbox_worker
    .venv/bin/python -m benchmarks.run --accept # make this run's figures the baseline
    .venv/bin/python -m benchmarks.run --tiny   # each benchmark a few requests (make test runs this)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.figures import Figure, read_figures

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Path(__file__).resolve().parent / "baseline.json"
TOLERANCE = 0.20  # a figure this much worse than its (calibrated) baseline is a regression
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Benchmark:
    module: str
    databases: tuple[str, ...]  # "none", "sqlite", "postgresql"
    arguments: tuple[str, ...] = ()
    tiny: tuple[str, ...] = ()


BENCHMARKS = (
    Benchmark("business_time", ("none",), tiny=("--scale", "0.02")),
    Benchmark(
        "ticket_creation",
        ("sqlite", "postgresql"),
        tiny=("--requests", "8", "--rounds", "1", "--articles", "5", "--concurrency", "2"),
    ),
    Benchmark(
        "availability",
        ("sqlite", "postgresql"),
        tiny=(
            *("--requests", "3", "--engineers", "2", "--bookings", "40"),
            *("--busy-events", "4", "--single-events", "20"),
        ),
    ),
    Benchmark("sla_report", ("postgresql",), tiny=("--tickets", "200", "--rounds", "1")),
    Benchmark(
        "outbox_worker", ("postgresql",), tiny=("--events", "30", "--rate", "20", "--paced-seconds", "1")
    ),
    Benchmark("burst", ("postgresql",), tiny=("--racers", "6", "--stripe-latency", "0.1", "--rounds", "1")),
)


def calibrate() -> float:
    """Milliseconds a fixed piece of pure-Python work takes here (best of seven): what the figures that
    scale with the CPU are corrected by."""

    def work() -> None:
        table: dict[int, str] = {}
        for i in range(60_000):
            table[i * 7 % 10_007] = f"{i:x}"
        sorted(table.values())
        json.loads(json.dumps(list(table.items())))

    timings = []
    for _ in range(7):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings)


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cores": os.cpu_count(),
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@contextmanager
def scratch(kind: str, postgres: str, directory: Path) -> Iterator[str | None]:
    """A database that exists for one benchmark run: created empty, dropped afterwards."""
    if kind == "none":
        yield None
        return
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"deskline_bench_{uuid.uuid4().hex[:10]}"
    server = make_url(postgres)
    asyncio.run(_admin(server.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        asyncio.run(_admin(server.render_as_string(hide_password=False), drop))


def run_one(benchmark: Benchmark, kind: str, postgres: str, tiny: bool, directory: Path) -> list[Figure]:
    out = directory / f"{benchmark.module}-{kind}.json"
    with scratch(kind, postgres, directory) as url:
        command = [sys.executable, "-m", f"benchmarks.{benchmark.module}", "--json", str(out)]
        command += list(benchmark.tiny if tiny else benchmark.arguments)
        if url is not None:
            command += ["--database-url", url]
        print(f"--- {benchmark.module} ({kind})", flush=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        completed = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603 - our own modules
    figures = read_figures(out)
    if completed.returncode != 0 or not figures:
        raise RuntimeError(f"benchmarks.{benchmark.module} ({kind}) failed (exit {completed.returncode})")
    return figures


@dataclass(frozen=True)
class Row:
    figure: Figure
    expected: float | None  # the baseline, calibrated to this machine
    regression: bool
    missed: bool


def compare(figures: list[Figure], baseline: dict[str, object] | None, calibration: float) -> list[Row]:
    known: dict[str, dict[str, object]] = dict(baseline.get("figures", {})) if baseline else {}  # type: ignore[call-overload]
    speed = calibration / float(baseline["calibration_ms"]) if baseline else 1.0  # type: ignore[arg-type]
    rows = []
    for figure in figures:
        accepted = known.get(figure.name)
        expected = None
        regression = False
        if accepted is not None:
            value = float(accepted["value"])  # type: ignore[arg-type]
            if figure.cpu_bound:
                value = value * speed if figure.better == "lower" else value / speed
            expected = value  # shown beside every figure; only a compared one can regress (a tail cannot)
            if figure.compared and figure.better == "lower":
                regression = figure.value > value * (1 + TOLERANCE) and figure.value - value > 1e-9
            elif figure.compared:
                regression = figure.value < value / (1 + TOLERANCE)
        rows.append(Row(figure, expected, regression, figure.meets_target() is False))
    return rows


def better_of(first: list[Figure], second: list[Figure]) -> list[Figure]:
    """Each figure of a benchmark's first run, or of its second where that one is better."""
    again = {figure.name: figure for figure in second}
    chosen = []
    for figure in first:
        other = again.get(figure.name)
        if other is not None and (other.value > figure.value) == (figure.better == "higher"):
            figure = other
        chosen.append(figure)
    return chosen


def table(rows: list[Row]) -> str:
    lines = [
        f"{'figure':<52} {'value':>10} {'unit':<5} {'target':>8} {'baseline':>9} {'change':>7}  verdict",
        "-" * 110,
    ]
    for row in rows:
        f = row.figure
        target = "" if f.target is None else (">=" if f.better == "higher" else "<") + _number(f.target)
        change = ""
        if row.expected:
            delta = (f.value - row.expected) / row.expected * 100
            change = f"{delta:+.0f}%"
        verdict = "REGRESSION" if row.regression else "MISSED" if row.missed else "ok"
        baseline = "" if row.expected is None else _number(row.expected)
        value = _number(f.value)
        lines.append(f"{f.name:<52} {value:>10} {f.unit:<5} {target:>8} {baseline:>9} {change:>7}  {verdict}")
    return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="run these benchmarks (by module name)")
    parser.add_argument("--tiny", action="store_true", help="a few requests each: that every one still works")
    parser.add_argument("--accept", action="store_true", help="write this run's figures as the baseline")
    parser.add_argument("--strict", action="store_true", help="a missed target fails the run too")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("DESKLINE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    )
    args = parser.parse_args()
    chosen = [b for b in BENCHMARKS if not args.only or b.module in args.only]
    unknown = set(args.only) - {b.module for b in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    calibration = statistics.median([calibrate(), calibrate()])
    runs: dict[tuple[Benchmark, str], list[Figure]] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="deskline-bench-") as directory:
        for benchmark in chosen:
            for kind in benchmark.databases:
                if kind == "postgresql" and not args.postgres_url:
                    continue
                try:
                    runs[benchmark, kind] = run_one(
                        benchmark, kind, args.postgres_url, args.tiny, Path(directory)
                    )
                except RuntimeError as exc:
                    failed.append(str(exc))
        calibration = statistics.median([calibration, calibrate()])  # before and after: the machine's state
        figures = [figure for found in runs.values() for figure in found]
        if args.tiny:
            print(f"\n{len(figures)} figures from {len(chosen)} benchmarks (tiny mode, not compared)")
            for problem in failed:
                print(f"FAILED: {problem}")
            return 1 if failed else 0
        baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
        rows = compare(figures, baseline, calibration)
        # A regression is confirmed before it is reported: a benchmark with a figure worse than its
        # baseline runs once more and each of its figures counts as the better of the two runs. A run of
        # the same code on a shared machine can be slow all through; a real regression shows in both.
        suspects = {row.figure.name for row in rows if row.regression}
        if suspects and not args.accept:
            for (benchmark, kind), found in runs.items():
                if suspects & {figure.name for figure in found}:
                    print(f"--- confirming: {benchmark.module} ({kind}) again", flush=True)
                    try:
                        again = run_one(benchmark, kind, args.postgres_url, args.tiny, Path(directory))
                    except RuntimeError as exc:
                        failed.append(str(exc))
                        continue
                    runs[benchmark, kind] = better_of(found, again)
            figures = [figure for found in runs.values() for figure in found]
            rows = compare(figures, baseline, calibration)
    print()
    print(f"machine: {machine()}; calibration {calibration:.1f} ms", end="")
    if baseline:
        print(f" (baseline {baseline['calibration_ms']:.1f} ms on {baseline['machine']})")
    else:
        print(" (no baseline yet: run with --accept)")
    print(table(rows))
    for problem in failed:
        print(f"FAILED: {problem}")
    if args.accept:
        accepted = dict(baseline.get("figures", {})) if baseline and args.only else {}
        accepted |= {f.name: asdict(f) for f in figures}
        BASELINE.write_text(
            json.dumps(
                {"machine": machine(), "calibration_ms": round(calibration, 2), "figures": accepted},
                indent=1,
                sort_keys=True,
            )
            + "\n"
        )
        print(f"accepted as the baseline: {BASELINE.relative_to(ROOT)}")
    regressions = [r for r in rows if r.regression]
    missed = [r for r in rows if r.missed]
    if failed or (regressions and not args.accept) or (args.strict and missed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
