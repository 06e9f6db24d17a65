"""Development stand-ins: Stripe (localstripe, with its Stripe.js card form and one-off invoices), a mail
server keeping messages as files, the outbox worker beside the server, and the demo data. Only
``deskline serve``'s development branch, the development commands, the tests and the benchmarks import
it; production code never does (an import-linter contract)."""

from devserver.demo import seed_demo
from devserver.processes import StandIn, StandInFailed, free_port, listening
from devserver.serving import Running, start, with_running_stand_ins
from devserver.stripe import pay_as_customer

__all__ = [
    "Running",
    "StandIn",
    "StandInFailed",
    "free_port",
    "listening",
    "pay_as_customer",
    "seed_demo",
    "start",
    "with_running_stand_ins",
]
