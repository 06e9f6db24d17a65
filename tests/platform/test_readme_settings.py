"""Every setting the code reads is in the README's tables, and every setting the README names exists:
the README is the operator's reference."""

from __future__ import annotations

import re
from pathlib import Path

from api.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _documented() -> set[str]:
    names: set[str] = set()
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `DESKLINE_"):
            names |= set(re.findall(r"`(DESKLINE_[A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_readme_tables_name_exactly_the_settings_the_code_reads() -> None:
    prefix = Settings.model_config.get("env_prefix", "")
    assert prefix == "DESKLINE_"
    read = {prefix + name.upper() for name in Settings.model_fields}
    documented = _documented()
    assert sorted(read - documented) == [], "settings missing from the README"
    assert sorted(documented - read) == [], "README rows for settings that do not exist"
