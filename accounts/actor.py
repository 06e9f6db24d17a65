"""The authenticated caller as domain code sees it: a user with a role, or a client with scopes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from accounts.roles import CUSTOMER_ROLES, STAFF_ROLES, Role

ActorKind = Literal["user", "client", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: uuid.UUID
    role: Role | None = None
    organization_id: uuid.UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    email: str | None = None

    @property
    def is_staff(self) -> bool:
        """Vendor staff and integrations see across organisations; customers see only their own."""
        return self.kind != "user" or self.role in STAFF_ROLES

    @property
    def is_customer(self) -> bool:
        return self.kind == "user" and self.role in CUSTOMER_ROLES

    @property
    def is_system(self) -> bool:
        """The command line and internal jobs: trusted, acting for nobody in particular."""
        return self.kind == "system"

    def has_role(self, *roles: Role) -> bool:
        return self.kind == "user" and self.role in roles


SYSTEM_ACTOR = Actor(kind="system", id=uuid.UUID(int=0))
