"""Development stand-ins: Stripe (localstripe, with its Stripe.js card form and one-off invoices), a mail
server keeping messages as files, the outbox worker beside the server, and the demo data. Only
``deskline serve``'s development branch, the development commands and the tests import it; production
code never does (an import-linter contract)."""

from devserver.processes import StandIn, StandInFailed, listening
from devserver.serving import Running, start, with_running_stand_ins

__all__ = ["Running", "StandIn", "StandInFailed", "listening", "start", "with_running_stand_ins"]
