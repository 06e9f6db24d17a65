"""Schemathesis hooks for the suite's run: how to send the bodies it cannot serialise itself."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("message/rfc822")
def rfc822(_ctx: Any, value: Any) -> bytes:  # Any: schemathesis hands over the generated value
    """An e-mail body as the generated text, sent as raw bytes (the endpoint parses what it gets)."""
    return str(value).encode("utf-8", "surrogatepass")
