"""How deep a JSON document nests, found before anyone decodes it.

A decoder recurses once per level: a body of a few kilobytes of ``[`` makes any of them give up with a
recursion error, after spending the CPU to get there. Deskline's documents nest a handful of levels,
so anything deeper than ``MAX_JSON_DEPTH`` is refused unread: the check strips string literals (whose
brackets are text) and counts the brackets that remain, in C-speed passes over the bytes.
"""

from __future__ import annotations

import re
from itertools import accumulate

MAX_JSON_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
for _opening in b"[{":
    _STEP[_opening] = 1
for _closing in b"]}":
    _STEP[_closing] = -1


def nesting_exceeds(document: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than ``limit`` levels deep. Text that is not
    JSON at all answers as if it were (a decoder refuses it afterwards)."""
    raw = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_A_BRACKET)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return False  # every real document: no more openings than the limit, so no deeper either
    return max(accumulate(map(_STEP.__getitem__, brackets))) > limit
