"""Who may be who: user roles and integration scopes."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CUSTOMER_USER = "customer_user"
    CUSTOMER_ADMIN = "customer_admin"
    SUPPORT_ENGINEER = "support_engineer"
    SUPPORT_LEAD = "support_lead"
    SALES = "sales"
    ADMIN = "admin"


CUSTOMER_ROLES = frozenset({Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN})
STAFF_ROLES = frozenset(set(Role) - CUSTOMER_ROLES)


class Scope(StrEnum):
    """What an integration client may do; each scope names an area and a verb."""

    ORGANIZATIONS_READ = "organizations:read"
    ORGANIZATIONS_WRITE = "organizations:write"
    PURCHASES_WRITE = "purchases:write"
    SUPPORT_INBOUND_EMAIL = "support:inbound-email"
    SUPPORT_READ = "support:read"
    BOOKINGS_READ = "bookings:read"
    BOOKINGS_WRITE = "bookings:write"
    BILLING_READ = "billing:read"
    CONTRACTS_READ = "contracts:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    AUDIT_READ = "audit:read"


SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.ORGANIZATIONS_READ: "Read organizations, their users, purchases and eligibility",
    Scope.ORGANIZATIONS_WRITE: "Create and update organizations and their users",
    Scope.PURCHASES_WRITE: "Record purchases (one by one or in bulk)",
    Scope.SUPPORT_INBOUND_EMAIL: "Forward inbound e-mail to basic support",
    Scope.SUPPORT_READ: "Read basic support tickets",
    Scope.BOOKINGS_READ: "Read remote-session bookings",
    Scope.BOOKINGS_WRITE: "Create and change remote-session bookings",
    Scope.BILLING_READ: "Read payments and invoices",
    Scope.CONTRACTS_READ: "Read SLA contracts and reports",
    Scope.WEBHOOKS_MANAGE: "Manage webhook subscriptions",
    Scope.AUDIT_READ: "Read the audit log",
}
