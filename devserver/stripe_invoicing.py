"""What Deskline asks of Stripe for invoices, taught to the development stand-in (localstripe 1.15 only
makes subscription invoices from pending items): a one-off invoice created empty for ``send_invoice``
collection with ``days_until_due`` and its own currency, each line added to it by an invoice item that
names it, then finalised and sent, as Stripe's API does them. Loaded into the localstripe process by
its launcher; it imports nothing of Deskline's."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

COLLECTION_METHODS = ("charge_automatically", "send_invoice")
PENDING_ITEMS = ("include", "exclude")
DAY = 86_400


def _invoice_create(original: Any) -> Any:  # Any: localstripe's untyped classes
    from localstripe.resources import Invoice, InvoiceItem, UserError, try_convert_to_int

    def create(
        cls: Any,
        /,
        customer: Any = None,
        subscription: Any = None,
        collection_method: Any = None,
        days_until_due: Any = None,
        pending_invoice_items_behavior: Any = None,
        currency: Any = None,
        auto_advance: Any = None,
        **kwargs: Any,
    ) -> Any:
        if subscription is not None:  # localstripe's own subscription invoices, as before
            return original(customer=customer, subscription=subscription, **kwargs)
        days = try_convert_to_int(days_until_due)
        method = collection_method or "charge_automatically"
        if method not in COLLECTION_METHODS or pending_invoice_items_behavior not in (None, *PENDING_ITEMS):
            raise UserError(400, "Bad request")
        if (method == "send_invoice") != (days is not None) or (days is not None and days < 0):
            raise UserError(400, "days_until_due is required with send_invoice collection, and only then")
        if currency is not None and (not isinstance(currency, str) or len(currency) != 3):
            raise UserError(400, "Bad request")
        # "exclude": the customer's pending items stay pending (localstripe would take them all).
        held = []
        if pending_invoice_items_behavior == "exclude" and isinstance(customer, str):
            held = [
                item
                for item in InvoiceItem._api_list_all(None, customer=customer, limit=99)._list
                if item.invoice is None
            ]
            for item in held:
                item.invoice = "in_held_back"
        try:
            invoice = Invoice(customer=customer, **kwargs)
        finally:
            for item in held:
                item.invoice = None
        invoice.collection_method = method
        invoice.days_until_due = days
        invoice.due_date = invoice.date + days * DAY if days is not None else None
        invoice.auto_advance = auto_advance not in ("false", False)
        if currency is not None:
            invoice.currency = currency.lower()
        return invoice

    return classmethod(create)


def _item_init(original: Any) -> Any:  # Any: localstripe's untyped classes
    from localstripe.resources import Invoice, InvoiceLineItem, UserError

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        invoice_id = kwargs.get("invoice")
        invoice = Invoice._api_retrieve(invoice_id) if isinstance(invoice_id, str) else None
        if invoice is not None and invoice.status != "draft":
            raise UserError(400, f"Invoice {invoice_id} is not a draft: its lines cannot change")
        original(self, *args, **kwargs)
        if invoice is not None:  # an item that names its invoice is one of its lines at once
            if self.currency.lower() != invoice.currency.lower():
                raise UserError(400, "The item's currency differs from the invoice's")
            invoice.lines._list.append(InvoiceLineItem(self))

    return init


def finalize(id: str, **kwargs: Any) -> Any:  # Any: localstripe's untyped objects
    from localstripe.resources import Invoice, UserError

    invoice = Invoice._api_retrieve(id)
    if invoice.status != "draft":
        raise UserError(400, "This invoice is already finalized")
    invoice._finalize()
    return invoice


def send(id: str, **kwargs: Any) -> Any:  # Any: localstripe's untyped objects
    from localstripe.resources import Invoice, UserError

    invoice = Invoice._api_retrieve(id)
    if invoice.collection_method != "send_invoice" or invoice.status not in ("open", "paid"):
        raise UserError(400, "Only a finalized invoice collected by send_invoice can be sent")
    invoice.status_transitions.setdefault("sent_at", int(time.time()))
    return invoice


def install(app: web.Application) -> None:
    """Teach localstripe's classes the parameters above and add the finalize and send routes (before
    the app starts)."""
    from localstripe.resources import Invoice, InvoiceItem
    from localstripe.server import api_extra

    Invoice._api_create = _invoice_create(Invoice._api_create)
    InvoiceItem.__init__ = _item_init(InvoiceItem.__init__)
    for name, action in (("finalize", finalize), ("send", send)):
        url = f"/v1/invoices/{{id}}/{name}"
        app.router.add_route("POST", url, api_extra(action, url))
