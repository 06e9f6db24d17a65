"""What a benchmark reports to ``make bench``: named figures, each with its unit, which way is better,
and the target it must meet (if any), written as JSON to the file ``--json`` names."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Better = Literal["higher", "lower"]


@dataclass(frozen=True)
class Figure:
    name: str  # unique across the benchmarks, e.g. "availability median (sqlite)"
    value: float
    unit: str  # "ms", "us", "1/s", "ratio", "x"
    better: Better
    target: float | None = None  # the value it must reach (>= when higher is better, < when lower)
    # Whether the figure scales with the CPU (a time or a rate) or not (a ratio of two rates measured
    # side by side, or a count): only the former is corrected by the calibration.
    cpu_bound: bool = True
    # Whether it is compared with the baseline. A tail latency (a p95, a p99) is held to its target only:
    # between runs of the same code on a shared machine it moves by a half (a p99 of tens of ms read
    # 35 to 61), where a median or a rate stays within the 20 % that makes a regression.
    compared: bool = True

    def meets_target(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.better == "higher" else self.value < self.target


def write_figures(path: str | None, figures: list[Figure]) -> None:
    """Append ``figures`` to the JSON list in ``path`` (a benchmark run by ``make bench``); nothing when
    run by hand without ``--json``."""
    if path is None:
        return
    file = Path(path)
    known = json.loads(file.read_text()) if file.exists() else []
    file.write_text(json.dumps(known + [asdict(f) for f in figures], indent=1))


def read_figures(path: Path) -> list[Figure]:
    return [Figure(**raw) for raw in json.loads(path.read_text())] if path.exists() else []
