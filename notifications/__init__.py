"""Notifications: the catalog of events (what each one is, who is told, its mail, its webhook document),
their fan-out and delivery by ``deskline worker`` (e-mail and Standard Webhooks, at least once), and the
integrations' webhook subscriptions. The service lines raise events through their own ``notices``
modules (``core.outbox.emit``) and never import this part; it reads them."""

from notifications.catalog import CATALOG, ENTRIES, WEBHOOK_EVENT_TYPES, readme_table
from notifications.delivery import event_types, list_deliveries, redeliver
from notifications.documents import document_events
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookSubscription
from notifications.schemas import DeliveryOut, RotationIn, SubscriptionIn, SubscriptionOut
from notifications.webhooks import (
    delivery_of,
    listing,
    owned,
    rotate,
    subscribe,
    unsubscribe,
)
from notifications.worker import Worker, WorkerConfig, WorkerLockHeld, outbox_commits, sqlite_worker_lock

__all__ = [
    "CATALOG",
    "ENTRIES",
    "WEBHOOK_EVENT_TYPES",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryOut",
    "DeliveryStatus",
    "RotationIn",
    "SubscriptionIn",
    "SubscriptionOut",
    "WebhookSubscription",
    "Worker",
    "WorkerConfig",
    "WorkerLockHeld",
    "delivery_of",
    "document_events",
    "event_types",
    "list_deliveries",
    "listing",
    "outbox_commits",
    "owned",
    "readme_table",
    "redeliver",
    "rotate",
    "sqlite_worker_lock",
    "subscribe",
    "unsubscribe",
]
