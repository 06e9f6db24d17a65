"""Flows: the work that crosses service lines and calls outside in steps, each step a short unit of work
on the request's own session with nothing held while the outside answers. Paying for a hold (scheduling,
contracts, billing), settling owed refunds, invoicing a month (contracts, billing). Called by the edge
(controllers, the CLI); they call the lines, never the edge."""

from flows.holds import Outside, hold_with_payment, settle_refunds
from flows.invoicing import invoice_period

__all__ = ["Outside", "hold_with_payment", "invoice_period", "settle_refunds"]
