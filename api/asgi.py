"""ASGI entry point for servers: ``uvicorn --factory api.asgi:create``."""

from __future__ import annotations

from litestar import Litestar

from api.app import create_app
from api.settings import load_settings


def create() -> Litestar:
    return create_app(load_settings())
