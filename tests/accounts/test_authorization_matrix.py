"""Every route, called by every role, anonymous, and integrations with and without scopes.

Generated from the app's route table: a new route without an access rule fails here.
"""

from __future__ import annotations

import re
import uuid

from litestar import Litestar

from accounts.roles import Role, Scope
from api.access import PUBLIC_PREFIXES, RULES, rule_for
from tests.world import World

UNAUTHENTICATED, FORBIDDEN = 401, 403


def _routes(app: Litestar) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if route.path_format.startswith(PUBLIC_PREFIXES):
            continue
        for method in sorted(getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}):
            found.append((method, route.path_format))
    return found


SAMPLE_VALUES = {"day": "2026-06-12"}  # path parameters that are not UUIDs


def _fill(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: SAMPLE_VALUES.get(m.group(1), str(uuid.uuid4())), template)


def test_every_route_has_an_access_rule(app: Litestar) -> None:
    missing = [f"{m} {p}" for m, p in _routes(app) if rule_for(m, p) is None]
    assert missing == [], f"routes without a rule in api/access.py RULES: {missing}"


def test_every_rule_names_a_real_route(app: Litestar) -> None:
    routes = {f"{m} {p}" for m, p in _routes(app)}
    assert set(RULES) - routes == set()


async def test_matrix_of_roles_and_scopes_matches_the_rules(world: World) -> None:
    org = await world.organization()
    callers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in Role:
        user = await world.user(role, org if role in {Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN} else None)
        callers[role.value] = await world.headers(user)
    every_scope, _ = await world.integration(*Scope)
    no_scope, _ = await world.integration()
    callers["client:all-scopes"] = await world.headers(every_scope)
    callers["client:no-scopes"] = await world.headers(no_scope)

    mismatches = []
    for method, template in _routes(world.app):
        rule = rule_for(method, template)
        assert rule is not None
        for name, headers in callers.items():
            if rule.public:
                allowed = True
            elif name == "anonymous":
                allowed = False
            elif name.startswith("client:"):
                allowed = name == "client:all-scopes" and bool(rule.scopes)
            else:
                allowed = Role(name) in rule.roles
            response = await world.client.request(
                method,
                _fill(template),
                headers=headers,
                json={} if method in {"POST", "PUT", "PATCH"} else None,
            )
            denied = response.status_code in {UNAUTHENTICATED, FORBIDDEN}
            expected_denial = UNAUTHENTICATED if name == "anonymous" else FORBIDDEN
            if allowed == denied or (denied and response.status_code != expected_denial and not rule.public):
                mismatches.append(f"{name} {method} {template} -> {response.status_code}")
    assert mismatches == []
