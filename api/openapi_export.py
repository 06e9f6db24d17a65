"""The exported OpenAPI document: the same one the app serves, in a stable textual form."""

from __future__ import annotations

import json

from api.app import create_app
from api.settings import Settings


def openapi_document() -> str:
    """Built from default settings so the committed file never depends on a developer's environment."""
    app = create_app(Settings.model_construct(), configure_logs=False)
    return json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True, ensure_ascii=False)
