"""What a benchmark reports to ``make bench``: named figures, each with its unit, which way is better,
and the target it must meet (if any), written as JSON to the file ``--json`` names."""

from __future__ import annotations

import json
import socket
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


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on now (so a benchmark never collides with a running server),
    never one this process handed out before: the kernel may give the same free port to two probes in
    a row, and two servers told one port cannot both start. The tests' harness uses it too."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
