"""Every table of every area, collected on one MetaData for Alembic and the schema tests."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

import accounts.models  # noqa: F401  (registers the tables)

metadata: MetaData = SQLModel.metadata
