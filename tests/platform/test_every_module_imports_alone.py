"""No import cycles, provably: every module of the application imports on its own, first.

A cycle hides as long as some other module happens to be imported first (``contracts.sla`` once
failed alone and worked inside the app). One child interpreter loads only the third-party libraries
our code uses, then forks once per module of ours; each fork starts with none of our modules loaded
and imports exactly one, so the order of the suite cannot hide a cycle, and the whole check costs
one interpreter start instead of two hundred.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARTS = (
    *("core", "accounts", "support", "scheduling", "billing", "contracts", "notifications", "flows", "api"),
    *("devserver", "benchmarks"),
)

CHILD = r"""
import importlib, json, os, sys, traceback
modules, third_party = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for name in third_party:
    try:
        importlib.import_module(name)
    except ImportError:
        pass
failures = {}
for module in modules:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(module)
            message = b""
        except BaseException:
            message = traceback.format_exc().encode()
        os.write(write, message)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    if message:
        failures[module] = message.decode()
print(json.dumps(failures))
"""


def _modules() -> list[str]:
    names = []
    for part in PARTS:
        for path in sorted((ROOT / part).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names.append(".".join(parts))
    return names


def _third_party(modules: list[str]) -> list[str]:
    ours = {module.split(".")[0] for module in modules}
    found: set[str] = set()
    for module in modules:
        path = ROOT.joinpath(*module.split("."))
        source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return sorted(name for name in found if name.split(".")[0] not in ours)


def test_every_module_of_the_application_imports_alone_in_a_fresh_interpreter() -> None:
    modules = _modules()
    assert "contracts.sla" in modules
    assert "benchmarks.sla_report" in modules
    result = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", CHILD, json.dumps(modules), json.dumps(_third_party(modules))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n".join(f"{name}:\n{trace}" for name, trace in failures.items())
